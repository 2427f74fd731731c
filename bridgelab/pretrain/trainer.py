"""`bridgelab.pretrain.trainer.run`: train a Qwen2 model with DeepSpeed from a PretrainConfig.

The same function runs as one plain process, under torchrun / the deepspeed launcher, and
under SLURM srun (see ``distributed.fill_env``). Every rank calls it; rank 0 alone writes the
run folder's files, and DeepSpeed checkpoints are collective.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from tqdm import tqdm

from bridgelab.contracts.markers import mark_done, move_aside
from bridgelab.contracts.provenance import lineage
from bridgelab.errors import RunFolderError, Stopped
from bridgelab.pretrain import checkpoints as ckpt
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.data_order import load_batch
from bridgelab.pretrain.distributed import (
    PreemptionFlag,
    any_rank,
    barrier,
    init_distributed,
    resolve_device,
)
from bridgelab.pretrain.engine import (
    build_engine,
    deepspeed_config,
    global_grad_norm,
    load_state,
    save_state,
)
from bridgelab.pretrain.inputs import RunInputs, check_run_folder, open_inputs, run_config_hash
from bridgelab.pretrain.metrics import MetricsLog
from bridgelab.pretrain.model import (
    CausalLMLoss,
    build_model,
    flops_per_token,
    parameter_counts,
    resolve_attention,
)
from bridgelab.utils.io import atomic_write_json
from bridgelab.utils.threads import set_threads

log = logging.getLogger(__name__)


class Preempted(Stopped):
    """Training stopped on SIGTERM/SIGUSR1 after saving a resume state; run again to resume."""

    def __init__(self, run_dir: Path, step: int):
        super().__init__(f"preempted: resume state of step {step} saved in {run_dir / ckpt.DS_DIR}")
        self.run_dir, self.step = run_dir, step


def _init_model(cfg: PretrainConfig, inputs: RunInputs) -> torch.nn.Module:
    """Fresh weights seeded by cfg.seed, or the weights of ``init_from`` (CPT)."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(cfg.seed)
    if cfg.init_from:
        lm = AutoModelForCausalLM.from_pretrained(
            cfg.init_from,
            dtype=torch.float32,
            attn_implementation=resolve_attention(cfg.model.attn_implementation, cfg.train.dtype),
        )
    else:
        lm = build_model(
            cfg.model,
            inputs.vocab_size,
            eos_id=inputs.tokenizer_info["eos_id"],
            dtype=cfg.train.dtype,
        )
    module = CausalLMLoss(lm, cfg.model.loss_chunk_size, fused=cfg.fused_loss(),
                          compiled_loss=cfg.model.compile)  # fmt: skip
    if cfg.model.compile:
        # the transformer body only (the fused loss is a hand-written autograd function that
        # gains nothing from tracing); in place, as torch.compile(module) would wrap it and
        # prefix every state-dict key
        lm.model.compile()
    return module


def _export(
    engine, cfg: PretrainConfig, inputs: RunInputs, step: int, tokens: int, rank: int
) -> None:
    import deepspeed

    lm = engine.module.lm
    params = list(lm.parameters()) if cfg.deepspeed.zero_stage == 3 else []
    # ZeRO-3 holds a shard of each parameter per rank: gather them (collective) to rank 0
    with deepspeed.zero.GatheredParameters(params, modifier_rank=None, enabled=bool(params)):
        if rank == 0:
            info = {
                "tokens": tokens,
                "config_hash": run_config_hash(cfg),
                "tokenizer_hash": inputs.tokenizer_info["hash"],
                "init_from": cfg.init_from,
            }
            # bridgelab_tokenizer.json lets load_tokenizer(export) verify the tokenizer's hash
            tok_info = Path(cfg.tokenizer) / "bridgelab_tokenizer.json"
            path = ckpt.export_hf(lm, inputs.tokenizer, cfg.out_dir, step, info, (tok_info,))
            log.info("exported %s", path)
    barrier()


def _save(engine, cfg: PretrainConfig, step: int, tokens: int, rank: int) -> None:
    ds_dir = Path(cfg.out_dir) / ckpt.DS_DIR
    tag_dir = save_state(engine, ds_dir, ckpt.ds_tag(step), {"step": step, "tokens": tokens}, rank)
    barrier()
    if rank == 0:
        ckpt.mark_ds_complete(
            tag_dir, {"step": step, "tokens": tokens, "config_hash": run_config_hash(cfg)}
        )
        ckpt.prune_ds_states(cfg.out_dir, cfg.checkpoint.keep_last)
    barrier()


