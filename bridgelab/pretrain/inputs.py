"""Open and cross-check a run's inputs before any training: tokenizer, shards, init weights,
existing run folder. Every mismatch is a clear error raised on every rank, before anything is
written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgelab.config import config_hash
from bridgelab.contracts.markers import is_done
from bridgelab.contracts.provenance import refuse_if_stale
from bridgelab.contracts.runs import read_export_info
from bridgelab.contracts.shards import TokenCorpus
from bridgelab.contracts.tokenizer import load_tokenizer
from bridgelab.errors import ConfigError, DataError, RunFolderError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.data_order import StepOrder
from bridgelab.pretrain.model import model_vocab_size, qwen2_config

# keys that may change between an interrupted run and its resumption
RESUMABLE_KEYS = ("out_dir", "resume", "device", "threads", "checkpoint", "log", "estimate")
# architecture keys compared between the config and an init_from checkpoint
ARCH_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
             "intermediate_size", "vocab_size", "tie_word_embeddings")  # fmt: skip


def run_config_hash(cfg: PretrainConfig) -> str:
    """What identifies a run: everything but where it lives and how it logs and checkpoints."""
    return config_hash(cfg, exclude=RESUMABLE_KEYS)


@dataclass
class RunInputs:
    tokenizer: Any
    tokenizer_info: dict[str, Any]
    corpus: TokenCorpus
    order: StepOrder
    vocab_size: int
    model_config: Any  # transformers.Qwen2Config


def open_inputs(cfg: PretrainConfig) -> RunInputs:
    if not cfg.tokenizer:
        raise ConfigError("tokenizer: required (the tokenizer folder the shards were made with)")
    if not cfg.data.path:
        raise ConfigError("data.path: required (a token shard folder)")
    tokenizer, info = load_tokenizer(cfg.tokenizer)
    corpus = TokenCorpus(cfg.data.path)
    manifest = Path(cfg.data.path) / "manifest.json"
    if corpus.tokenizer_hash != info["hash"]:
        raise DataError(
            f"{manifest}: shards were written with tokenizer {corpus.tokenizer_hash[:12]}, "
            f"but tokenizer {cfg.tokenizer} has hash {info['hash'][:12]}"
        )
    if corpus.vocab_size != info["vocab_size"]:
        raise DataError(
            f"{manifest}: vocab_size {corpus.vocab_size} differs from the tokenizer's "
            f"{info['vocab_size']} ({cfg.tokenizer})"
        )
    # a corrupt shard must fail here, before a run folder exists, not as an IndexError mid-run
    corpus.check_token_ids(info["vocab_size"])
    order = StepOrder(corpus.num_windows(cfg.data.seq_len), cfg.train.global_batch_size, cfg.seed)
    epochs = order.epochs_needed(cfg.train.steps)
    if epochs > cfg.data.max_epochs:
        raise DataError(
            f"{cfg.data.path}: too little data: {cfg.train.steps} steps x "
            f"{cfg.train.global_batch_size} sequences need {epochs:.2f} passes over its "
            f"{order.num_windows} windows of {cfg.data.seq_len + 1} tokens, but data.max_epochs "
            f"is {cfg.data.max_epochs}"
        )
    vocab = model_vocab_size(info["vocab_size"], cfg.model)
    mconfig = qwen2_config(cfg.model, vocab, eos_id=info["eos_id"])
    if cfg.init_from:
        check_init_from(cfg, mconfig, info)
    return RunInputs(tokenizer, info, corpus, order, vocab, mconfig)


def check_init_from(cfg: PretrainConfig, mconfig: Any, tok_info: dict[str, Any]) -> None:
    """The init checkpoint must have this config's architecture and this run's tokenizer."""
    folder = Path(cfg.init_from)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise DataError(f"init_from: {folder} is not an HF checkpoint folder (no config.json)")
    theirs = json.loads(config_file.read_text(encoding="utf-8"))
    for key in ARCH_KEYS:
        if theirs.get(key) != getattr(mconfig, key):
            raise ConfigError(
                f"init_from: {config_file} has {key}={theirs.get(key)!r} but the config's model "
                f"(preset {cfg.model.preset!r}) has {getattr(mconfig, key)!r}"
            )
    their_hash = read_export_info(folder).get("tokenizer_hash")
    if their_hash is not None and their_hash != tok_info["hash"]:
        raise DataError(
            f"init_from: {folder} was trained with tokenizer {their_hash[:12]}, not "
            f"{cfg.tokenizer} ({tok_info['hash'][:12]})"
        )


def check_run_folder(cfg: PretrainConfig, chash: str, force: bool) -> str:
    """What to do with ``out_dir``: 'skip' (finished, same config), 'new' or 'continue'.

    A folder holding another config's run (finished or not) is an error without ``force``.
    """
    out = Path(cfg.out_dir)
    saved = out / "run.json"
    if not saved.is_file():
        if out.is_dir() and any(out.iterdir()) and not force:
            raise RunFolderError(
                f"{out} exists, is not empty and holds no bridgelab run; choose another out_dir "
                f"or pass --force to move it aside"
            )
        return "new"
    same = json.loads(saved.read_text(encoding="utf-8")).get("config_hash") == chash
    if force:
        return "new"
    if not same:
        what = "finished" if is_done(out) else "unfinished"
        raise RunFolderError(
            f"{out} holds a {what} run of another config (see {out / 'config.yaml'}); choose "
            f"another out_dir, or pass --force to move it aside"
        )
    if is_done(out):
        # the same config, but its shards or init checkpoint may have been rebuilt since
        refuse_if_stale(out, "run")
        return "skip"
    return "continue"
