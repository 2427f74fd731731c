"""The scorer names and the policy for defective items: what a probe config names, kept apart from
the scorers themselves so that loading a config imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SCORERS = ("paper", "paper_exact", "loglik", "loglik_norm")
Scorer = Literal["paper", "paper_exact", "loglik", "loglik_norm"]


@dataclass(frozen=True)
class ScorePolicy:
    """What the scorers do with defective items (documented in docs/probes.md)."""

    no_blank: Literal["append", "skip"] = "append"  # append: the option follows the question
    multi_blank: Literal["fill_all", "skip"] = "fill_all"  # fill_all: as the official scorer
    answer_missing: Literal["skip", "wrong"] = "skip"  # skip: not in the accuracy denominator
    ties: Literal["split", "first"] = "split"  # split: 1/k credit; first: option order decides
