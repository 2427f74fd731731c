"""Tokenize-and-pack throughput of `bridgelab prepare` against `datasets.map(batched=True)`.

All three sides use the same tokenizer (the paper's Qwen tokenizer, built from the shared
``qwen.tiktoken``) on the same documents (the shared samples of all five study languages), in
one process, interleaved, best of ``--repeats``:

- bridgelab: :func:`bridgelab.contracts.shards.write_documents_to_shards` (tokenize, append EOS,
  pack into uint32 shards with their index files, written atomically);
- datasets: ``Dataset.from_dict(...).map(tokenizer, batched=True)`` then the same packing
  (concatenate with EOS, write one flat array): the usual Hugging Face recipe;
- raw: the Rust tokenizer's ``encode_batch_fast`` on all texts, nothing else (the floor; the
  ratio to it is the pipeline's overhead).

Usage: python benchmarks/bench_prepare.py [--data ../shared/data] [--docs-per-lang 400]
Results: benchmarks/results/prepare.{md,json}
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")  # both sides get Rust threads
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from bridgelab.contracts.shards import write_documents_to_shards
from bridgelab.contracts.tokenizer import load_tokenizer
from bridgelab.data.sources import read_mono  # noqa: E402
from bridgelab.data.tokenizer import TokenizerConfig, run

RESULTS = Path(__file__).resolve().parent / "results"


def bench_bridgelab(tok, info, docs, tmp: Path) -> int:
    out = Path(tempfile.mkdtemp(dir=tmp))
    shards = write_documents_to_shards(
        ({"id": d.id, "text": d.text} for d in docs), tok, out,
        eos_id=info["eos_id"], vocab_size=info["vocab_size"], progress=False,
    )  # fmt: skip
    return sum(s["num_tokens"] for s in shards)


def bench_datasets(tok, info, docs, tmp: Path) -> int:
    import datasets

    datasets.disable_progress_bars()
    ds = datasets.Dataset.from_dict({"id": [d.id for d in docs], "text": [d.text for d in docs]})
    ds = ds.map(
        lambda batch: tok(batch["text"], add_special_tokens=False),
        batched=True, remove_columns=["text"], keep_in_memory=True,
    )  # fmt: skip
    eos = info["eos_id"]
    flat = np.fromiter(
        itertools.chain.from_iterable(ids + [eos] for ids in ds["input_ids"]), dtype=np.uint32
    )
    flat.tofile(Path(tempfile.mkdtemp(dir=tmp)) / "tokens.bin")
    return int(flat.size)


def bench_raw(tok, info, docs, tmp: Path) -> int:
    encs = tok.backend_tokenizer.encode_batch_fast([d.text for d in docs], add_special_tokens=False)
    return sum(len(e.ids) + 1 for e in encs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", help="the shared sample data folder")
    parser.add_argument("--docs-per-lang", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        tok_dir = run(
            TokenizerConfig(
                out_dir=str(tmp / "qwen"),
                kind="tiktoken",
                path=f"{args.data}/tokenizers/qwen.tiktoken",
            )
        )
        tok, info = load_tokenizer(tok_dir)
        docs = [
            d
            for lang in ("en", "ko", "zh", "bo", "mn")
            for d in itertools.islice(read_mono(lang, args.data), args.docs_per_lang)
        ]
        chars = sum(len(d.text) for d in docs)
        sides = {
            "bridgelab": bench_bridgelab,
            "datasets.map": bench_datasets,
            "raw encode_batch": bench_raw,
        }
        best = {name: float("inf") for name in sides}
        best_cpu = dict(best)
        tokens = {}
        for _ in range(args.repeats):
            for name, fn in sides.items():
                start, cpu = time.perf_counter(), time.process_time()
                tokens[name] = fn(tok, info, docs, tmp)
                best[name] = min(best[name], time.perf_counter() - start)
                # CPU seconds of all threads: the work done, less sensitive to a busy machine
                best_cpu[name] = min(best_cpu[name], time.process_time() - cpu)
    if len(set(tokens.values())) != 1:
        raise SystemExit(f"the sides produced different token counts: {tokens}")
    n_tokens = tokens["bridgelab"]
    result = {
        "docs": len(docs),
        "chars": chars,
        "tokens": n_tokens,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_average": os.getloadavg(),
        "seconds": best,
        "cpu_seconds": best_cpu,
        "tokens_per_s": {k: n_tokens / v for k, v in best.items()},
        "speedup_vs_datasets_map": best["datasets.map"] / best["bridgelab"],
        "overhead_vs_raw_encode": best["bridgelab"] / best["raw encode_batch"],
        "cpu_speedup_vs_datasets_map": best_cpu["datasets.map"] / best_cpu["bridgelab"],
        "cpu_overhead_vs_raw_encode": best_cpu["bridgelab"] / best_cpu["raw encode_batch"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "prepare.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Tokenize-and-pack throughput (`python benchmarks/bench_prepare.py`)",
        "",
        f"{len(docs)} documents of the shared samples (en, ko, zh, bo, mn; {chars:,} characters, "
        f"{n_tokens:,} tokens), Qwen tokenizer, {result['cpus']} CPUs, best of {args.repeats}.",
        "",
        f"Load average during the run: {result['load_average'][0]:.1f} (a shared machine: "
        "wall times are noisy, CPU seconds of all threads less so).",
        "",
        "| pipeline | wall s | tokens/s (wall) | CPU s |",
        "|---|---:|---:|---:|",
        *(
            f"| {k} | {best[k]:.2f} | {result['tokens_per_s'][k]:,.0f} | {best_cpu[k]:.2f} |"
            for k in sides
        ),
        "",
        f"bridgelab vs datasets.map(batched=True): **{result['speedup_vs_datasets_map']:.2f}x** "
        f"(wall), {result['cpu_speedup_vs_datasets_map']:.2f}x (CPU).",
        f"bridgelab vs raw encode_batch_fast: {result['overhead_vs_raw_encode']:.2f}x the wall "
        f"time, {result['cpu_overhead_vs_raw_encode']:.2f}x the CPU time (EOS, packing, index "
        "files, atomic writes).",
    ]
    (RESULTS / "prepare.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
