"""Retrieval: index build and query throughput, recall@50 against ground truth, ANN speed-ups.

1. On a synthetic world (generated with ``configs/synth/demo.yaml`` unless ``--world`` is
   given), for every corpus: BM25, dense (bundled all-MiniLM-L6-v2, exact FAISS) and hybrid
   (RRF) side by side: build time, queries per second, and recall@50 of the documents that the
   ground truth says state each probe's fact. Dense over the non-Latin synthetic languages is
   measured too, to show why those corpora default to BM25.
2. FAISS IVF and HNSW against exact search (``IndexFlatIP``, the peer): query speed-up at the
   recall@50 they reach. Embedding 50k real passages is out of reach of a 2-core CPU, so the
   vectors are a seeded Gaussian mixture of the embedder's dimension (384), normalised.

Usage: python benchmarks/bench_retrieval.py [--world DIR] [--vectors 50000] [--queries 500]
Results: benchmarks/results/retrieval.{md,json}
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from bridgelab.retrieval.config import FrequencyConfig, RetrieverConfig  # noqa: E402
from bridgelab.retrieval.dense import DenseIndex, Embedder, build_faiss_index  # noqa: E402
from bridgelab.retrieval.docstore import DocumentStore  # noqa: E402
from bridgelab.retrieval.inputs import load_probes, resolve_world  # noqa: E402
from bridgelab.retrieval.retrievers import HybridIndex  # noqa: E402
from bridgelab.retrieval.sparse import BM25Index  # noqa: E402
from bridgelab.retrieval.text import statement  # noqa: E402
from bridgelab.retrieval.validate import read_ground_truth  # noqa: E402
from bridgelab.utils.tables import markdown  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
K = 50


def make_world(folder: Path) -> Path:
    from bridgelab.synth.config import SynthConfig
    from bridgelab.synth.output import run

    return run(SynthConfig.load(REPO / "configs/synth/demo.yaml", [f"out_dir={folder}"]))


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def world_rows(world: Path) -> list[dict]:
    cfg = resolve_world(FrequencyConfig(world=str(world), out_dir="unused"))
    probes = load_probes(cfg.probes)
    truth = read_ground_truth(cfg.ground_truth)
    rcfg = RetrieverConfig(index="flat")
    embedder = Embedder(None, device="cpu")
    rows = []
    for corpus, path in cfg.corpora.items():
        store = DocumentStore.load(corpus, path, passage_chars=rcfg.passage_chars)
        chosen = [p for p in probes if corpus == "en" or corpus in p.versions]
        queries = [statement(p.item_for(corpus)) for p in chosen]
        gold = [set(truth[p.id]["doc_ids"].get(corpus, [])) for p in chosen]
        bm25, bm25_s = timed(BM25Index.build, store)
        dense, dense_s = timed(DenseIndex.build, store, rcfg, embedder)
        for kind, index, build_s in (
            ("bm25", bm25, bm25_s),
            ("dense", dense, dense_s),
            ("hybrid", HybridIndex(dense, bm25, rcfg.rrf_k), bm25_s + dense_s),
        ):
            hits, query_s = timed(index.search, queries, K)
            found = sum(len(g & {store.ids[hit.doc] for hit in h}) for g, h in zip(gold, hits))
            rows.append(
                {
                    "corpus": corpus,
                    "retriever": kind,
                    "docs": len(store),
                    "probes": len(queries),
                    "true_docs": sum(len(g) for g in gold),
                    "recall_at_50": found / max(sum(len(g) for g in gold), 1),
                    "build_s": build_s,
                    "docs_per_s_build": len(store) / build_s,
                    "queries_per_s": len(queries) / query_s,
                }
            )
            print(rows[-1], flush=True)
    return rows


def mixture(n: int, dim: int, rng: np.random.Generator, centers: np.ndarray) -> np.ndarray:
    x = centers[rng.integers(0, len(centers), n)] + 0.35 * rng.standard_normal((n, dim))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def ann_rows(n: int, n_queries: int) -> list[dict]:
    import faiss

    faiss.omp_set_num_threads(1)  # the same single thread for every index: a fair ratio
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((256, 384))
    vectors, queries = mixture(n, 384, rng, centers), mixture(n_queries, 384, rng, centers)
    cfg = RetrieverConfig(use_gpu=False, hnsw_m=32)
    rows, exact, flat_s = [], None, None
    for kind in ("flat", "ivf", "hnsw"):
        index, build_s = timed(build_faiss_index, vectors, dataclasses.replace(cfg, index=kind))
        # search breadth is a query-time knob: one build, several settings
        knobs = {"flat": [("exact", None)], "ivf": [("nprobe", 4), ("nprobe", 16)]}
        for knob, value in knobs.get(kind, [("efSearch", 32), ("efSearch", 128)]):
            if knob == "nprobe":
                index.nprobe = value
            elif knob == "efSearch":
                index.hnsw.efSearch = value
            (_, ids), query_s = timed(index.search, queries, K)
            if kind == "flat":
                exact, flat_s = ids, query_s
            recall = float(np.mean([len(set(a) & set(e)) / K for a, e in zip(ids, exact)]))
            rows.append(
                {
                    "index": kind,
                    "setting": knob if value is None else f"{knob}={value}",
                    "vectors": n,
                    "build_s": build_s,
                    "queries_per_s": n_queries / query_s,
                    "speedup_vs_flat": flat_s / query_s,
                    "recall_at_50_vs_flat": recall,
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", help="synthetic world folder (default: generate the demo world)")
    parser.add_argument("--vectors", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(args.world) if args.world else make_world(Path(tmp) / "world")
        retrieval = world_rows(world)
    ann = ann_rows(args.vectors, args.queries)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # shared machines: the load average says how much the absolute speeds were squeezed
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads 2, "
        f"load average at the end {load}"
    )
    (RESULTS / "retrieval.json").write_text(
        json.dumps({"machine": machine, "world": retrieval, "ann": ann}, indent=2) + "\n"
    )
    (RESULTS / "retrieval.md").write_text(
        "# Retrieval benchmark\n\n"
        f"`python benchmarks/bench_retrieval.py` on {machine}.\n\n"
        f"## Recall@{K} of the true documents, and throughput, on the synthetic demo world\n\n"
        "Dense = bundled all-MiniLM-L6-v2 (English-only) with exact FAISS; hybrid = RRF of both.\n\n"
        + markdown(retrieval)
        + f"\n## FAISS IVF / HNSW against exact search ({args.vectors} vectors, dim 384, "
        f"{args.queries} queries, 1 thread)\n\n"
        "Vectors: a seeded, normalised Gaussian mixture (256 centres), not real embeddings.\n\n"
        + markdown(ann)
    )
    print(f"wrote {RESULTS / 'retrieval.md'}")


if __name__ == "__main__":
    main()
