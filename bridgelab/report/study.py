"""`bridgelab study`: run every stage of the study in order, resumably, from one config.

A study config names, for each stage, the stage's own YAML config and the dot-path overrides
that wire it to the others (``data.path=${out_dir}/shards/en``). ``${out_dir}`` and the other
``${name}`` placeholders (``string.Template`` syntax, so YAML flow maps like ``{kind: x}`` in an
override need no escaping) are filled from :data:`StudyConfig.vars` and ``out_dir``, so the wiring is
written out in the YAML where a reader can see it, not hidden in code. Each stage's own ``run``
skips work that is already complete, so re-running a study redoes only what is missing;
``study.json`` records each stage's status, output folder and wall time.
"""

from __future__ import annotations

import importlib
import json
import logging
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgelab.config import Config, param
from bridgelab.errors import ConfigError
from bridgelab.utils.io import atomic_write_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageSpec:
    name: str
    config: str  # "module:ClassName"
    run: str  # "module:function" taking (cfg, force=...) and returning the output folder
    what: str


# The order of the study. Each stage reads only files that earlier stages wrote.
STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "synth",
        "bridgelab.synth.config:SynthConfig",
        "bridgelab.synth:run",
        "generate the synthetic world",
    ),
    StageSpec(
        "tokenizer",
        "bridgelab.data.tokenizer:TokenizerConfig",
        "bridgelab.data.tokenizer:run",
        "train or load the tokenizer",
    ),
    StageSpec(
        "prepare",
        "bridgelab.data.prepare:PrepareConfig",
        "bridgelab.data.prepare:run",
        "filter, tokenize and pack the English pretraining corpus",
    ),
    StageSpec(
        "pretrain",
        "bridgelab.pretrain.config:PretrainConfig",
        "bridgelab.pretrain:run",
        "pretrain from scratch on English",
    ),
    StageSpec(
        "grid",
        "bridgelab.cpt.grid:GridConfig",
        "bridgelab.cpt.grid:run_grid",
        "continued pretraining: languages x bridge settings x seeds",
    ),
    StageSpec(
        "calibrate",
        "bridgelab.calibrate.config:CalibrateConfig",
        "bridgelab.calibrate:run",
        "positive control: oracle clone family, alignment metrics of the grid",
    ),
    StageSpec(
        "probe",
        "bridgelab.probes.evaluate:ProbeConfig",
        "bridgelab.probes.evaluate:run",
        "score every checkpoint on the bilingual probes",
    ),
    StageSpec(
        "transfer",
        "bridgelab.probes.transfer:TransferConfig",
        "bridgelab.probes.transfer:run",
        "transfer estimates, significance, curves",
    ),
    StageSpec(
        "frequency",
        "bridgelab.retrieval.config:FrequencyConfig",
        "bridgelab.retrieval:run",
        "retrieval, judge and cultural density",
    ),
    StageSpec(
        "report",
        "bridgelab.report.build:ReportConfig",
        "bridgelab.report.build:run",
        "assemble the study report",
    ),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


@dataclass
class StageRef(Config):
    config: str | None = param(None, help="the stage's YAML config (None: the schema defaults)")
    overrides: list[str] = param([], help="dot-path overrides; ${out_dir} and ${var} are filled in")
    enabled: bool = param(True, help="run this stage (disabled stages must already be complete)")


@dataclass
class StudyConfig(Config):
    out_dir: str = param("runs/study", help="folder holding every stage's output and the report")
    vars: dict[str, str] = param({}, help="extra ${name} placeholders usable in stage overrides")
    stages: dict[str, StageRef] = param({}, help=f"per-stage config; keys among {STAGE_NAMES}")

    def validate(self) -> None:
        super().validate()
        unknown = sorted(set(self.stages) - set(STAGE_NAMES))
        if unknown:
            raise ConfigError(
                f"stages.{unknown[0]}: unknown stage (known: {', '.join(STAGE_NAMES)})"
            )
        if not self.stages:
            raise ConfigError("stages: a study needs at least one stage")


def _import(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def placeholders(cfg: StudyConfig) -> dict[str, str]:
    values = {"out_dir": cfg.out_dir}
    values.update(cfg.vars)
    return values


def resolve_stage(cfg: StudyConfig, spec: StageSpec) -> Config:
    """The stage's config: its YAML, then the study's overrides with placeholders filled in."""
    ref = cfg.stages[spec.name]
    values = placeholders(cfg)
    overrides = []
    for item in ref.overrides:
        try:
            overrides.append(string.Template(item).substitute(values))
        except (KeyError, ValueError) as exc:
            raise ConfigError(
                f"stages.{spec.name}.overrides: '{item}' uses an unknown placeholder {exc} "
                f"(known: {', '.join(sorted(values))})"
            ) from None
    config_cls = _import(spec.config)
    try:
        return config_cls.load(ref.config, overrides)
    except ConfigError as exc:
        raise ConfigError(f"stage '{spec.name}': {exc}") from None


def selected_stages(cfg: StudyConfig) -> list[StageSpec]:
    return [s for s in STAGES if s.name in cfg.stages]


def _finished_at(output: Path) -> float | None:
    """When the stage last finished work in ``output``: its DONE marker, or for a CPT grid
    (whose grid.json is rebuilt on every call) the newest DONE of its runs."""
    markers = [output / "DONE", *output.glob("runs/*/DONE")]
    stamps = [p.stat().st_mtime for p in markers if p.is_file()]
    return max(stamps) if stamps else None


def run_study(cfg: StudyConfig, *, force: bool = False, only: list[str] | None = None) -> Path:
    """Run the study's stages in order. ``force`` applies to the stages in ``only`` (or all).

    ``study.json`` keeps, per stage, the wall time of the invocation that did its work: a stage
    found complete on a re-run keeps its earlier time, so the file always describes the study
    as computed, not the last (mostly skipped) invocation.
    """
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg.dump(out / "study.yaml")
    status_path = out / "study.json"
    specs = selected_stages(cfg)
    # Resolve every config before running anything, so a typo in the last stage fails in seconds.
    resolved = {spec.name: resolve_stage(cfg, spec) for spec in specs}
    previous = {}
    if status_path.is_file():
        previous = json.loads(status_path.read_text(encoding="utf-8")).get("stages", {})
    stages: dict[str, Any] = {}
    for i, spec in enumerate(specs, start=1):
        ref = cfg.stages[spec.name]
        if (only and spec.name not in only) or not ref.enabled:
            stages[spec.name] = previous.get(spec.name, {"status": "not run"})
            continue
        log.info("[%d/%d] %s: %s", i, len(specs), spec.name, spec.what)
        t0 = time.time()
        output = Path(_import(spec.run)(resolved[spec.name], force=force))
        seconds = round(time.time() - t0, 1)
        finished = _finished_at(output)
        prev = previous.get(spec.name, {})
        reused = finished is not None and finished < t0 and prev.get("output") == str(output)
        if reused and prev.get("status") == "done":
            stages[spec.name] = prev
        else:
            stages[spec.name] = {"status": "done", "output": str(output), "seconds": seconds}
        total = sum(s.get("seconds") or 0 for s in stages.values())
        atomic_write_json(
            status_path, {"stages": {**previous, **stages}, "seconds": round(total, 1)}
        )
        log.info("[%d/%d] %s done in %.1f s -> %s", i, len(specs), spec.name, seconds, output)
    return out
