"""`bridgelab pretrain`: plan and run of a pretraining (or CPT) run. Light: the trainer, and with
it torch and DeepSpeed, is imported only when the run starts."""

from __future__ import annotations

from pathlib import Path

from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.estimate import Estimate, estimate
from bridgelab.stage import Step


def compute(e: Estimate, runs: int = 1) -> dict[str, float]:
    return {"tokens": e.tokens * runs, "gpu_hours": e.gpu_hours * runs,
            "disk_bytes": e.disk_bytes * runs}  # fmt: skip


def estimate_steps(cfg: PretrainConfig) -> list[Step]:
    """Model size, tokens, FLOPs and GPU-hours of the run (FLOPs/token over an assumed MFU)."""
    e, t, est = estimate(cfg), cfg.train, cfg.estimate
    # "compute" is what `bridgelab study --dry-run` adds up over its training stages
    numbers = {"parameters": e.parameters, "non_embedding": e.non_embedding, "vocab": e.vocab,
               "flops_per_token": e.flops_per_token, "compute": compute(e)}  # fmt: skip
    return [
        Step(
            f"model {cfg.model.preset}: {e.parameters:,} parameters ({e.non_embedding:,} "
            f"non-embedding), vocab {e.vocab:,} ({e.vocab_note})",
            data=numbers,
        ),  # fmt: skip
        Step(f"{e.flops_per_token / 1e9:.3f} GFLOPs per token at seq_len {cfg.data.seq_len}"),
        Step(
            f"{t.steps:,} steps x {t.global_batch_size} sequences x {cfg.data.seq_len} tokens = "
            f"{e.tokens:,} tokens ({e.tokens / 1e9:.3f} B)"
        ),  # fmt: skip
        Step(
            f"estimate: {e.gpu_hours:,.1f} GPU-hours at {est.mfu:.0%} MFU of "
            f"{est.peak_tflops:g} TFLOP/s per GPU ({e.flops:.3g} FLOPs in all)"
        ),  # fmt: skip
    ]


def plan(cfg: PretrainConfig) -> list[Step]:
    return [
        *estimate_steps(cfg),
        Step(
            f"init: {cfg.init_from or 'random (seed ' + str(cfg.seed) + ')'}; resume: {cfg.resume}"
        ),  # fmt: skip
        Step("write config.yaml, ds_config.json, metrics.jsonl, hf/, ds/, DONE", out=cfg.out_dir),
    ]


def run(cfg: PretrainConfig, *, force: bool = False) -> Path:
    """Train the run ``cfg`` describes (:func:`bridgelab.pretrain.trainer.run`)."""
    from bridgelab.pretrain.trainer import run as train

    return train(cfg, force=force)
