"""Training throughput and MFU of a preset, measured through the real trainer.

``measure`` writes synthetic Markov-chain token shards (``bridgelab.pretrain.synthetic``), runs
``bridgelab.pretrain.trainer.run`` on them (the same DeepSpeed engine, data order, chunked loss and
metrics as any run; no resume state or export at the end), and summarises the steps after the
warm-up from ``metrics.jsonl``:

- tokens/s = timed tokens / timed seconds (each step's time ends on a host sync of its loss);
- MFU = FLOPs/token x tokens/s / peak, with FLOPs/token from ``model.flops_per_token``: 6 x the
  matmul parameters (LM head included) + 12 x layers x hidden x seq_len for the attention
  scores (PaLM appendix B, no causal discount), the formula ``--dry-run`` prints;
- peak memory = ``torch.cuda.max_memory_allocated``.

``python -m bridgelab.pretrain.throughput --preset qwen2.5-0.5b --json out.json`` runs one
measurement (scripts/device/check.py runs it in a subprocess under a time budget).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bridgelab.pretrain.config import PretrainConfig

# Qwen2.5's embedding rows (configs/pretrain/paper.yaml): the LM head is a large share of the
# 0.5B model's FLOPs, so the measurement uses the real vocabulary, not the synthetic tokenizer's
QWEN_VOCAB = 151_936


def throughput_config(root: Path, *, preset: str, seq_len: int, micro_batch_size: int,
                      grad_accum: int, steps: int, dtype: str, zero_stage: int, device: str,
                      compile: bool, peak_tflops: float, vocab_size: int | None,
                      loss_chunk_size: int = 8192) -> PretrainConfig:  # fmt: skip
    """The PretrainConfig of a throughput run under ``root`` (shards in root/data)."""
    overrides = [
        f"out_dir={root / 'run'}",
        f"tokenizer={root / 'data' / 'tokenizer'}",
        f"data.path={root / 'data' / 'shards'}",
        f"data.seq_len={seq_len}",
        # a small corpus read many times: the data's content does not change the speed
        "data.max_epochs=1000000",
        f"device={device}",
        f"model.preset={preset}",
        f"model.compile={str(compile).lower()}",
        f"model.loss_chunk_size={loss_chunk_size}",
        f"train.steps={steps}",
        f"train.micro_batch_size={micro_batch_size}",
        f"train.global_batch_size={micro_batch_size * grad_accum}",
        "train.warmup_steps=1",
        f"train.dtype={dtype}",
        f"deepspeed.zero_stage={zero_stage}",
        "checkpoint.save_every=0",
        "checkpoint.save_final=false",
        "checkpoint.hf_final=false",
        "checkpoint.hf_steps=[]",
        "log.every=1",
        "log.tensorboard=false",
        "log.progress=false",
        f"estimate.peak_tflops={peak_tflops}",
    ]
    if vocab_size:
        overrides.append(f"model.vocab_size={vocab_size}")
    return PretrainConfig.load(None, overrides)


def _sdpa_kernels(cfg: PretrainConfig) -> list[str]:
    """The CUDA kernels one causal SDPA call of the model's head shape launches (a standalone
    call: which of flash / cuDNN / memory-efficient / math PyTorch picks on this GPU)."""
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile

    from bridgelab.pretrain.model import qwen2_config

    mcfg = qwen2_config(cfg.model, 64)
    heads = mcfg.num_attention_heads
    head_dim = mcfg.hidden_size // heads
    dtype = torch.bfloat16 if cfg.train.dtype == "bf16" else torch.float32
    shape = (cfg.train.micro_batch_size, heads, cfg.data.seq_len, head_dim)
    q, k, v = (torch.randn(shape, device="cuda", dtype=dtype, requires_grad=True) for _ in "qkv")
    F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()  # warm-up
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
        torch.cuda.synchronize()
    names = {e.key for e in prof.key_averages()}
    keep = ("flash", "fmha", "cudnn", "attention", "efficient", "sdpa", "softmax")
    return sorted(n[:120] for n in names if any(w in n.lower() for w in keep))


def summarise(rows: list[dict[str, Any]], warmup: int, fpt: float, peak: float | None,
              tokens_per_step: int) -> dict[str, Any]:  # fmt: skip
    """Timed-step statistics from metrics rows (steps after ``warmup``)."""
    timed = [r for r in rows if r["step"] > warmup]
    if not timed:
        raise ValueError(f"no step after the {warmup} warm-up steps was logged")
    seconds = sum(r["step_time_s"] for r in timed)
    tps = tokens_per_step * len(timed) / seconds
    out = {
        "timed_steps": len(timed),
        "timed_seconds": round(seconds, 3),
        "tokens_per_s": round(tps, 1),
        "step_time_s_median": round(statistics.median(r["step_time_s"] for r in timed), 4),
        "step_time_s_min": round(min(r["step_time_s"] for r in timed), 4),
        "step_time_s_max": round(max(r["step_time_s"] for r in timed), 4),
        "warmup_step_time_s": [round(r["step_time_s"], 3) for r in rows if r["step"] <= warmup],
        "loss_first": rows[0]["loss"],
        "loss_last": rows[-1]["loss"],
    }
    if peak:
        out["mfu"] = round(fpt * tps / peak, 4)
        out["model_tflops_per_s"] = round(fpt * tps / 1e12, 1)
    mem = [r["max_mem_gib"] for r in rows if "max_mem_gib" in r]
    if mem:
        out["max_mem_gib"] = round(max(mem), 2)
    return out


def measure(root: str | Path, *, preset: str = "qwen2.5-0.5b", seq_len: int = 2048,
            micro_batch_size: int = 16, grad_accum: int = 1, warmup: int = 5, timed: int = 30,
            dtype: str = "bf16", zero_stage: int = 1, device: str = "cuda",
            compile: bool = False, peak_tflops: float = 989.0,
            vocab_size: int | None = QWEN_VOCAB,
            loss_chunk_size: int = 8192) -> dict[str, Any]:  # fmt: skip
    """Train ``warmup + timed`` steps of ``preset`` on synthetic shards; return the numbers."""
    import torch

    from bridgelab.pretrain.inputs import open_inputs
    from bridgelab.pretrain.metrics import read_metrics
    from bridgelab.pretrain.model import flops_per_token, parameter_counts, resolve_attention
    from bridgelab.pretrain.synthetic import make_inputs
    from bridgelab.pretrain.trainer import run

    root = Path(root)
    steps = warmup + timed
    tokens_per_step = micro_batch_size * grad_accum * seq_len
    # enough distinct windows for 4 steps (the order then repeats); ~50 tokens per document
    num_docs = max(400, 4 * tokens_per_step // 50)
    t0 = time.perf_counter()
    make_inputs(root / "data", num_docs=num_docs)
    data_s = time.perf_counter() - t0
    cfg = throughput_config(
        root, preset=preset, seq_len=seq_len, micro_batch_size=micro_batch_size,
        grad_accum=grad_accum, steps=steps, dtype=dtype, zero_stage=zero_stage, device=device,
        compile=compile, peak_tflops=peak_tflops, vocab_size=vocab_size,
        loss_chunk_size=loss_chunk_size,
    )  # fmt: skip
    inputs = open_inputs(cfg)
    counts = parameter_counts(inputs.model_config)
    fpt = flops_per_token(inputs.model_config, seq_len)
    cuda = device == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    run(cfg)
    run_s = time.perf_counter() - t0
    rows = read_metrics(cfg.out_dir)
    peak = peak_tflops * 1e12 if cuda else None
    result: dict[str, Any] = {
        "preset": preset,
        "parameters": counts["total"],
        "non_embedding_parameters": counts["non_embedding"],
        "vocab_size": inputs.vocab_size,
        "seq_len": seq_len,
        "micro_batch_size": micro_batch_size,
        "global_batch_size": micro_batch_size * grad_accum,
        "tokens_per_step": tokens_per_step,
        "dtype": dtype,
        "zero_stage": zero_stage,
        "device": device,
        "compile": compile,
        "loss_chunk_size": loss_chunk_size,
        "attn_implementation": resolve_attention(cfg.model.attn_implementation, dtype),
        "flops_per_token": fpt,
        "flops_formula": "6 x (non-embedding + vocab x hidden) + 12 x layers x hidden x seq_len",
        "peak_tflops": peak_tflops if cuda else None,
        "warmup_steps": warmup,
        "data_seconds": round(data_s, 1),
        "run_seconds": round(run_s, 1),
        **summarise(rows, warmup, fpt, peak, tokens_per_step),
    }
    if cuda:
        result["max_mem_gib_allocated"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        result["max_mem_gib_reserved"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)
        result["gpu"] = torch.cuda.get_device_name()
        backends = torch.backends.cuda
        result["sdpa_backends_enabled"] = {
            "flash": backends.flash_sdp_enabled(),
            "cudnn": backends.cudnn_sdp_enabled(),
            "mem_efficient": backends.mem_efficient_sdp_enabled(),
            "math": backends.math_sdp_enabled(),
        }
        try:
            result["sdpa_kernels"] = _sdpa_kernels(cfg)
        except Exception as exc:  # the profiler is a nicety: never lose the numbers to it
            result["sdpa_kernels"] = f"not read: {type(exc).__name__}: {exc}"
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="scratch folder (shards and the run)")
    parser.add_argument("--json", required=True, help="write the result here")
    parser.add_argument("--preset", default="qwen2.5-0.5b")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--micro-batch-size", type=int, default=16)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--timed", type=int, default=30)
    parser.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument("--zero-stage", type=int, default=1)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument(
        "--loss-chunk-size", type=int, default=8192,
        help="tokens per chunk of the checkpointed cross-entropy (model.loss_chunk_size)",
    )  # fmt: skip
    parser.add_argument(
        "--vocab-size", type=int, default=QWEN_VOCAB,
        help="model embedding rows (0: the synthetic tokenizer's, rounded up)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = measure(
        args.root, preset=args.preset, seq_len=args.seq_len,
        micro_batch_size=args.micro_batch_size, grad_accum=args.grad_accum, warmup=args.warmup,
        timed=args.timed, dtype=args.dtype, zero_stage=args.zero_stage, device=args.device,
        compile=args.compile, peak_tflops=args.peak_tflops, vocab_size=args.vocab_size or None,
        loss_chunk_size=args.loss_chunk_size,
    )  # fmt: skip
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
