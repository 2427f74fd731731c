"""What `bridgelab study --dry-run` prints under each stage: the work and its compute."""

from __future__ import annotations

from typing import Any


def study_plan(stage: str, cfg: Any) -> list[str]:
    """Lines describing one stage's work, from its resolved config (each stage's own plan)."""
    if stage == "synth":
        from bridgelab.synth import plan

        return plan(cfg)
    if stage == "pretrain":
        from bridgelab.pretrain.cli import plan

        return plan(cfg)
    if stage == "grid":
        from bridgelab.cpt.grid import plan

        return plan(cfg)
    if stage == "frequency":
        from bridgelab.retrieval.pipeline import plan

        return plan(cfg)
    out = getattr(cfg, "out_dir", None)
    return [f"write {out}"] if out else []


def study_totals(resolved: dict[str, Any]) -> list[str]:
    """Tokens, GPU-hours and disk of the training stages together (an estimate, stated as one).

    Disk counts token shards (uint32 beyond 65,536 tokens; at least one pass over the tokens a
    run trains on), HF exports (fp32 safetensors) and DeepSpeed resume states (~16 bytes per
    parameter: weights, fp32 master copy, two Adam moments) kept at once.
    """
    from bridgelab.pretrain.cli import _tokenizer_vocab
    from bridgelab.pretrain.model import (
        flops_per_token,
        model_vocab_size,
        parameter_counts,
        qwen2_config,
    )

    def one(pcfg: Any) -> tuple[int, float, float]:
        vocab, _ = _tokenizer_vocab(pcfg)
        vocab = vocab or (151_665 if pcfg.model.preset == "qwen2.5-0.5b" else 8000)
        mconfig = qwen2_config(pcfg.model, model_vocab_size(vocab, pcfg.model))
        params = parameter_counts(mconfig)["total"]
        t = pcfg.train
        tokens = t.steps * t.global_batch_size * pcfg.data.seq_len
        est = pcfg.estimate
        hours = (
            flops_per_token(mconfig, pcfg.data.seq_len)
            * tokens
            / (est.peak_tflops * 1e12 * est.mfu)
            / 3600
        )
        token_bytes = 2 if mconfig.vocab_size <= 65_536 else 4
        exports = len(pcfg.checkpoint.hf_steps) + int(pcfg.checkpoint.hf_final)
        disk = tokens / pcfg.data.max_epochs * token_bytes + params * (
            4 * exports + 16 * pcfg.checkpoint.keep_last
        )
        return tokens, hours, disk

    rows: list[tuple[str, int, float, float]] = []
    if "pretrain" in resolved:
        rows.append(("pretrain", *one(resolved["pretrain"])))
    if "grid" in resolved:
        from pathlib import Path

        from bridgelab.cpt.grid import expand, pretrain_config

        grid = resolved["grid"]
        runs = expand(grid)
        tokens, hours, disk = one(pretrain_config(grid, runs[0], Path(grid.init_from)))
        rows.append(
            (
                f"CPT grid ({len(runs)} runs)",
                tokens * len(runs),
                hours * len(runs),
                disk * len(runs),
            )
        )
    if not rows:
        return []
    lines = [
        f"{name}: {tokens / 1e9:,.3f} B tokens, {hours:,.1f} GPU-hours, ~{disk / 1e9:,.1f} GB disk"
        for name, tokens, hours, disk in rows
    ]
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    lines.append(
        f"total: {total[0] / 1e9:,.3f} B tokens, {total[1]:,.1f} GPU-hours, ~{total[2] / 1e9:,.1f} GB disk "
        "(GPU-hours at each config's estimate.mfu of estimate.peak_tflops)"
    )
    return lines
