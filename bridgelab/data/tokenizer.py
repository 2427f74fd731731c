"""Tokenizers: train a byte-level BPE on a declared mixture, load a local HF folder, or build
the paper's Qwen tokenizer offline from ``qwen.tiktoken``.

Whatever the origin, the result is a Hugging Face tokenizer folder (loadable with
``AutoTokenizer.from_pretrained``) plus ``bridgelab_tokenizer.json`` holding the sha256 of the
canonical ``tokenizer.json``; shards and checkpoints record that hash, so a model is never
paired with a tokenizer it was not trained with.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bridgelab.config import Config, config_hash, param
from bridgelab.contracts.markers import done_with_config, is_done, mark_done, prepare_run_folder
from bridgelab.contracts.provenance import lineage
from bridgelab.contracts.tokenizer import EOS_TOKEN, INFO_FILE, load_hf_folder, save_tokenizer
from bridgelab.data.readers import SourceConfig, read_source, resolve_sources
from bridgelab.errors import ConfigError, DataError, RunFolderError
from bridgelab.stage import Step

log = logging.getLogger(__name__)

# Qwen2/Qwen2.5 pre-tokenization (SOURCES.md): like GPT-4's but with single digits.
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Qwen2.5's special tokens, ids 151643..151664 in this order.
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
]  # fmt: skip


@dataclass
class TokenizerConfig(Config):
    """`bridgelab tokenizer`: where the tokenizer comes from and where its folder goes."""

    out_dir: str = param("runs/tokenizer", help="output tokenizer folder")
    kind: Literal["bpe", "hf", "tiktoken"] = param(
        "bpe",
        help="bpe: train byte-level BPE on `corpora`; hf: copy a local HF tokenizer folder; "
        "tiktoken: build the Qwen tokenizer from a .tiktoken rank file",
    )
    path: str = param("", help="hf: the tokenizer folder; tiktoken: the qwen.tiktoken file")
    data_root: str = param("", help="folder that relative corpus paths are resolved against")
    corpora: list[SourceConfig] = param([], help="bpe: the training mixture (every study language)")
    vocab_size: int = param(8000, help="bpe: vocabulary size including byte and special tokens")
    min_frequency: int = param(2, help="bpe: minimum pair frequency for a merge")
    prefix_space: bool = param(
        False,
        help="bpe: encode every text with a leading space (GPT-2's add_prefix_space, Llama's "
        "leading '▁'), so a text's first word gets the same tokens as mid-sentence; "
        "false: Qwen's behaviour",
    )
    isolate: str = param(
        "",
        help="bpe: a regex whose every match is its own pre-token, never merged with its "
        "neighbours (e.g. '\\p{Han}': at most one Chinese character per token); '': none",
    )
    clone_script: str = param(
        "",
        help="bpe: also give every English token a twin in this script (Han, Hangul, Mongolian, "
        "Yi), the token-level clone of English (bridgelab.contracts.clone): clone texts in `corpora` "
        "are left out of BPE training and checked to tokenize token by token like their "
        "English; '': no clone",
    )
    skip_bad: bool = param(False, help="skip (and count) malformed corpus records")

    def validate(self) -> None:
        super().validate()
        if self.clone_script:
            import regex

            from bridgelab.contracts.clone import check_script, inverse_map

            if self.kind != "bpe":
                raise ConfigError("clone_script: only a trained BPE (kind: bpe) can hold a clone")
            check_script(self.clone_script)
            clone_chars = "".join(inverse_map(self.clone_script))
            if self.isolate and regex.search(self.isolate, clone_chars):
                raise ConfigError(
                    f"isolate: {self.isolate!r} matches characters of the {self.clone_script} "
                    "clone, whose tokens must merge as English's do; narrow it"
                )
        if self.isolate:
            import regex

            try:
                regex.compile(self.isolate)
            except regex.error as exc:
                raise ConfigError(f"isolate: not a valid regex {self.isolate!r} ({exc})") from None
        if self.kind == "bpe":
            if not self.corpora:
                raise ConfigError("corpora: training a BPE needs at least one corpus")
            if self.vocab_size < 300:
                raise ConfigError(
                    "vocab_size: must be at least 300 (256 bytes + specials + merges)"
                )
        elif not self.path:
            raise ConfigError(f"path: required when kind is '{self.kind}'")


def _hf_tokenizer_class():
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast


def _iter_texts(cfg: TokenizerConfig, clones: list[str] | None = None) -> Iterator[str]:
    """The training texts; with a clone script, clone texts go to ``clones`` instead (their
    tokens are mirrored from English, not learnt)."""
    from bridgelab.contracts.clone import has_clone_chars

    for source in resolve_sources(cfg.corpora, cfg.data_root):
        for doc in read_source(source, skip_bad=cfg.skip_bad):
            if clones is not None and has_clone_chars(doc.text, cfg.clone_script):
                clones.append(doc.text)
            else:
                yield doc.text


def train_tokenizer(cfg: TokenizerConfig):
    """Train a byte-level BPE (Qwen-style pre-tokenization, NFC) on the declared corpora.

    Returns a ``tokenizers.Tokenizer`` whose only special token is ``<|endoftext|>`` (id 0 +
    nothing else), so the vocabulary is fixed before any pretraining.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    if cfg.prefix_space:
        # A probe question starts its text, so its first word (in SOV languages, the subject)
        # would otherwise be cut into byte pieces never seen mid-document in a small vocabulary.
        tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Prepend(" ")])
    splits = [pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated")]
    if cfg.isolate:
        # Text without spaces (Chinese) is one pre-token per clause, so BPE on a small corpus
        # whose facts repeat verbatim learns subject+object merges: a probe's right answer then
        # tokenizes unlike its distractors. Qwen's merges come from a huge corpus; not here.
        splits.append(pre_tokenizers.Split(Regex(cfg.isolate), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [*splits, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    if cfg.prefix_space:  # decode(encode(text)) == text
        tok.decoder = decoders.Sequence([decoders.ByteLevel(), decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        min_frequency=cfg.min_frequency,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=True,
    )
    clones: list[str] | None = [] if cfg.clone_script else None
    tok.train_from_iterator(_iter_texts(cfg, clones), trainer=trainer)
    if cfg.clone_script:
        tok = _add_clone(tok, cfg, clones or [])
    return tok


def _add_clone(tok: Any, cfg: TokenizerConfig, clone_texts: list[str]) -> Any:
    """Mirror every English token into ``cfg.clone_script`` and prove the mirror exact on the
    corpora: English documents and the clone documents left out of training."""
    from tokenizers import Tokenizer

    from bridgelab.contracts.clone import mirror_bpe, verify_mirror

    data = json.loads(tok.to_str())
    added = mirror_bpe(data, cfg.clone_script)
    tok = Tokenizer.from_str(json.dumps(data, ensure_ascii=False))
    english = [
        doc.text
        for source in resolve_sources([c for c in cfg.corpora if c.lang == "en"], cfg.data_root)
        for doc in read_source(source, skip_bad=cfg.skip_bad)
    ]
    hf = _hf_tokenizer_class()(tokenizer_object=tok, eos_token=EOS_TOKEN, pad_token=EOS_TOKEN)
    n = verify_mirror(hf, english + clone_texts, cfg.clone_script, where="tokenizer corpora")
    log.info(
        "clone (%s): %d tokens added; %d English and %d clone texts (%d tokens) tokenize "
        "token by token alike",
        cfg.clone_script, added, len(english), len(clone_texts), n,
    )  # fmt: skip
    return tok


def build_qwen_tokenizer(tiktoken_file: str | Path):
    """The paper's Qwen2.5 tokenizer from its tiktoken ranks, with transformers' converter."""
    from tokenizers import normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    path = Path(tiktoken_file)
    if not path.is_file():
        raise DataError(f"tiktoken rank file not found: {path}")
    try:
        tok = TikTokenConverter(
            str(path), pattern=QWEN_PATTERN, extra_special_tokens=QWEN_SPECIAL_TOKENS
        ).converted()
    except Exception as exc:  # base64/int parse errors from a corrupt rank file
        raise DataError(f"{path}: not a readable tiktoken rank file ({exc})") from None
    tok.normalizer = normalizers.NFC()
    if tok.token_to_id(EOS_TOKEN) != 151643:
        raise DataError(f"{path}: expected 151,643 ranks so that {EOS_TOKEN} gets id 151643")
    return tok


def build(cfg: TokenizerConfig) -> tuple[Any, str]:
    """The HF tokenizer the config describes, and a one-line description of its source."""
    cls = _hf_tokenizer_class()
    if cfg.kind == "hf":
        return load_hf_folder(Path(cfg.path)), f"hf:{cfg.path}"
    if cfg.kind == "tiktoken":
        backend, source = build_qwen_tokenizer(cfg.path), f"tiktoken:{Path(cfg.path).name}"
    else:
        backend = train_tokenizer(cfg)
        langs = ",".join(sorted({c.lang for c in cfg.corpora}))
        source = f"bpe:vocab={cfg.vocab_size}:langs={langs}"
        if cfg.clone_script:
            source += f":clone={cfg.clone_script}"
    return cls(tokenizer_object=backend, eos_token=EOS_TOKEN, pad_token=EOS_TOKEN), source


def run(cfg: TokenizerConfig, *, force: bool = False) -> Path:
    """Build and save the tokenizer folder; skip when it is already done with this config."""
    out = Path(cfg.out_dir)
    chash = config_hash(cfg, exclude=("out_dir",))
    if done_with_config(out, chash, force=force, what="tokenizer"):
        return out
    if out.exists() and any(out.iterdir()) and not is_done(out) and not force:
        raise RunFolderError(f"{out} exists and is not empty; choose another out_dir or --force")
    out = prepare_run_folder(out, force=force, what="tokenizer")
    inputs = lineage(cfg)
    tokenizer, source = build(cfg)
    clone = cfg.clone_script if cfg.kind == "bpe" else ""
    info = save_tokenizer(tokenizer, out, source, clone_script=clone)
    cfg.dump(out / "bridgelab_config.yaml")
    # the tokenizer's own hash is its identity: a rebuild with identical merges changes nothing
    mark_done(out, {"config_hash": chash, "hash": info["hash"], "id": info["hash"][:16],
                    "inputs": inputs})  # fmt: skip
    log.info("tokenizer %s: vocab %d, hash %s", out, info["vocab_size"], info["hash"][:12])
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip-bad", action="store_true", help="same as skip_bad=true: skip and count bad records"
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    if args.skip_bad:
        args.overrides = [*(args.overrides or []), "skip_bad=true"]
    return {}


def plan(cfg: TokenizerConfig) -> list[Step]:
    what = {
        "bpe": f"train a byte-level BPE of {cfg.vocab_size} tokens on "
        f"{len(cfg.corpora)} corpora ({', '.join(c.lang for c in cfg.corpora)})",
        "hf": f"copy the HF tokenizer folder {cfg.path}",
        "tiktoken": f"build the Qwen tokenizer from {cfg.path}",
    }[cfg.kind]
    return [Step(what), Step(f"write the tokenizer (tokenizer.json, {INFO_FILE})", out=cfg.out_dir)]
