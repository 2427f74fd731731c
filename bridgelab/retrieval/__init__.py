"""Frequency analysis: how often each probe's fact occurs in each training corpus.

Document stores over corpora, BM25 / dense (FAISS) / hybrid retrievers, LLM or lexical judges
with a resumable SQLite judgment store, cultural density and the instance-level analysis.
Public names are imported lazily, so ``import bridgelab.retrieval`` stays light for the CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run": "bridgelab.retrieval.pipeline",
    "FrequencyConfig": "bridgelab.retrieval.config",
    "get_judge": "bridgelab.retrieval.judges",
    "JudgeRequest": "bridgelab.retrieval.judges",
    "Judgment": "bridgelab.retrieval.judges",
    "JudgmentStore": "bridgelab.retrieval.store",
    "density_table": "bridgelab.retrieval.density",
    "instance_table": "bridgelab.retrieval.density",
    "DocumentStore": "bridgelab.retrieval.docstore",
    "tokenize": "bridgelab.retrieval.text",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bridgelab.retrieval' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
