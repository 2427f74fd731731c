"""`bridgelab trace-step RUN_DIR STEP`: the documents each sequence of a step saw.

The data order is a pure function of (seed, step), so the run's saved config and its shards
are enough: nothing from training itself is needed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bridgelab.contracts.shards import TokenCorpus
from bridgelab.errors import DataError, RunFolderError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.data_order import StepOrder, step_documents


def trace_step(run_dir: str | Path, step: int) -> list[dict[str, Any]]:
    """One row per sequence of ``step``: position, window, token range and document ids."""
    config_file = Path(run_dir) / "config.yaml"
    if not config_file.is_file():
        raise RunFolderError(f"{run_dir}: no config.yaml (not a pretraining run folder)")
    cfg = PretrainConfig.load(config_file)
    if not 1 <= step <= cfg.train.steps:
        raise DataError(f"step {step} outside [1, {cfg.train.steps}] of {config_file}")
    corpus = TokenCorpus(cfg.data.path)
    seq_len = cfg.data.seq_len
    order = StepOrder(corpus.num_windows(seq_len), cfg.train.global_batch_size, cfg.seed)
    rows = []
    for pos, window, docs in step_documents(corpus, order, step, seq_len):
        start, end = corpus.window_range(window, seq_len)
        rows.append({"step": step, "position": pos, "window": window, "start": start,
                     "end": end, "doc_ids": [d.id for d in docs]})  # fmt: skip
    return rows


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a pretraining/CPT run folder")
    parser.add_argument("step", type=int, help="training step (1-based, as in metrics.jsonl)")


def main(args: argparse.Namespace) -> int:
    for row in trace_step(args.run_dir, args.step):
        print(json.dumps(row, ensure_ascii=False))
    return 0
