"""Exact counts: suffix-array index (tokengrams) against a plain numpy scan, on real shards.

The English Wikipedia sample of the shared data, tokenized as the model sees it (the paper's
Qwen tokenizer, 151,665 ids: uint32 shards; ``configs/data/tokenizer_qwen.yaml`` and
``configs/data/wiki_en.yaml``). Measured:

1. index build time and size (suffix tables, 8 bytes per token) next to the shards' own bytes;
2. counts per second for the answers of the paper's English probes (every BPE variant of each
   answer, whole-word matches, answer occurrences and answer documents), through the index;
3. the peer: the same counts by scanning the memory-mapped token arrays with numpy (match the
   first id, then check the following ones), through the same whole-word filter. Every count
   and every document set must be identical.

Usage: python benchmarks/bench_count.py [--data ../shared/data] [--work DIR]
Results: benchmarks/results/count.{md,json}
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

import numpy as np  # noqa: E402

from bridgelab.contracts.shards import TokenCorpus
from bridgelab.count.boundary import BOUNDARY, EdgeTable, needs_check  # noqa: E402
from bridgelab.count.index import CorpusIndex, build_index  # noqa: E402
from bridgelab.count.inputs import probe_queries  # noqa: E402
from bridgelab.count.variants import token_variants  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PROBES = [
    f"probes/cross_lingual_culture/{c}-culture-cloze_en.json" for c in ("bo", "ko", "mn", "zh")
]


def prepare(data: Path, work: Path) -> tuple[Path, Path, float]:
    """The Qwen tokenizer folder and the shards of the English sample (built once in ``work``)."""
    from bridgelab.data.prepare import PrepareConfig
    from bridgelab.data.prepare import run as prepare_run
    from bridgelab.data.tokenizer import TokenizerConfig
    from bridgelab.data.tokenizer import run as tokenizer_run

    tok = tokenizer_run(
        TokenizerConfig.load(
            REPO / "configs/data/tokenizer_qwen.yaml",
            [f"out_dir={work / 'qwen'}", f"path={data / 'tokenizers/qwen.tiktoken'}"],
        )
    )
    start = time.perf_counter()
    shards = prepare_run(
        PrepareConfig.load(
            REPO / "configs/data/wiki_en.yaml",
            [f"out_dir={work / 'wiki_en'}", f"tokenizer={tok}", f"data_root={data}"],
        )
    )
    return tok, shards, time.perf_counter() - start


def scan(corpus: TokenCorpus, edges: EdgeTable, variants, text: str) -> tuple[int, set[int]]:
    """The peer: numpy over the raw token arrays, the same whole-word rule and deduplication."""
    check_left, check_right = needs_check(text)
    starts_doc = np.array([d.start for d in corpus.docs], dtype=np.int64)
    ends = []
    base = 0
    for shard in corpus.manifest["shards"]:
        arr = np.memmap(corpus.path / f"{shard['name']}.bin", dtype=corpus.dtype, mode="r")
        for v in variants:
            ids = np.asarray(v.ids)
            cand = np.flatnonzero(arr[: arr.size - len(ids) + 1] == ids[0])
            for j in range(1, len(ids)):
                cand = cand[arr[cand + j] == ids[j]]
            left = check_left and edges.first[ids[0]] != BOUNDARY
            right = check_right and edges.last[ids[-1]] != BOUNDARY
            if left or right:
                cand = cand[edges.whole(arr, cand, len(ids), left, right)]
            ends.append(cand.astype(np.int64) + base + v.last)
        base += arr.size
    last = np.unique(np.concatenate(ends)) if ends else np.zeros(0, np.int64)
    docs = np.searchsorted(starts_doc, last, side="right") - 1
    return int(last.size), set(np.unique(docs).tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("BRIDGELAB_SAMPLE_DATA", str(REPO.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=Path(default_data))
    parser.add_argument("--work", type=Path, default=None, help="keep tokenizer/shards here")
    args = parser.parse_args()
    from bridgelab.contracts.tokenizer import load_tokenizer

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_count."))
    tok_dir, shard_dir, prepare_s = prepare(args.data, work)
    tokenizer, info = load_tokenizer(tok_dir)
    corpus = TokenCorpus(shard_dir)
    index_dir = work / "index"
    if index_dir.exists():
        import shutil

        shutil.rmtree(index_dir)  # time a fresh build
    meta = build_index(corpus, index_dir)
    index = CorpusIndex(corpus, index_dir, EdgeTable(tokenizer))
    answers = sorted(
        {a for q in probe_queries([str(args.data / p) for p in PROBES]) for a in q.answer.values()}
    )
    start = time.perf_counter()
    variants = {a: token_variants(tokenizer, a)[0] for a in answers}
    variant_s = time.perf_counter() - start

    start = time.perf_counter()
    fast = {a: index.find(variants[a], a) for a in answers}
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    slow = {a: scan(corpus, index.edges, variants[a], a) for a in answers}
    scan_s = time.perf_counter() - start
    mismatched = [a for a in answers if fast[a] != slow[a]]

    rows = {
        "tokens": corpus.num_tokens,
        "documents": len(corpus.docs),
        "dtype": corpus.dtype.name,
        "vocab_size": info["vocab_size"],
        "token_bytes": meta["token_bytes"],
        "index_bytes": meta["index_bytes"],
        "index_bytes_per_token": meta["index_bytes"] / corpus.num_tokens,
        "build_seconds": meta["build_seconds"],
        "build_tokens_per_s": corpus.num_tokens / meta["build_seconds"],
        "prepare_seconds": prepare_s,
        "answers": len(answers),
        "variants": sum(len(v) for v in variants.values()),
        "variant_seconds": variant_s,
        "index_seconds": index_s,
        "index_counts_per_s": len(answers) / index_s,
        "scan_seconds": scan_s,
        "scan_counts_per_s": len(answers) / scan_s,
        "speedup": scan_s / index_s,
        "identical": not mismatched,
        "mismatched": mismatched[:10],
        "answers_found": sum(n > 0 for n, _ in fast.values()),
        "total_occurrences": sum(n for n, _ in fast.values()),
        "loadavg": os.getloadavg(),
        "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "default"),
        "omp_threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "count.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "# Exact counts: tokengrams suffix array vs numpy scan",
        "",
        f"English Wikipedia sample, Qwen tokenizer ({rows['vocab_size']:,} ids, {rows['dtype']} "
        f"shards): {rows['documents']:,} documents, {rows['tokens']:,} tokens.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| shard bytes (tokens) | {rows['token_bytes']:,} |",
        f"| index bytes (suffix tables) | {rows['index_bytes']:,} ({rows['index_bytes_per_token']:.0f} per token) |",
        f"| index build | {rows['build_seconds']:.2f} s ({rows['build_tokens_per_s'] / 1e6:.2f} M tokens/s) |",
        f"| answers counted (paper's English probes) | {rows['answers']} ({rows['variants']} token variants; building them {rows['variant_seconds']:.2f} s) |",
        f"| index: counts per second | {rows['index_counts_per_s']:.1f} ({rows['index_seconds']:.2f} s) |",
        f"| numpy scan (peer): counts per second | {rows['scan_counts_per_s']:.2f} ({rows['scan_seconds']:.2f} s) |",
        f"| speed-up of the index | {rows['speedup']:.0f}x |",
        f"| identical counts and document sets | {rows['identical']} |",
        f"| answers found / occurrences | {rows['answers_found']} / {rows['total_occurrences']:,} |",
        "",
        f"Load average at the end {tuple(round(x, 2) for x in rows['loadavg'])} on {rows['cpus']} "
        f"CPUs (shared with other jobs); RAYON_NUM_THREADS={rows['rayon_threads']}, "
        f"OMP_NUM_THREADS={rows['omp_threads']}. Tokenizing the sample (`bridgelab prepare`, not "
        f"part of the index) took {rows['prepare_seconds']:.0f} s (0 when already prepared in --work).",
        "",
    ]
    (RESULTS / "count.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
