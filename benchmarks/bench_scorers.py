"""Probe scorers at the paper's vocabulary: bridgelab against lm-eval's HFLM and the official loop.

The model is a randomly initialised Qwen2 with the paper's 151,936-entry vocabulary (2 layers,
hidden 64), the tokenizer the paper's (Qwen2.5, built from ``tokenizers/qwen.tiktoken``), the
items every one of the paper's probe files (8 files, 2,940 items). At this shape the vocabulary
projection is nearly all of a forward pass, which is where the shared-prefix scorer
(``bridgelab.probes.prefix``) saves. Pairs measured side by side, alternating, in one process:

- ``loglik`` (shared prefix) vs lm-eval's ``HFLM.loglikelihood`` on the same requests;
- ``paper`` (shared prefix, float32) vs ``paper_exact`` (the official per-sentence bf16 loop);
- the unshared bridgelab computation of both families, for the share each technique carries.

Before reporting, it checks item-level results: shared == unshared for ``paper`` and ``loglik``
(pred and credit, scores within 1e-4), and ``loglik`` acc == HFLM's on every item.

    BRIDGELAB_SAMPLE_DATA=../shared/data python benchmarks/bench_scorers.py [--items 0] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_probes import run_hflm_loglikelihood  # noqa: E402  (the same peer call)

from bridgelab.contracts.probe_sets import PAPER_LANGS, load_paper_set
from bridgelab.probes.scoring import ScorePolicy, score_items  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "scorers.md"


def paper_items(root: Path, limit: int):
    items = [it for lang in PAPER_LANGS for q in ("en", lang)
             for it in load_paper_set(root / "probes" / "cross_lingual_culture", lang, q).items]  # fmt: skip
    return items[:limit] if limit else items


def build(folder: Path, tiktoken: Path):
    from transformers import PreTrainedTokenizerFast

    from bridgelab.data.tokenizer import build_qwen_tokenizer
    from bridgelab.probes.models import load_model, load_tokenizer
    from bridgelab.testing import save_tiny_qwen2

    tok = PreTrainedTokenizerFast(
        tokenizer_object=build_qwen_tokenizer(tiktoken), eos_token="<|endoftext|>"
    )
    assert len(tok) >= 151_643, len(tok)
    save_tiny_qwen2(folder, tok, hidden_size=64, intermediate_size=128, num_layers=2,
                    max_positions=1024)  # fmt: skip
    return load_model(folder, device="cpu"), load_tokenizer(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=0, help="first N items (0 = all 2,940)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    root = Path(os.environ.get("BRIDGELAB_SAMPLE_DATA", "../shared/data"))
    if not (root / "probes" / "cross_lingual_culture").is_dir():
        raise SystemExit(f"the paper's probe files are not under {root} (BRIDGELAB_SAMPLE_DATA)")
    torch.set_num_threads(args.threads)
    items = paper_items(root, args.items)
    # every scorer sees the same items: those the default policy scores (paper_exact scores all)
    items = [it for it in items if it.answer_index is not None and "___" in it.question]
    policy = ScorePolicy(ties="first")
    bs = args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        model, tok = build(Path(tmp) / "model", root / "tokenizers" / "qwen.tiktoken")
        sides = {
            "loglik (shared prefix)": lambda: score_items(model, tok, items, "loglik", batch_size=bs, policy=policy),
            "HFLM.loglikelihood": lambda: run_hflm_loglikelihood(model, tok, items, bs),
            "paper (shared prefix)": lambda: score_items(model, tok, items, "paper", batch_size=bs, policy=policy),
            "paper_exact (official loop)": lambda: score_items(model, tok, items, "paper_exact", policy=policy),
            "loglik (unshared)": lambda: score_items(model, tok, items, "loglik", batch_size=bs, policy=policy, shared_prefix=False),
            "paper (unshared)": lambda: score_items(model, tok, items, "paper", batch_size=bs, policy=policy, shared_prefix=False),
        }  # fmt: skip
        score_items(model, tok, items[:8], "loglik", policy=policy)  # warm-up
        times: dict[str, list[float]] = {k: [] for k in sides}
        outputs: dict[str, object] = {}
        load = [os.getloadavg()[0]]
        for rep in range(args.repeats):
            for name, fn in sides.items():
                t0 = time.perf_counter()
                outputs[name] = fn()
                times[name].append(time.perf_counter() - t0)
                print(f"repeat {rep}: {name} {times[name][-1]:.1f} s", flush=True)
            load.append(os.getloadavg()[0])
    checks = _check(items, outputs)
    _report(args, items, times, load, checks, len(tok))


def _check(items, out) -> list[str]:
    lines = []
    for fam in ("loglik", "paper"):
        a, b = out[f"{fam} (shared prefix)"], out[f"{fam} (unshared)"]
        same = sum((x.pred, x.correct) == (y.pred, y.correct) for x, y in zip(a, b))
        worst = max(abs(s - t) for x, y in zip(a, b) for s, t in zip(x.scores, y.scores))
        # float32 sums over 151,936-entry log-sum-exps differ in their last digits between the
        # two orders of summation (up to ~1e-4 on a summed option score): only a larger gap, or
        # any item-level difference, means a different computation
        if same != len(items) or worst > 1e-3:
            raise SystemExit(
                f"{fam}: shared and unshared differ ({same}/{len(items)}, {worst:.2g})"
            )
        lines.append(f"`{fam}` shared == unshared on {same}/{len(items)} items (pred and credit); "
                     f"scores within {worst:.1e}")  # fmt: skip
    rows, lls = out["loglik (shared prefix)"], out["HFLM.loglikelihood"]
    ours = [s for r in rows for s in r.scores]
    worst = max(abs(a - b) for a, b in zip(ours, lls))
    k = 0
    agree = 0
    for r in rows:  # HFLM's acc: argmax of its log-likelihoods, first on ties
        theirs = lls[k : k + len(r.scores)]
        k += len(r.scores)
        agree += int(np.argmax(theirs)) == r.pred
    lines.append(f"`loglik` vs HFLM: same prediction on {agree}/{len(rows)} items, "
                 f"log-likelihoods within {worst:.1e}")  # fmt: skip
    return lines


def _report(args, items, times, load, checks, vocab) -> None:
    best = {k: min(v) for k, v in times.items()}

    def ratio(a: str, b: str) -> str:
        pairs = [y / x for x, y in zip(times[a], times[b])]
        return f"**{np.median(pairs):.2f}x** (pairs: {', '.join(f'{p:.2f}' for p in pairs)})"

    lines = [
        "# Probe scorers at the paper's vocabulary (CPU)",
        "",
        f"`BRIDGELAB_SAMPLE_DATA=../shared/data python benchmarks/bench_scorers.py --items "
        f"{args.items} --repeats {args.repeats} --batch-size {args.batch_size} --threads "
        f"{args.threads}`, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} torch thread(s), {os.cpu_count()} cores (shared).",
        "",
        f"Model: random Qwen2 (hidden 64, 2 layers, vocab {vocab:,}, the paper's Qwen2.5 "
        f"tokenizer); {len(items):,} items of the paper's 8 probe files (those with a blank and "
        f"the answer among the options); {args.repeats} alternating repeats in one process; "
        f"1-minute load average {', '.join(f'{x:.1f}' for x in load)} (before and after each "
        "repeat; other jobs share the machine).",
        "",
        "| scorer | seconds (best) | all repeats | items/s |",
        "|---|---:|---|---:|",
        *(
            f"| {k} | {best[k]:.1f} | {', '.join(f'{x:.1f}' for x in v)} | "
            f"{len(items) / best[k]:.1f} |"
            for k, v in times.items()
        ),  # fmt: skip
        "",
        f"- `loglik` / `HFLM.loglikelihood`: {ratio('loglik (shared prefix)', 'HFLM.loglikelihood')}"
        " (goal >= 5x)",
        f"- `paper` / `paper_exact`: {ratio('paper (shared prefix)', 'paper_exact (official loop)')}"
        " (goal >= 2x)",
        f"- shared / unshared: `loglik` {ratio('loglik (shared prefix)', 'loglik (unshared)')}, "
        f"`paper` {ratio('paper (shared prefix)', 'paper (unshared)')}",
        "",
        "Checks:",
        *(f"- {c}" for c in checks),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
