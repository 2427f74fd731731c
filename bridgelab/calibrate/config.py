"""The calibration stage's config (``CalibrateConfig``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridgelab.config import Config, param
from bridgelab.errors import ConfigError

DIRECTIONS = ("en_to_clone", "clone_to_en")


@dataclass
class AlignmentConfig(Config):
    sentences: int = param(128, help="held-out sentence pairs for the retrieval metric")
    swap_sequences: int = param(48, help="held-out English sentences for the swap test")
    layer: int = param(-1, help="hidden layer for sentence retrieval; -1 = the middle one")
    seed: int = param(0, help="seeds the Procrustes split, the held-out text and the swap test")


@dataclass
class CalibrateConfig(Config):
    """`bridgelab calibrate`: the oracle family of ``checkpoint`` and the alignment of ``grid``."""

    out_dir: str = param("runs/calibrate", help="output folder")
    world: str = param("", help="synthetic world folder (probes, ground truth, lexicons)")
    tokenizer: str = param("", help="tokenizer folder; must hold a token-level clone")
    checkpoint: str = param(
        "", help="pretrained HF checkpoint, or a pretraining run folder (its last export)"
    )
    grid: str = param(
        "", help="CPT grid folder: also measure alignment at every checkpoint of its runs; '': none"
    )
    weights: list[float] = param(
        [0.0, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0],
        help="mixing weights w: clone rows = (1 - w) x untrained rows + w x English rows",
    )
    directions: list[str] = param(
        list(DIRECTIONS),
        help="en_to_clone: the clone's rows move toward English's, clone questions are asked; "
        "clone_to_en: the clone holds English's rows and English's rows move from untrained "
        "ones toward their own, English questions are asked",
    )
    scorers: list[str] = param(["paper", "loglik"], help="probe scorers (bridgelab.probes)")
    max_items: int = param(0, help="at most this many probe items (seeded sample); 0 = all")
    null_model: bool = param(True, help="also score a randomly initialised model of the same shape")
    batch_size: int = param(32, help="sequences per forward pass when scoring")
    device: Literal["auto", "cpu", "cuda"] = param("auto", help="auto = cuda when available")
    seed: int = param(0, help="seeds the item sample and the null model")
    alignment: AlignmentConfig = param(AlignmentConfig(), help="alignment metrics")

    def validate(self) -> None:
        super().validate()
        for key in ("world", "tokenizer", "checkpoint"):
            if not getattr(self, key):
                raise ConfigError(f"{key}: required")
        bad = [w for w in self.weights if not 0.0 <= w <= 1.0]
        if bad or not self.weights:
            raise ConfigError(f"weights: need values in [0, 1], got {self.weights}")
        if 0.0 not in self.weights or 1.0 not in self.weights:
            raise ConfigError("weights: must include 0 (untrained end) and 1 (the oracle)")
        unknown = [d for d in self.directions if d not in DIRECTIONS]
        if unknown or not self.directions:
            raise ConfigError(f"directions: {unknown or '[]'} (known: {list(DIRECTIONS)})")
        from bridgelab.probes.policy import SCORERS

        unknown = [s for s in self.scorers if s not in SCORERS]
        if unknown or not self.scorers:
            raise ConfigError(f"scorers: {unknown or '[]'} (known: {list(SCORERS)})")
        if self.alignment.sentences < 4 or self.alignment.swap_sequences < 1:
            raise ConfigError("alignment.sentences must be >= 4 and swap_sequences >= 1")
