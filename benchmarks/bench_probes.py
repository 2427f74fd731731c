"""Items scored per second on CPU: bridgelab's option log-likelihood scorer vs lm-evaluation-harness.

Both score the same items with the same model (a small random Qwen2 with a byte-level BPE
tokenizer trained here) and must agree on acc item by item; the script checks that before it
reports. lm-eval is given the already loaded model (``HFLM(pretrained=model)``) so that neither
side pays for loading; lm-eval's time includes building its task and requests, which is part of
scoring with it. Results go to benchmarks/results/probes.md.

    python benchmarks/bench_probes.py [--items 200] [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from bridgelab.contracts.probe_sets import load_paper_set
from bridgelab.contracts.records import ProbeItem
from bridgelab.probes.scoring import ScorePolicy, context_before_blank, score_items  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "probes.md"


def bench_items(n: int) -> list[ProbeItem]:
    """English items of the paper's Korean set when the sample data is there, else generated."""
    root = os.environ.get("BRIDGELAB_SAMPLE_DATA")
    if root and Path(root, "probes", "cross_lingual_culture").is_dir():
        items = load_paper_set(Path(root, "probes", "cross_lingual_culture"), "ko", "en").items
        return [it for it in items if it.answer_index is not None and "___" in it.question][:n]
    words = ["river", "mountain", "festival", "dumpling", "song", "king", "temple", "harvest"]
    return [
        ProbeItem(f"g{i}", "c", "en", f"In the story number {i}, the {words[i % 8]} is called ___ by everyone.",
                  tuple(f"{w}{i % 5}" for w in words[:4]), f"{words[i % 4]}{i % 5}")
        for i in range(n)
    ]  # fmt: skip


def build_model(items: list[ProbeItem], folder: Path):
    from bridgelab.testing import save_tiny_qwen2, train_byte_bpe

    tok = train_byte_bpe([f"{it.question} {' '.join(it.options)}" for it in items], 2000)
    save_tiny_qwen2(folder, tok, hidden_size=256, intermediate_size=768, num_layers=4,
                    max_positions=512)  # fmt: skip
    from bridgelab.probes.models import load_model, load_tokenizer

    return load_model(folder, device="cpu"), load_tokenizer(folder)


def run_lm_eval(model, tok, items: list[ProbeItem], data: Path, batch_size: int) -> list[dict]:
    import lm_eval
    from lm_eval.models.huggingface import HFLM

    data.write_text("".join(json.dumps({"context": context_before_blank(it.question),
                                        "options": list(it.options), "gold": it.answer_index}) + "\n"
                            for it in items))  # fmt: skip
    task = {
        "task": "bench_cloze", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test", "output_type": "multiple_choice", "doc_to_text": "context",
        "doc_to_choice": "options", "doc_to_target": "gold", "target_delimiter": "",
        "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}],
    }  # fmt: skip
    hflm = HFLM(pretrained=model, tokenizer=tok, batch_size=batch_size, device="cpu")
    out = lm_eval.simple_evaluate(model=hflm, tasks=[task], log_samples=True, batch_size=batch_size)
    return sorted(out["samples"]["bench_cloze"], key=lambda s: s["doc_id"])


def run_hflm_loglikelihood(model, tok, items: list[ProbeItem], batch_size: int) -> list[float]:
    """Only lm-eval's scoring engine: ``HFLM.loglikelihood`` on prebuilt requests."""
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    hflm = HFLM(pretrained=model, tokenizer=tok, batch_size=batch_size, device="cpu")
    requests = [
        Instance("loglikelihood", doc={}, arguments=(context_before_blank(it.question), o), idx=i)
        for it in items
        for i, o in enumerate(it.options)
    ]
    return [ll for ll, _ in hflm.loglikelihood(requests, disable_tqdm=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    items = bench_items(args.items)
    with tempfile.TemporaryDirectory() as tmp:
        model, tok = build_model(items, Path(tmp) / "model")
        policy = ScorePolicy(ties="first")
        score_items(model, tok, items[:8], "loglik", policy=policy)  # warm-up
        ours, theirs, engine = [], [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            rows = score_items(
                model, tok, items, "loglik", batch_size=args.batch_size, policy=policy
            )
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            samples = run_lm_eval(model, tok, items, Path(tmp) / "items.jsonl", args.batch_size)
            theirs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lls = run_hflm_loglikelihood(model, tok, items, args.batch_size)
            engine.append(time.perf_counter() - t0)
    agree = sum(r.correct == s["acc"] for r, s in zip(rows, samples))
    if agree != len(items):
        raise SystemExit(f"the scorers disagree on {len(items) - agree} of {len(items)} items")
    ours_lls = [s for r in rows for s in r.scores]
    worst = max(abs(a - b) for a, b in zip(ours_lls, lls))
    if worst > 1e-3:
        raise SystemExit(f"log-likelihoods differ from HFLM's by up to {worst:.2g}")
    ours_ips, theirs_ips = len(items) / min(ours), len(items) / min(theirs)
    engine_ips = len(items) / min(engine)
    text = (
        "# Probe scoring throughput (CPU)\n\n"
        f"`python benchmarks/bench_probes.py --items {args.items} --threads {args.threads} "
        f"--repeats {args.repeats} --batch-size {args.batch_size}`, {time.strftime('%Y-%m-%d')}, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}.\n\n"
        f"Model: random Qwen2 (256 hidden, 4 layers, vocab {len(tok)}), {len(items)} items x 4 options, "
        f"option log-likelihood (acc/acc_norm), best of {args.repeats} runs; both sides agree on acc "
        f"for {agree}/{len(items)} items.\n\n"
        "| scorer | seconds | items/s | ratio |\n|---|---|---|---|\n"
        f"| bridgelab `score_items(..., 'loglik')` | {min(ours):.2f} | {ours_ips:.1f} | {ours_ips / theirs_ips:.2f}x |\n"
        f"| lm-evaluation-harness `simple_evaluate` (HFLM, preloaded model) | {min(theirs):.2f} | "
        f"{theirs_ips:.1f} | 1.00x |\n"
        f"| lm-evaluation-harness `HFLM.loglikelihood` only (prebuilt requests) | {min(engine):.2f} | "
        f"{engine_ips:.1f} | {engine_ips / theirs_ips:.2f}x |\n\n"
        f"Log-likelihoods agree with HFLM's to {worst:.1e}. Against lm-eval's scoring engine alone, "
        f"bridgelab is {ours_ips / engine_ips:.2f}x; the rest of `simple_evaluate`'s time is its "
        "set-up (indexing its task registry, building the task, dataset and requests) and metrics. The CPU is shared, so repeat runs vary.\n"
    )  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
