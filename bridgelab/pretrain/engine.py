"""The DeepSpeed engine: its JSON config, optimizer, schedule and resume state.

The optimizer is torch's AdamW passed as DeepSpeed's client optimizer (torch's own fused kernel
where ``train.fused_optimizer``; nothing for DeepSpeed to compile, so CPU CI needs no build);
the warmup + cosine schedule is a torch ``LambdaLR`` that DeepSpeed steps and checkpoints with
the engine.
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bridgelab.pretrain.config import PretrainConfig


def deepspeed_config(cfg: PretrainConfig, world_size: int) -> dict[str, Any]:
    """The DeepSpeed JSON for ``cfg`` on ``world_size`` ranks (saved as ds_config.json)."""
    t = cfg.train
    ds: dict[str, Any] = {
        "train_batch_size": t.global_batch_size,
        "train_micro_batch_size_per_gpu": t.micro_batch_size,
        "gradient_accumulation_steps": cfg.grad_accum_steps(world_size),
        "gradient_clipping": t.grad_clip,
        "zero_optimization": {"stage": cfg.deepspeed.zero_stage},
        "bf16": {"enabled": t.dtype == "bf16"},
        "fp16": {"enabled": False},
        # torch AdamW is a client optimizer DeepSpeed has not "tested" with ZeRO; it is fine
        "zero_allow_untested_optimizer": True,
        "steps_per_print": 2**31 - 1,
        "wall_clock_breakdown": False,
    }
    ds.update(cfg.deepspeed.extra)
    return ds


def lr_lambda(cfg: PretrainConfig):
    """Multiplier of train.lr after ``k`` optimizer steps: linear warmup, cosine to min_lr."""
    t = cfg.train
    floor = t.min_lr / t.lr if t.lr > 0 else 0.0

    def factor(k: int) -> float:
        if k < t.warmup_steps:
            return (k + 1) / t.warmup_steps
        decay_steps = max(t.steps - t.warmup_steps, 1)
        progress = min((k - t.warmup_steps) / decay_steps, 1.0)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def param_groups(
    model: nn.Module, weight_decay: float, lr: float, embedding_lr_mult: float = 1.0
) -> list[dict[str, Any]]:
    """Decay matrices only: norms and biases (1-D tensors) are not decayed. The token
    embeddings (input, and output when untied) form a group of their own at
    ``lr * embedding_lr_mult``; the schedule's LambdaLR scales every group alike."""
    lm = getattr(model, "lm", model)  # CausalLMLoss wraps the transformers model
    embeddings = {id(lm.get_input_embeddings().weight)}
    output = lm.get_output_embeddings()
    if output is not None:
        embeddings.add(id(output.weight))
    decay, no_decay, embed = [], [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        if id(p) in embeddings:
            embed.append(p)
        else:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay, "lr": lr},
        {"params": no_decay, "weight_decay": 0.0, "lr": lr},
        {"params": embed, "weight_decay": weight_decay, "lr": lr * embedding_lr_mult},
    ]
    return [g for g in groups if g["params"]]


def build_engine(module: nn.Module, cfg: PretrainConfig, ds_config: dict[str, Any]):
    import deepspeed

    t = cfg.train
    optimizer = torch.optim.AdamW(
        param_groups(module, t.weight_decay, t.lr, t.embedding_lr_mult),
        lr=t.lr,
        betas=(t.beta1, t.beta2),
        eps=t.eps,
        # one fused kernel over all parameters (CPU and CUDA) instead of torch's default on CPU,
        # a Python loop of several ops per parameter: same update, ~2x faster optimizer step
        fused=t.fused_optimizer or None,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg))
    engine, _, _, _ = deepspeed.initialize(
        model=module, optimizer=optimizer, lr_scheduler=scheduler, config=ds_config
    )
    return engine


def global_grad_norm(engine) -> float:
    """The pre-clipping gradient norm of the step just taken (DeepSpeed's, else our own).

    ZeRO-1/2 and bf16 report it; plain fp32 stage 0 clips without keeping it, so we compute it
    from the (already all-reduced) gradients before ``engine.step()``.
    """
    norm = engine.get_global_grad_norm()
    if norm is not None:
        return float(norm)
    grads = [p.grad.detach() for p in engine.module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(
        torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    )


def rng_state() -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_state(engine, ds_dir: Path, tag: str, client_state: dict[str, Any], rank: int) -> Path:
    """Collective: DeepSpeed's state (model, optimizer, scheduler) + this rank's RNG."""
    engine.save_checkpoint(str(ds_dir), tag=tag, client_state=client_state)
    tag_dir = ds_dir / tag
    tmp = tag_dir / f".rng_rank{rank}.pt.tmp"
    torch.save(rng_state(), tmp)
    os.replace(tmp, tag_dir / f"rng_rank{rank}.pt")
    return tag_dir


def load_state(engine, tag_dir: Path, rank: int) -> dict[str, Any]:
    """Restore a state written by :func:`save_state`; returns the client state (step, tokens)."""
    _, client_state = engine.load_checkpoint(
        str(tag_dir.parent), tag=tag_dir.name, load_optimizer_states=True,
        load_lr_scheduler_states=True,
    )  # fmt: skip
    rng_file = tag_dir / f"rng_rank{rank}.pt"
    if rng_file.is_file():
        set_rng_state(torch.load(rng_file, weights_only=False))
    return client_state or {}
