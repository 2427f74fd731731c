"""Configuration of `bridgelab probe`: which probe sets, which checkpoints, which scorers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridgelab.config import Config, param
from bridgelab.errors import ConfigError
from bridgelab.probes.scoring import SCORERS, ScorePolicy


@dataclass
class ProbeSetConfig(Config):
    """One family of probe sets; paper and synthetic sets come as an English and a native twin."""

    kind: Literal["paper", "synthetic", "lnewknow"] = param(
        "synthetic",
        help="paper: the paper's cloze JSON files; synthetic: a synth world's probes; "
        "lnewknow: one LNewKnow chat JSONL file (open QA mapped to 4-option cloze)",
    )
    path: str = param(
        "",
        help="paper: folder of <lang>-culture-cloze_<q>.json; synthetic: world folder; "
        "lnewknow: the .jsonl file",
    )
    langs: list[str] = param([], help="paper/synthetic: the cultures' languages (e.g. [ko, zh])")
    question_langs: list[str] = param(
        ["en", "native"], help="question languages to score; 'native' = the culture's language"
    )

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path: a probe set needs a path")
        if self.kind != "lnewknow" and not self.langs:
            raise ConfigError("langs: list the cultures' languages for paper/synthetic sets")
        bad = [q for q in self.question_langs if q not in ("en", "native")]
        if bad:
            raise ConfigError(f"question_langs: '{bad[0]}' is not 'en' or 'native'")


@dataclass
class CheckpointConfig(Config):
    """An explicit checkpoint folder (HF format), beside or instead of a grid."""

    path: str = param(help="HF checkpoint folder (config.json, weights, tokenizer files)")
    run: str = param("", help="run name in the results (default: the folder's name)")
    lang: str = param("", help="the CPT language of the run ('' = score it on every probe set)")
    setting: str = param("", help="bridge setting (bridge, nobridge, codeswitch, base, ...)")
    seed: int = param(0, help="the run's seed")
    step: int = param(-1, help="training step (-1: read bridgelab.json of the folder, else 0)")


@dataclass
class PolicyConfig(Config):
    """How the scorers treat defective items (see docs/probes.md); paper_exact ignores this."""

    no_blank: Literal["append", "skip"] = param(
        "append", help="an item with no blank: append the option to the question, or skip it"
    )
    multi_blank: Literal["fill_all", "skip"] = param(
        "fill_all", help="several blanks: fill all with the option (the official rule), or skip"
    )
    answer_missing: Literal["skip", "wrong"] = param(
        "skip", help="answer not among the options: leave the item out, or count it wrong"
    )
    ties: Literal["split", "first"] = param(
        "split", help="a tie at the top: 1/k credit (split) or the first option wins (first)"
    )

    def build(self) -> ScorePolicy:
        return ScorePolicy(self.no_blank, self.multi_blank, self.answer_missing, self.ties)


@dataclass
class ProbeConfig(Config):
    """`bridgelab probe`: score checkpoints on bilingual cloze probes, item by item."""

    out_dir: str = param("runs/probes", help="output folder (items/, results.jsonl, summary.csv)")
    grid: str = param(
        "", help="a CPT grid folder holding grid.json ('' = explicit checkpoints only)"
    )
    checkpoints: list[CheckpointConfig] = param([], help="explicit checkpoint folders")
    probe_sets: list[ProbeSetConfig] = param([], help="the probe sets to score")
    scorers: list[str] = param(
        ["paper", "loglik", "loglik_norm"], help=f"scorers, among {', '.join(SCORERS)}"
    )
    match_run_lang: bool = param(
        True, help="score a run only on the cultures of its CPT language (runs without a lang: all)"
    )
    batch_size: int = param(16, help="sentences per forward pass")
    device: str = param("auto", help="auto (cuda when available), cpu, cuda, cuda:1, ...")
    dtype: Literal["float32", "bfloat16", "float16"] = param(
        "float32",
        help="model dtype for paper/loglik (paper_exact always scores bf16 weights with float32 "
        "rotary buffers, as the official script loads them)",
    )
    null_model: bool = param(
        True, help="also score a randomly initialised model of each checkpoint architecture"
    )
    null_seed: int = param(0, help="seed of the null model's initialisation")
    permutations: Literal["none", "cyclic"] = param(
        "cyclic", help="position-bias control: re-decide items under every cyclic option shift"
    )
    policy: PolicyConfig = param(PolicyConfig(), help="treatment of defective items")
    options_seed: int = param(0, help="seed of LNewKnow's distractor options and answer position")
    limit: int = param(0, help="score only the first N items of every set (0 = all)")

    def validate(self) -> None:
        super().validate()
        bad = [s for s in self.scorers if s not in SCORERS]
        if bad:
            raise ConfigError(f"scorers: unknown scorer '{bad[0]}' (known: {', '.join(SCORERS)})")
        if not self.scorers:
            raise ConfigError("scorers: name at least one scorer")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size: must be >= 1, got {self.batch_size}")
        if self.limit < 0:
            raise ConfigError(f"limit: must be >= 0, got {self.limit}")
