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


def run_study(cfg: StudyConfig, *, force: bool = False, only: list[str] | None = None) -> Path:
    """Run the study's stages in order. ``force`` applies to the stages in ``only`` (or all)."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg.dump(out / "study.yaml")
    status_path = out / "study.json"
    specs = selected_stages(cfg)
    # Resolve every config before running anything, so a typo in the last stage fails in seconds.
    resolved = {spec.name: resolve_stage(cfg, spec) for spec in specs}
    status: dict[str, Any] = {"stages": {}}
    t_study = time.time()
    for i, spec in enumerate(specs, start=1):
        ref = cfg.stages[spec.name]
        if only and spec.name not in only:
            status["stages"][spec.name] = {"status": "not selected"}
            continue
        stage_cfg = resolved[spec.name]
        log.info("[%d/%d] %s: %s", i, len(specs), spec.name, spec.what)
        t0 = time.time()
        if not ref.enabled:
            status["stages"][spec.name] = {"status": "disabled"}
            continue
        output = _import(spec.run)(stage_cfg, force=force)
        status["stages"][spec.name] = {
            "status": "done",
            "output": str(output),
            "seconds": round(time.time() - t0, 1),
        }
        status["seconds"] = round(time.time() - t_study, 1)
        atomic_write_json(status_path, status)
        log.info(
            "[%d/%d] %s done in %.1f s -> %s", i, len(specs), spec.name, time.time() - t0, output
        )
    return out
