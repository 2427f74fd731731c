"""A tiny word-level tokenizer and Markov-chain token shards, for tests, benchmarks and smoke
runs of the trainer without a corpus stage.

The documents come from a seeded first-order Markov chain over a small vocabulary, so a model
can learn them (its loss falls towards the chain's entropy) and every run is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bridgelab.contracts.shards import token_dtype, write_manifest, write_shard
from bridgelab.contracts.tokenizer import EOS_TOKEN, load_tokenizer, save_tokenizer


def make_tokenizer(out_dir: str | Path, num_words: int = 250) -> Path:
    """A word-level tokenizer of ``num_words`` words ("w0" ...) plus EOS (id 0)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {EOS_TOKEN: 0, **{f"w{i}": i + 1 for i in range(num_words)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token=EOS_TOKEN))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token=EOS_TOKEN, pad_token=EOS_TOKEN
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_tokenizer(tok, out, f"synthetic:words={num_words}")
    return out


def markov_texts(
    num_docs: int, num_words: int, seed: int, doc_len: tuple[int, int] = (20, 80)
) -> list[str]:
    """Documents drawn from a sparse random Markov chain: each word has 3 likely successors."""
    rng = np.random.default_rng(seed)
    successors = rng.integers(0, num_words, size=(num_words, 3))
    texts = []
    for _ in range(num_docs):
        word = int(rng.integers(num_words))
        words = [word]
        for _ in range(int(rng.integers(*doc_len)) - 1):
            word = int(successors[word, rng.integers(3)])
            words.append(word)
        texts.append(" ".join(f"w{w}" for w in words))
    return texts


def make_shards(
    out_dir: str | Path, tokenizer_dir: str | Path, texts: list[str], docs_per_shard: int = 200
) -> Path:
    """Tokenize ``texts`` (EOS appended) into shards with a manifest naming the tokenizer."""
    tokenizer, info = load_tokenizer(tokenizer_dir)
    dtype = token_dtype(info["vocab_size"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shards = []
    for index, start in enumerate(range(0, len(texts), docs_per_shard)):
        chunk = texts[start : start + docs_per_shard]
        ids = tokenizer(chunk, add_special_tokens=False)["input_ids"]
        tokens = [np.array([*row, info["eos_id"]], dtype=np.int64) for row in ids]
        docs = [{"id": f"doc{start + i}"} for i in range(len(chunk))]
        shards.append(write_shard(out, index, tokens, docs, dtype))
    write_manifest(out, shards=shards, vocab_size=info["vocab_size"], eos_id=info["eos_id"],
                   tokenizer_hash=info["hash"])  # fmt: skip
    return out


def make_inputs(
    root: str | Path, num_docs: int = 400, num_words: int = 250, seed: int = 0
) -> tuple[Path, Path]:
    """(tokenizer folder, shard folder) under ``root``."""
    root = Path(root)
    tok = make_tokenizer(root / "tokenizer", num_words)
    shards = make_shards(root / "shards", tok, markov_texts(num_docs, num_words, seed))
    return tok, shards
