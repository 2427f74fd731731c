"""Alignment of one model state: Procrustes P@1, held-out sentence retrieval, the swap test.

Two kinds of target language are measured alike:
- a *token-level clone* (a fixed id map): Procrustes on the token rows themselves, the swap
  test on token sequences;
- a *synthetic language* (word-level lexicon, its own word order): Procrustes on word vectors
  (mean of a word's token rows), no swap test (there is no token-by-token map).
Both get parallel-sentence retrieval on held-out sentences of the world's filler grammar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from bridgelab.calibrate.alignment import (
    procrustes_p1,
    sentence_retrieval,
    swap_test,
    word_vectors,
)


@dataclass
class Pairing:
    """What a target language is paired with English by."""

    english: list[str]  # held-out English sentences
    other: list[str]  # their translations (or clones)
    swap_seqs: list[list[int]]  # English token sequences for the swap test ([] = no test)
    id_map: dict[int, int]  # English token id -> twin id ({} for a word-level language)
    words: list[tuple[str, str]]  # (English word, translation) for word-level Procrustes


def _rows(model: Any, which: str) -> tuple[torch.Tensor, bool]:
    inp = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    tied = out is None or out.weight.data_ptr() == inp.data_ptr()
    matrix = inp if which == "input" or tied else out.weight
    return matrix.detach().float().cpu(), tied


def measure(model: Any, tokenizer: Any, pairing: Pairing, *, seed: int, layer: int) -> dict:
    """Every alignment metric of ``model`` for ``pairing``, flat (metric name -> number), plus
    per-item hits under ``_hits`` for paired tests between models."""
    row: dict[str, Any] = {}
    hits: dict[str, list] = {}
    for which in ("input", "output"):
        matrix, tied = _rows(model, which)
        if pairing.id_map:
            keys = sorted(pairing.id_map)
            src, dst = matrix[keys], matrix[[pairing.id_map[k] for k in keys]]
        else:
            src = word_vectors(matrix, tokenizer, [a for a, _ in pairing.words])
            dst = word_vectors(matrix, tokenizer, [b for _, b in pairing.words])
        p = procrustes_p1(src, dst, seed=seed)
        row[f"procrustes_{which}"] = p["p1"]
        row[f"nn_{which}"] = p["p1_raw"]
        row["procrustes_chance"] = p["chance"]
        hits[f"procrustes_{which}"] = p["p1_hits"]
        row["tied"] = tied
    sr = sentence_retrieval(
        model, tokenizer, pairing.english, pairing.other, layer=None if layer < 0 else layer
    )
    row.update(
        retrieval=(sr["p1_en_to_x"] + sr["p1_x_to_en"]) / 2,
        retrieval_en_to_x=sr["p1_en_to_x"],
        retrieval_x_to_en=sr["p1_x_to_en"],
        retrieval_chance=sr["chance"],
        retrieval_layer=sr["layer"],
    )
    hits["retrieval"] = sr["hits"]
    if pairing.swap_seqs and pairing.id_map:
        sw = swap_test(model, pairing.swap_seqs, pairing.id_map, seed=seed)
        row.update(
            swap_score=sw["score"],
            swap_loss_en=sw["loss_en"],
            swap_loss=sw["loss_swap"],
            swap_loss_random=sw["loss_random"],
        )
    else:
        row.update(swap_score=float("nan"))
    row["_hits"] = hits
    return row
