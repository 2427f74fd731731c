"""The oracle family: a pretrained model whose clone embeddings are moved toward English's.

A model pretrained on English only has a row for every clone token (the tokenizer holds the
clone from the start) that no input ever used: the *untrained* rows U. The English rows E hold
what pretraining learnt. A member of the family at weight w sets

- ``en_to_clone``: clone rows = (1 - w) U + w E, English rows unchanged. Clone questions about
  facts the model learnt in English measure en->clone transfer; at w = 1 the clone reads exactly
  as English, at w = 0 it is unknown text.
- ``clone_to_en``: clone rows = E (the clone "knows" the facts), English rows = (1 - w) U + w E.
  English questions measure clone->en transfer.

Input and output rows move together (with tied embeddings they are one matrix). No weights but
these rows change, so a member is the pretrained checkpoint plus a known amount of alignment:
the instrument must read chance at one end and the source accuracy at the other.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from bridgelab.contracts.clone import clone_text
from bridgelab.contracts.records import ProbeItem, read_probes
from bridgelab.contracts.truth import load_ground_truth
from bridgelab.errors import DataError


class OracleFamily:
    """Remembers the pretrained rows of the mapped tokens and sets a member in place."""

    def __init__(self, model: Any, pairs: dict[int, int]):
        if not pairs:
            raise DataError("the tokenizer's clone map is empty: nothing to calibrate")
        self.model = model
        self.en = torch.tensor(sorted(pairs))
        self.clone = torch.tensor([pairs[i] for i in sorted(pairs)])
        vocab = model.get_input_embeddings().weight.shape[0]
        if int(self.clone.max()) >= vocab:
            raise DataError(
                f"clone token id {int(self.clone.max())} outside the model's {vocab} rows"
            )
        weights = [model.get_input_embeddings().weight]
        out = model.get_output_embeddings()
        self.tied = out is None or out.weight.data_ptr() == weights[0].data_ptr()
        if not self.tied:
            weights.append(out.weight)
        self.rows = [(w, w.data[self.en].clone(), w.data[self.clone].clone()) for w in weights]

    @torch.no_grad()
    def set(self, direction: str, weight: float) -> None:
        for matrix, english, untrained in self.rows:
            mixed = (1.0 - weight) * untrained + weight * english
            if direction == "en_to_clone":
                matrix.data[self.en] = english
                matrix.data[self.clone] = mixed
            elif direction == "clone_to_en":
                matrix.data[self.clone] = english
                matrix.data[self.en] = mixed
            else:
                raise ValueError(f"unknown direction {direction!r}")

    def restore(self) -> None:
        with torch.no_grad():
            for matrix, english, untrained in self.rows:
                matrix.data[self.en] = english
                matrix.data[self.clone] = untrained


def calibration_items(
    world: str | Path, script: str, *, max_items: int = 0, seed: int = 0
) -> list[tuple[ProbeItem, ProbeItem, str]]:
    """(English item, its clone, culture language) for every probed fact the English corpus
    states: the facts a model pretrained on English can know. Ids are made unique across sets
    as ``<culture language>:<id>``."""
    folder = Path(world) / "probes"
    known = {
        (row["lang"], row["probe_id"])
        for row in load_ground_truth(world)
        if row.get("probe_id") and row["counts"].get("en", 0) > 0
    }
    out = []
    for path in sorted(folder.glob("*.en.jsonl")):
        culture_lang = path.name.split(".")[0]
        for item in read_probes(path):
            if (culture_lang, item.id) not in known:
                continue
            en = replace(item, id=f"{culture_lang}:{item.id}")
            cl = replace(
                en,
                lang="clone",
                question=clone_text(item.question, script),
                options=tuple(clone_text(o, script) for o in item.options),
                answer=clone_text(item.answer, script),
            )
            out.append((en, cl, culture_lang))
    if not out:
        raise DataError(f"{folder}: no English probe item of a fact the English corpus states")
    if max_items and len(out) > max_items:
        rng = torch.Generator().manual_seed(seed)
        keep = sorted(torch.randperm(len(out), generator=rng)[:max_items].tolist())
        out = [out[i] for i in keep]
    return out