def run(cfg: PretrainConfig, *, force: bool = False) -> Path:
    """Train (or resume, or skip when finished) the run ``cfg`` describes; return its folder."""
    device = resolve_device(cfg.device)
    if device.type == "cpu":
        log.info("%d torch threads (%s)", *set_threads(cfg.threads))
    rank, world = init_distributed(device)
    out = Path(cfg.out_dir)
    chash = run_config_hash(cfg)
    action = check_run_folder(cfg, chash, force)
    if action == "skip":
        log.info("%s already holds this finished run; nothing to do", out)
        return out
    inputs = open_inputs(cfg)
    ds_config = deepspeed_config(cfg, world)
    barrier()
    if rank == 0:
        if action == "new" and out.exists() and any(out.iterdir()):
            move_aside(out)
        out.mkdir(parents=True, exist_ok=True)
        cfg.dump(out / "config.yaml")
        atomic_write_json(out / "ds_config.json", ds_config)
        atomic_write_json(out / "run.json", {"config_hash": chash, "vocab_size": inputs.vocab_size,
                                             "tokenizer_hash": inputs.tokenizer_info["hash"]})  # fmt: skip
    barrier()

    module = _init_model(cfg, inputs)
    engine = build_engine(module, cfg, ds_config)
    start_step, tokens = 0, 0
    state_dir = (
        ckpt.resolve_resume(out, cfg.resume)
        if action == "continue" or cfg.resume not in ("auto", "never")
        else None
    )
    if state_dir is not None:
        if ckpt.read_ds_info(state_dir).get("config_hash") != chash:
            raise RunFolderError(f"resume: {state_dir} was written by another config")
        client = load_state(engine, state_dir, rank)
        start_step, tokens = int(client["step"]), int(client["tokens"])
        log.info("resumed from %s (step %d)", state_dir, start_step)
    _train(cfg, engine, inputs, device, rank, world, start_step, tokens)
    return out


def _train(cfg: PretrainConfig, engine, inputs: RunInputs, device: torch.device, rank: int,
           world: int, start_step: int, tokens: int) -> None:  # fmt: skip
    t, out = cfg.train, Path(cfg.out_dir)
    seq_len = cfg.data.seq_len
    counts = parameter_counts(inputs.model_config)
    fpt = flops_per_token(inputs.model_config, seq_len)
    if rank == 0:
        log.info("model %s: %s parameters (%s non-embedding), %.3g FLOPs/token, vocab %d",
                 cfg.model.preset, f"{counts['total']:,}", f"{counts['non_embedding']:,}", fpt,
                 inputs.vocab_size)  # fmt: skip
    metrics = MetricsLog(out, cfg, start_step, enabled=rank == 0)
    peak = cfg.estimate.peak_tflops * 1e12 * world if device.type == "cuda" else None
    hf_steps = set(cfg.checkpoint.hf_steps) | ({t.steps} if cfg.checkpoint.hf_final else set())
    flag = PreemptionFlag().install()
    bar = tqdm(total=t.steps, initial=start_step, desc="pretrain", unit="step",
               disable=rank != 0 or not cfg.log.progress, dynamic_ncols=True)  # fmt: skip
    engine.train()
    try:
        for step in range(start_step + 1, t.steps + 1):
            started = time.perf_counter()
            loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            lr = engine.get_lr()[0]
            micro_batches = inputs.order.rank_batches(step, rank, world, t.micro_batch_size)
            grad_norm = 0.0
            for i, windows in enumerate(micro_batches):
                x, y = load_batch(inputs.corpus, windows, seq_len)
                loss = engine(x.to(device), y.to(device))
                engine.backward(loss)
                if i == len(micro_batches) - 1 and engine.get_global_grad_norm() is None:
                    grad_norm = global_grad_norm(engine)  # before step() clips and zeroes
                engine.step()
                loss_sum += loss.detach().double()
            if engine.get_global_grad_norm() is not None:
                grad_norm = float(engine.get_global_grad_norm())
            if world > 1:
                torch.distributed.all_reduce(loss_sum)
            mean_loss = loss_sum.item() / (len(micro_batches) * world)
            step_tokens = t.global_batch_size * seq_len
            tokens += step_tokens
            elapsed = time.perf_counter() - started
            if step % cfg.log.every == 0 or step == t.steps:
                tps = step_tokens / elapsed
                row = {"step": step, "loss": mean_loss, "lr": lr, "grad_norm": grad_norm,
                       "tokens": tokens, "tokens_per_s": tps, "step_time_s": elapsed}  # fmt: skip
                if peak:
                    row["mfu"] = fpt * tps / peak
                if device.type == "cuda":
                    row["max_mem_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
                metrics.write(row)
                bar.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{lr:.2e}", tok_s=f"{tps:,.0f}")
            bar.update(1)
            if step in hf_steps:
                _export(engine, cfg, inputs, step, tokens, rank)
            preempted = any_rank(flag.received is not None, device)
            save_every = cfg.checkpoint.save_every
            final = step == t.steps and cfg.checkpoint.save_final
            if preempted or final or (save_every and step % save_every == 0):
                _save(engine, cfg, step, tokens, rank)
            if preempted and step < t.steps:
                raise Preempted(out, step)
    finally:
        flag.restore()
        bar.close()
        metrics.close()
    if rank == 0:
        mark_done(out, {"config_hash": run_config_hash(cfg), "step": t.steps, "tokens": tokens,
                        "inputs": lineage(cfg)})  # fmt: skip
    barrier()
