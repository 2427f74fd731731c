"""A/B of two trainer configurations in one process, steps interleaved (A, B, A, B, ...).

On a shared machine the load moves minute to minute; interleaving single steps makes both
configurations see the same load, so their ratio is trustworthy where absolute numbers are not.
Each side is built exactly as ``bridgelab.pretrain.trainer.run`` builds it (model, loss, compile,
DeepSpeed engine, AdamW); the step is the trainer's.

    python benchmarks/ab_pretrain.py --a model.loss=checkpointed --b model.loss=fused
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.data_order import load_batch
from bridgelab.pretrain.distributed import init_distributed, resolve_device
from bridgelab.pretrain.engine import build_engine, deepspeed_config
from bridgelab.pretrain.inputs import open_inputs
from bridgelab.pretrain.synthetic import make_inputs
from bridgelab.pretrain.trainer import _init_model


def side(root: Path, tok, shards, steps: int, overrides: list[str], preset: str):
    cfg = PretrainConfig.load(preset, [
        f"tokenizer={tok}", f"data.path={shards}", f"out_dir={root}", f"train.steps={steps}",
        "checkpoint.hf_steps=[]", "checkpoint.save_every=0", "checkpoint.hf_final=false",
        "log.tensorboard=false", *overrides,
    ])  # fmt: skip
    inputs = open_inputs(cfg)
    engine = build_engine(_init_model(cfg, inputs), cfg, deepspeed_config(cfg, 1))
    engine.train()

    def step(k: int) -> float:
        loss_sum = 0.0
        for windows in inputs.order.rank_batches(k, 0, 1, cfg.train.micro_batch_size):
            x, y = load_batch(inputs.corpus, windows, cfg.data.seq_len)
            loss = engine(x, y)
            engine.backward(loss)
            engine.step()
            loss_sum += loss.item()
        return loss_sum

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", nargs="*", default=[])
    parser.add_argument("--b", nargs="*", default=[])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--preset", default="configs/pretrain/demo.yaml")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ab_pretrain_"))
    total = args.steps + args.warmup
    tok, shards = make_inputs(root / "data", num_docs=total * 16 * 129 // 45 + 200, num_words=4000)
    init_distributed(resolve_device("cpu"))
    a = side(root / "a", tok, shards, total, args.a, args.preset)
    b = side(root / "b", tok, shards, total, args.b, args.preset)
    ta, tb, la, lb = [], [], [], []
    for k in range(1, total + 1):
        for fn, times, losses in ((a, ta, la), (b, tb, lb)):
            t0 = time.perf_counter()
            losses.append(fn(k))
            times.append(time.perf_counter() - t0)
    ta, tb = np.array(ta[args.warmup :]), np.array(tb[args.warmup :])
    print(f"A {' '.join(args.a) or '(preset)'}: {ta.mean() * 1000:.1f} ms/step (median "
          f"{np.median(ta) * 1000:.1f})")  # fmt: skip
    print(f"B {' '.join(args.b) or '(preset)'}: {tb.mean() * 1000:.1f} ms/step (median "
          f"{np.median(tb) * 1000:.1f})")  # fmt: skip
    print(f"A/B time ratio (median of per-step ratios): {np.median(ta / tb):.3f}; "
          f"max |loss A - loss B| {max(abs(x - y) for x, y in zip(la, lb)):.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
