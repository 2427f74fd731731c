"""`bridgelab pretrain --config FILE [key=value ...] [--dry-run] [--force]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bridgelab.pretrain.config import PretrainConfig
from bridgelab.stage import add_config_args, load_stage_config, print_dry_run

EXIT_PREEMPTED = 75  # EX_TEMPFAIL: the state is saved; run the same command again to resume


def _tokenizer_vocab(cfg: PretrainConfig) -> tuple[int | None, str]:
    info = Path(cfg.tokenizer) / "bridgelab_tokenizer.json" if cfg.tokenizer else None
    if info is not None and info.is_file():
        return int(json.loads(info.read_text(encoding="utf-8"))["vocab_size"]), str(info.parent)
    return None, "tokenizer not built yet"


def plan(cfg: PretrainConfig) -> list[str]:
    """Model size, tokens, steps and a GPU-hours estimate (FLOPs/token over an assumed MFU)."""
    from bridgelab.pretrain.model import (
        flops_per_token,
        model_vocab_size,
        parameter_counts,
        qwen2_config,
    )

    tok_vocab, where = _tokenizer_vocab(cfg)
    if tok_vocab is None:
        # Qwen2.5's vocabulary for the paper preset; a small BPE's size otherwise
        tok_vocab = 151_665 if cfg.model.preset == "qwen2.5-0.5b" else 8000
        where += f"; assuming {tok_vocab:,} tokens"
    vocab = model_vocab_size(tok_vocab, cfg.model)
    mconfig = qwen2_config(cfg.model, vocab)
    counts = parameter_counts(mconfig)
    fpt = flops_per_token(mconfig, cfg.data.seq_len)
    t = cfg.train
    tokens = t.steps * t.global_batch_size * cfg.data.seq_len
    est = cfg.estimate
    gpu_hours = fpt * tokens / (est.peak_tflops * 1e12 * est.mfu) / 3600
    return [
        f"model {cfg.model.preset}: {counts['total']:,} parameters "
        f"({counts['non_embedding']:,} non-embedding), vocab {vocab:,} ({where})",
        f"{fpt / 1e9:.3f} GFLOPs per token at seq_len {cfg.data.seq_len}",
        f"{t.steps:,} steps x {t.global_batch_size} sequences x {cfg.data.seq_len} tokens = "
        f"{tokens:,} tokens ({tokens / 1e9:.3f} B)",
        f"estimate: {gpu_hours:,.1f} GPU-hours at {est.mfu:.0%} MFU of {est.peak_tflops:g} "
        f"TFLOP/s per GPU ({fpt * tokens:.3g} FLOPs in all)",
        f"init: {cfg.init_from or 'random (seed ' + str(cfg.seed) + ')'}; resume: {cfg.resume}",
        f"write {cfg.out_dir}/ (config.yaml, ds_config.json, metrics.jsonl, hf/, ds/, DONE)",
    ]


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_args(parser)


def main(args: argparse.Namespace) -> int:
    cfg = load_stage_config(args, PretrainConfig)
    if args.dry_run:
        print_dry_run(cfg, plan(cfg))
        return 0
    from bridgelab.pretrain.trainer import Preempted, run

    try:
        out = run(cfg, force=args.force)
    except Preempted as exc:
        print(f"bridgelab pretrain: {exc}; run the same command to resume", file=sys.stderr)
        return EXIT_PREEMPTED
    print(out)
    return 0
