"""The dose-response stage's config (``DoseConfig``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridgelab.config import Config, param
from bridgelab.contracts.settings import BASELINE
from bridgelab.errors import ConfigError


@dataclass
class DoseConfig(Config):
    """`bridgelab dose`: accuracy against how often the world stated each fact."""

    world: str = param("", help="synthetic world folder (ground_truth.jsonl, probes/)")
    results: str = param("runs/probes", help="a `bridgelab probe` folder (or its results.jsonl)")
    out_dir: str = param("runs/dose", help="output folder: CSV/Markdown tables, dose.png")
    scorer: str = param("paper", help="the scorer whose credits and predictions are analysed")
    floor: Literal["chance", "none"] = param(
        "chance",
        help="chance: p = chance + (1 - chance) * sigmoid(a + b log2(count + 1)), the threshold "
        "is where half the facts are known above guessing; none: a plain logistic with the "
        "threshold at p = 0.5 (docs/dose.md)",
    )
    steps: Literal["last", "all"] = param(
        "last", help="last: each run's last checkpoint only; all: every step (curves over CPT)"
    )
    baseline: str = param(BASELINE, help="the setting without bridges (transfer differences)")
    treatments: list[str] = param(["bridge"], help="settings compared against the baseline")
    n_boot: int = param(
        1000,
        help="bootstrap resamples over facts for the band and the threshold CI; 0: parametric "
        "(coefficient covariance, delta method), which ignores that seeds of a fact correlate",
    )
    level: float = param(0.95, help="confidence level of every interval")
    seed: int = param(0, help="bootstrap seed")

    def validate(self) -> None:
        super().validate()
        if not self.world:
            raise ConfigError("world: required (a synthetic world folder with ground truth)")
        if not 0.5 < self.level < 1:
            raise ConfigError(f"level: must be in (0.5, 1), got {self.level}")
        if self.n_boot and self.n_boot < 100:
            raise ConfigError(f"n_boot: 0 (parametric) or at least 100, got {self.n_boot}")
        if self.baseline in self.treatments:
            raise ConfigError("treatments: the baseline cannot also be a treatment")
