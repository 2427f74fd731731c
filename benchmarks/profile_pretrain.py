"""Where one `bridgelab pretrain` step spends its time (CPU), by phase and by operator.

Builds the engine exactly as ``bridgelab.pretrain.trainer.run`` does (same model, DeepSpeed engine,
AdamW, data order) on synthetic shards, times each phase of the training step with
``perf_counter`` and runs ``torch.profiler`` over a few steps. The phases are the ones
``trainer._train`` runs: batch loading, forward, backward, ``engine.step`` (clip + AdamW +
schedule) and the host work around them (grad norm, loss read-back).

    python benchmarks/profile_pretrain.py --label after      # configs/pretrain/demo.yaml as it is
    python benchmarks/profile_pretrain.py --label before --overrides model.compile=false \
        model.loss=checkpointed model.loss_chunk_size=2048  # the settings before issue 16
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.data_order import load_batch
from bridgelab.pretrain.distributed import init_distributed, resolve_device
from bridgelab.pretrain.engine import build_engine, deepspeed_config, global_grad_norm
from bridgelab.pretrain.inputs import open_inputs
from bridgelab.pretrain.synthetic import make_inputs
from bridgelab.pretrain.trainer import _init_model

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="before")
    parser.add_argument("--steps", type=int, default=20, help="timed steps (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--overrides", nargs="*", default=[], help="PretrainConfig dot-paths")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="profile_pretrain_"))
    total = args.steps + args.warmup + 5
    tok, shards = make_inputs(root / "data", num_docs=total * 16 * 129 // 45 + 200, num_words=4000)
    cfg = PretrainConfig.load("configs/pretrain/demo.yaml", [
        f"tokenizer={tok}", f"data.path={shards}", f"out_dir={root / 'run'}",
        f"train.steps={total}", "log.progress=false", "log.tensorboard=false",
        "checkpoint.hf_steps=[]", "checkpoint.save_every=0", "checkpoint.hf_final=false",
        *args.overrides,
    ])  # fmt: skip
    device = resolve_device(cfg.device)
    _, world = init_distributed(device)
    inputs = open_inputs(cfg)
    engine = build_engine(_init_model(cfg, inputs), cfg, deepspeed_config(cfg, world))
    engine.train()
    phases = dict.fromkeys(("data", "forward", "backward", "grad_norm", "optimizer_step",
                            "loss_readback"), 0.0)  # fmt: skip

    def step(k: int, timed: bool) -> None:
        clock = time.perf_counter
        for windows in inputs.order.rank_batches(k, 0, 1, cfg.train.micro_batch_size):
            t0 = clock()
            x, y = load_batch(inputs.corpus, windows, cfg.data.seq_len)
            t1 = clock()
            loss = engine(x, y)
            t2 = clock()
            engine.backward(loss)
            t3 = clock()
            if engine.get_global_grad_norm() is None:
                global_grad_norm(engine)
            t4 = clock()
            engine.step()
            t5 = clock()
            loss.detach().double().item()
            t6 = clock()
            if timed:
                for name, (a, b) in zip(phases, ((t0, t1), (t1, t2), (t2, t3), (t3, t4),
                                                 (t4, t5), (t5, t6))):  # fmt: skip
                    phases[name] += b - a

    for k in range(1, args.warmup + 1):
        step(k, False)
    started = time.perf_counter()
    for k in range(args.warmup + 1, args.warmup + args.steps + 1):
        step(k, True)
    wall = time.perf_counter() - started
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for k in range(args.warmup + args.steps + 1, args.warmup + args.steps + 4):
            step(k, False)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18)
    tokens = cfg.train.global_batch_size * cfg.data.seq_len
    lines = [
        f"# Profile of one `bridgelab pretrain` step: {args.label}",
        "",
        f"`python benchmarks/profile_pretrain.py --label {args.label} --overrides "
        f"{' '.join(args.overrides)}` (demo preset, 16 x 128 tokens, fp32, "
        f"{torch.get_num_threads()} torch threads, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}, load {os.getloadavg()[0]:.1f})",
        "",
        f"{args.steps} steps: {wall / args.steps * 1000:.1f} ms/step, "
        f"{tokens * args.steps / wall:,.0f} tokens/s",
        "",
        "| phase | ms/step | share |",
        "|---|---:|---:|",
        *(f"| {k} | {v / args.steps * 1000:.1f} | {v / wall:.0%} |" for k, v in phases.items()),
        "",
        "torch.profiler, 3 steps, top operators by self CPU time:",
        "",
        "```",
        table,
        "```",
        "",
    ]
    out = RESULTS / f"profile_pretrain_{args.label}.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
