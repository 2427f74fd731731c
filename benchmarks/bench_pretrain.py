"""Training throughput of `bridgelab pretrain` against the Hugging Face `Trainer`.

Both train the same Qwen2 model (same preset, seed and initial weights) on the same windows of
the same synthetic token shards, with the same micro-batch, accumulation, AdamW and schedule.
Runs alternate (bridgelab, HF, bridgelab, HF, ...) so that load from other processes hits both
alike; the headline is the median ratio over those back-to-back pairs, and each side's best
repeat is shown too (throughput over the steps after warm-up). On a CUDA device the script
also reports MFU against ``--peak-tflops``.

    python benchmarks/bench_pretrain.py                      # CPU, demo preset
    python benchmarks/bench_pretrain.py --device cuda --preset small --seq-len 1024 \
        --micro-batch 16 --dtype bf16                        # one GPU
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bridgelab.contracts.shards import TokenCorpus
from bridgelab.pretrain.config import ModelConfig, PretrainConfig
from bridgelab.pretrain.data_order import StepOrder
from bridgelab.pretrain.metrics import read_metrics
from bridgelab.pretrain.model import (
    build_model,
    flops_per_token,
    model_vocab_size,
    parameter_counts,
    qwen2_config,
)
from bridgelab.pretrain.synthetic import make_inputs
from bridgelab.pretrain.trainer import run

RESULTS = Path(__file__).resolve().parent / "results" / "pretrain.md"


def bridgelab_tokens_per_s(cfg: PretrainConfig, warmup: int) -> float:
    run(cfg, force=True)
    rows = [r for r in read_metrics(cfg.out_dir) if r["step"] > warmup]
    return sum(cfg.train.global_batch_size * cfg.data.seq_len for _ in rows) / sum(
        r["step_time_s"] for r in rows
    )


class WindowDataset(torch.utils.data.Dataset):
    """The windows bridgelab's step order visits, in that order (HF's sampler must not shuffle)."""

    def __init__(self, corpus: TokenCorpus, cfg: PretrainConfig):
        order = StepOrder(
            corpus.num_windows(cfg.data.seq_len), cfg.train.global_batch_size, cfg.seed
        )
        self.windows = np.concatenate(
            [order.global_batch(s) for s in range(1, cfg.train.steps + 1)]
        )
        self.corpus, self.seq_len = corpus, cfg.data.seq_len

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        tokens = torch.from_numpy(self.corpus.window(int(self.windows[i]), self.seq_len))
        # HF shifts labels inside the model: give it seq_len inputs and the same as labels
        return {"input_ids": tokens[:-1], "labels": tokens[:-1]}


def hf_tokens_per_s(cfg: PretrainConfig, vocab_size: int, warmup: int, device: str) -> float:
    from transformers import Trainer, TrainerCallback, TrainingArguments

    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if device == "cuda":
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())

    torch.manual_seed(cfg.seed)
    # the same architecture with the Trainer's own defaults (SDPA attention, no compile): the
    # kernel choices bridgelab makes (--overrides) are part of what is measured
    model = build_model(ModelConfig(preset=cfg.model.preset), vocab_size)
    t = cfg.train
    args = TrainingArguments(
        output_dir=str(Path(cfg.out_dir).with_name("hf_trainer")),
        per_device_train_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=t.global_batch_size // t.micro_batch_size,
        max_steps=t.steps, learning_rate=t.lr, weight_decay=t.weight_decay,
        adam_beta1=t.beta1, adam_beta2=t.beta2, adam_epsilon=t.eps, max_grad_norm=t.grad_clip,
        lr_scheduler_type="cosine_with_min_lr", lr_scheduler_kwargs={"min_lr": t.min_lr},
        warmup_steps=t.warmup_steps, optim="adamw_torch_fused", bf16=t.dtype == "bf16",
        use_cpu=device == "cpu", report_to=[], save_strategy="no", logging_steps=10**9,
        dataloader_num_workers=0, disable_tqdm=True, seed=cfg.seed,
    )  # fmt: skip
    dataset = WindowDataset(TokenCorpus(cfg.data.path), cfg)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, callbacks=[Clock()])
    trainer._get_train_sampler = lambda *a, **k: torch.utils.data.SequentialSampler(dataset)
    trainer.train()
    timed = len(stamps) - 1 - warmup
    return timed * t.global_batch_size * cfg.data.seq_len / (stamps[-1] - stamps[warmup])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--micro-batch", type=int, default=16)
    parser.add_argument("--accum", type=int, default=1, help="gradient accumulation steps")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5, help="steps left out of the timing")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads on CPU (0 = default)")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="per GPU, for MFU")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--overrides", nargs="*", default=[],
                        help="PretrainConfig dot-paths for the bridgelab side")  # fmt: skip
    parser.add_argument("--side", choices=["bridgelab", "hf"], help=argparse.SUPPRESS)
    parser.add_argument("--interleave-steps", type=int, default=40,
                        help="steps of the in-process interleaved comparison (0 = skip it)")  # fmt: skip
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.side:
        cfg, vocab = _setup(args, args.root)
        tps = (bridgelab_tokens_per_s(cfg, args.warmup) if args.side == "bridgelab"
               else hf_tokens_per_s(cfg, vocab, args.warmup, args.device))  # fmt: skip
        print("RESULT " + json.dumps({"tokens_per_s": tps}))
        return
    root = Path(tempfile.mkdtemp(prefix="bench_pretrain_"))
    cfg, vocab = _setup(args, root)
    mconfig = qwen2_config(cfg.model, vocab)
    ours, theirs = [], []
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):
        # each side in a fresh process: neither inherits the other's process group or caches
        ours.append(_measure(args, root, "bridgelab"))
        theirs.append(_measure(args, root, "hf"))
        print(f"bridgelab {ours[-1]:,.0f} tok/s   HF Trainer {theirs[-1]:,.0f} tok/s")
    load = (load_before, os.getloadavg()[0])
    inter = interleaved(args, root) if args.interleave_steps else None
    _report(args, mconfig, vocab, ours, theirs, load, inter)


def interleaved(args: argparse.Namespace, root: Path) -> dict[str, list[float]]:
    """Per-step times of both trainers in ONE process, steps alternating: the HF Trainer's loop
    runs, and after each of its steps a callback runs one bridgelab step (the DeepSpeed engine
    built as ``bridgelab.pretrain.trainer.run`` builds it). Both then see the same load, step by step."""
    from ab_pretrain import side
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from bridgelab.pretrain.distributed import init_distributed, resolve_device

    steps = args.interleave_steps + args.warmup
    cfg, vocab = _setup(args, root, steps=steps)
    init_distributed(resolve_device(args.device))  # DeepSpeed needs a process group (world 1)
    ours_step = side(root / "interleaved", cfg.tokenizer, cfg.data.path, steps, [
        f"model.preset={args.preset}", f"data.seq_len={args.seq_len}",
        f"train.global_batch_size={cfg.train.global_batch_size}",
        f"train.micro_batch_size={args.micro_batch}", "train.warmup_steps=2",
        f"train.dtype={args.dtype}", f"device={args.device}", *args.overrides,
    ], None)  # fmt: skip
    times: dict[str, list[float]] = {"bridgelab": [], "hf": []}
    state = {"start": 0.0, "k": 0}

    class Interleave(TrainerCallback):
        def on_step_begin(self, *a, **kw):
            state["start"] = time.perf_counter()

        def on_step_end(self, *a, **kw):
            times["hf"].append(time.perf_counter() - state["start"])
            state["k"] += 1
            t0 = time.perf_counter()
            ours_step(state["k"])
            times["bridgelab"].append(time.perf_counter() - t0)

    # the launcher variables DeepSpeed needed would make the Trainer wrap its model in a
    # one-rank DistributedDataParallel: hide them, so it runs as it does on its own
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"):
        os.environ.pop(key, None)
    torch.manual_seed(cfg.seed)
    model = build_model(ModelConfig(preset=cfg.model.preset), vocab)
    t = cfg.train
    targs = TrainingArguments(
        output_dir=str(root / "hf_interleaved"), per_device_train_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=t.global_batch_size // t.micro_batch_size, max_steps=steps,
        learning_rate=t.lr, weight_decay=t.weight_decay, max_grad_norm=t.grad_clip,
        warmup_steps=t.warmup_steps, optim="adamw_torch_fused", use_cpu=args.device == "cpu",
        report_to=[], save_strategy="no", logging_steps=10**9, dataloader_num_workers=0,
        disable_tqdm=True, seed=cfg.seed,
    )  # fmt: skip
    dataset = WindowDataset(TokenCorpus(cfg.data.path), cfg)
    trainer = Trainer(model=model, args=targs, train_dataset=dataset, callbacks=[Interleave()])
    trainer._get_train_sampler = lambda *a, **k: torch.utils.data.SequentialSampler(dataset)
    trainer.train()
    if isinstance(trainer.model_wrapped, torch.nn.parallel.DistributedDataParallel):
        raise SystemExit("the interleaved HF Trainer ran under DistributedDataParallel")
    return {k: v[args.warmup :] for k, v in times.items()}


def _measure(args: argparse.Namespace, root: Path, side: str) -> float:
    proc = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--side", side, "--root", str(root)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{side} run failed:\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT ") :])["tokens_per_s"]


def _setup(args: argparse.Namespace, root: Path, steps: int = 0) -> tuple[PretrainConfig, int]:
    global_batch = args.micro_batch * args.accum
    steps = steps or args.steps
    needed_tokens = (
        max(args.steps, args.interleave_steps + args.warmup) * global_batch * (args.seq_len + 1)
    )
    if (root / "data" / "shards" / "manifest.json").is_file():
        tok, shards = root / "data" / "tokenizer", root / "data" / "shards"
    else:
        tok, shards = make_inputs(root / "data", num_docs=needed_tokens // 45 + 200, num_words=4000)
    cfg = PretrainConfig.load(None, [
        f"tokenizer={tok}", f"data.path={shards}", f"out_dir={root / 'bridgelab'}",
        f"device={args.device}", f"data.seq_len={args.seq_len}", f"model.preset={args.preset}",
        f"train.steps={steps}", f"train.global_batch_size={global_batch}",
        f"train.micro_batch_size={args.micro_batch}", "train.warmup_steps=2",
        f"train.dtype={args.dtype}", "checkpoint.save_every=0", "checkpoint.hf_final=false",
        "log.progress=false", "log.tensorboard=false", "log.every=1", f"threads={args.threads}", *args.overrides,
    ])  # fmt: skip
    return cfg, model_vocab_size(TokenCorpus(shards).vocab_size, cfg.model)


def _report(args, mconfig, vocab: int, ours: list[float], theirs: list[float], load,
            inter: dict[str, list[float]] | None) -> None:  # fmt: skip
    global_batch = args.micro_batch * args.accum
    best_ours, best_theirs = max(ours), max(theirs)
    # each pair ran back to back, so its ratio is the least affected by other jobs' load
    ratios = [a / b for a, b in zip(ours, theirs)]
    fpt = flops_per_token(mconfig, args.seq_len)
    mfu = (
        (lambda tps: f"{fpt * tps / (args.peak_tflops * 1e12):.1%}")
        if args.device == "cuda"
        else (lambda tps: "n/a (CPU)")
    )
    hw = (
        torch.cuda.get_device_name()
        if args.device == "cuda"
        else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, {os.cpu_count()} cores (shared)"
    )
    lines = [
        "# Pretraining throughput: `bridgelab pretrain` vs Hugging Face `Trainer`",
        "",
        f"Command: `python benchmarks/bench_pretrain.py --preset {args.preset} --seq-len "
        f"{args.seq_len} --micro-batch {args.micro_batch} --accum {args.accum} --steps "
        f"{args.steps} --warmup {args.warmup} --repeats {args.repeats} --threads {args.threads} "
        f"--device {args.device} --dtype {args.dtype}"
        + (f" --overrides {' '.join(args.overrides)}`" if args.overrides else "`"),
        "",
        f"- device: {args.device} ({hw}); torch {torch.__version__}",
        f"- model: preset `{args.preset}`, {parameter_counts(mconfig)['total']:,} parameters, "
        f"vocab {vocab}, {fpt / 1e6:.2f} MFLOPs/token",
        f"- batch: {global_batch} x {args.seq_len} tokens per step ({args.micro_batch} per "
        f"micro-batch x {args.accum}); {args.steps} steps, first {args.warmup} untimed; "
        f"{args.repeats} alternating repeats, each in a fresh process",
        f"- 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after (other jobs share "
        "the machine: absolute numbers are noisy, the ratio of alternating runs less so)",
        "",
        "| trainer | tokens/s (best) | all repeats | MFU (best) |",
        "|---|---:|---|---:|",
        f"| bridgelab pretrain (DeepSpeed) | {best_ours:,.0f} | "
        f"{', '.join(f'{x:,.0f}' for x in ours)} | {mfu(best_ours)} |",
        f"| HF Trainer | {best_theirs:,.0f} | {', '.join(f'{x:,.0f}' for x in theirs)} | "
        f"{mfu(best_theirs)} |",
        "",
        f"**Ratio bridgelab / HF Trainer: {float(np.median(ratios)):.2f}x** (median over the "
        f"alternating pairs: {', '.join(f'{r:.2f}' for r in ratios)}; best vs best "
        f"{best_ours / best_theirs:.2f}x)",
        "",
    ]
    if inter:
        step_ratio = np.array(inter["hf"]) / np.array(inter["bridgelab"])
        tokens = global_batch * args.seq_len
        lines += [
            f"**Interleaved in one process** ({len(step_ratio)} steps after {args.warmup} of "
            f"warm-up, {torch.get_num_threads()} torch thread(s) for both (one process), one "
            "bridgelab step after each HF Trainer step, so both see the same load; "
            "bridgelab's side is its DeepSpeed engine step, without the run loop's metrics "
            f"file): bridgelab {tokens / np.median(inter['bridgelab']):,.0f} tokens/s, HF Trainer "
            f"{tokens / np.median(inter['hf']):,.0f} tokens/s (medians); **ratio "
            f"{np.median(step_ratio):.2f}x** (median of per-step ratios; quartiles "
            f"{np.quantile(step_ratio, 0.25):.2f}-{np.quantile(step_ratio, 0.75):.2f}).",
            "",
        ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
