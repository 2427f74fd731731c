"""`CountConfig`: which corpora, which strings, which tokenizer, where to write."""

from __future__ import annotations

from dataclasses import dataclass

from bridgelab.config import Config, check_corpus_selection, param
from bridgelab.errors import ConfigError


@dataclass
class CountConfig(Config):
    out_dir: str = param("runs/count", help="output folder")
    world: str | None = param(
        None,
        help="synthetic world folder: its corpora (tokenized here into shards), its facts "
        "(subject and answer in each language) and its ground truth fill what is left empty",
    )
    corpora: dict[str, str] = param(
        {},
        help="corpus name -> token-shard folder of `bridgelab prepare` (indexed as it is) or "
        "Document JSONL (.gz/.xz; tokenized into <out_dir>/shards/<name>/ first)",
    )
    corpus_langs: dict[str, str] = param(
        {}, help="corpus name -> language (default: the name itself)"
    )
    tokenizer: str = param(
        "runs/tokenizer",
        help="tokenizer folder: encodes the query strings (and JSONL corpora); must be the one "
        "the shards were made with (checked by hash)",
    )
    probes: list[str] = param(
        [],
        help="probe files (ProbeItem JSONL or the paper's sets): their answers are counted "
        "(answer only: a real probe names no subject); empty with a world: the world's facts",
    )
    shard_docs: int = param(2000, help="documents per shard when tokenizing a JSONL corpus")

    def lang_of(self, corpus: str) -> str:
        return self.corpus_langs.get(corpus, corpus)

    def validate(self) -> None:
        super().validate()
        check_corpus_selection(self)
        if self.shard_docs < 1:
            raise ConfigError("shard_docs: must be at least 1")
