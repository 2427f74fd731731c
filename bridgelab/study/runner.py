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

import json
import logging
import os
import re
import signal
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from bridgelab.config import Config, param
from bridgelab.contracts.markers import DONE_MARKER
from bridgelab.errors import ConfigError, Stopped
from bridgelab.stage import Stage, import_object, stage_module, stages
from bridgelab.utils.io import atomic_write_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageSpec:
    """A stage of the study: the command it runs (its config class and its plan/run live in the
    command's :class:`~bridgelab.stage.Stage`) and what it does for the study."""

    name: str
    what: str

    @property
    def stage(self) -> Stage:
        return stages()[self.name]

    @property
    def config(self) -> str:
        return self.stage.config


# The order of the study. Each stage reads only files that earlier stages wrote.
STAGES: tuple[StageSpec, ...] = (
    StageSpec("synth", "generate the synthetic world"),
    StageSpec("tokenizer", "train or load the tokenizer"),
    StageSpec("prepare", "filter, tokenize and pack the English pretraining corpus"),
    StageSpec("pretrain", "pretrain from scratch on English"),
    StageSpec("grid", "continued pretraining: languages x bridge settings x seeds"),
    StageSpec("calibrate", "positive control: oracle clone family, alignment metrics of the grid"),
    StageSpec("probe", "score every checkpoint on the bilingual probes"),
    StageSpec("transfer", "transfer estimates, significance, curves"),
    StageSpec(
        "dose", "accuracy against document count: fitted curves, thresholds, priority, robustness"
    ),  # fmt: skip
    StageSpec(
        "count",
        "exact answer and subject-answer co-occurrence counts (suffix arrays over token shards)",
    ),  # fmt: skip
    StageSpec("frequency", "retrieval, judge and cultural density"),
    StageSpec("report", "assemble the study report"),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


@dataclass
class StageRef(Config):
    config: str | None = param(None, help="the stage's YAML config (None: the schema defaults)")
    overrides: list[str] = param([], help="dot-path overrides; ${out_dir} and ${var} are filled in")
    enabled: bool = param(True, help="run this stage (disabled stages must already be complete)")


def check_stage_names(names: Any, key: str = "stages") -> None:
    """A ConfigError naming the first key of ``names`` that is not a study stage."""
    unknown = sorted(set(names) - set(STAGE_NAMES))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}: unknown stage (known: {', '.join(STAGE_NAMES)})")


@dataclass
class StudyConfig(Config):
    out_dir: str = param("runs/study", help="folder holding every stage's output and the report")
    vars: dict[str, str] = param({}, help="extra ${name} placeholders usable in stage overrides")
    stages: dict[str, StageRef] = param({}, help=f"per-stage config; keys among {STAGE_NAMES}")

    def validate(self) -> None:
        super().validate()
        check_stage_names(self.stages)
        if not self.stages:
            raise ConfigError("stages: a study needs at least one stage")


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
    config_cls = import_object(spec.config)
    try:
        return config_cls.load(ref.config, overrides)
    except ConfigError as exc:
        raise ConfigError(f"stage '{spec.name}': {exc}") from None


def selected_stages(cfg: StudyConfig) -> list[StageSpec]:
    return [s for s in STAGES if s.name in cfg.stages]


def missing_inputs(cfg: StudyConfig) -> list[str]:
    """Inputs that no stage of the study builds and that do not exist: a study must either build
    each input or name it in its config, so these fail before anything runs."""
    from bridgelab.contracts.provenance import exists, input_paths, inside

    specs = selected_stages(cfg)
    resolved = {spec.name: resolve_stage(cfg, spec) for spec in specs}
    outs = [str(c.out_dir) for c in resolved.values() if getattr(c, "out_dir", None)]
    missing = []
    for spec in specs:
        for key, path in input_paths(resolved[spec.name]).items():
            built = any(inside(path, o) for o in outs)
            if not built and not exists(path):
                missing.append(f"stages.{spec.name}: {key}={path} does not exist and no stage "
                               f"of the study writes it")  # fmt: skip
    return missing


def stage_states(cfg: StudyConfig) -> dict[str, str]:
    """Per stage, what a run of the study would do with it: done, pending, STALE (an input
    changed since it finished: it will re-run) or downstream of a stage that will run."""
    from bridgelab.contracts.provenance import input_paths, inside, stale_inputs

    states: dict[str, str] = {}
    will_run: dict[str, str] = {}  # stage name -> its output folder
    for spec in selected_stages(cfg):
        stage_cfg = resolve_stage(cfg, spec)
        out = Path(stage_cfg.out_dir)
        paths = list(input_paths(stage_cfg).values())
        upstream = [n for n, o in will_run.items() if any(inside(p, o) for p in paths)]
        if not (out / DONE_MARKER).is_file():
            states[spec.name] = "pending"
        elif stale := stale_inputs(out):
            states[spec.name] = f"STALE, will re-run: {stale[0]}"
        elif upstream:
            states[spec.name] = (
                f"done; re-run if {', '.join(upstream)} produces something new (then STALE)"
            )
        else:
            states[spec.name] = "done"
        if states[spec.name] != "done":
            will_run[spec.name] = str(out)
    return states


def _finished_at(output: Path) -> float | None:
    """When the stage last finished work in ``output``: its DONE marker, or for a CPT grid
    (whose grid.json is rebuilt on every call) the newest DONE of its runs."""
    markers = [output / DONE_MARKER, *output.glob(f"runs/*/{DONE_MARKER}")]
    stamps = [p.stat().st_mtime for p in markers if p.is_file()]
    return max(stamps) if stamps else None


class StudyStopped(Stopped):
    """SIGTERM/SIGUSR1 arrived while a stage outside training ran. Every stage writes its files
    atomically and resumes, so stopping there loses nothing; ``bridgelab study`` exits 75."""

    def __init__(self, signum: int, stage: str):
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name} during stage '{stage}'; finished work is kept")
        self.signum, self.stage = signum, stage


@contextmanager
def _stop_on_signal(current: list[str]) -> Iterator[None]:
    """Turn SIGTERM/SIGUSR1 into :class:`StudyStopped` while the study runs. Training installs
    its own handler (save a resume state, then raise ``Preempted``) and restores this one."""

    def handle(signum: int, frame: FrameType | None) -> None:
        raise StudyStopped(signum, current[0] if current else "none")

    sigs = (signal.SIGTERM, signal.SIGUSR1)
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = {sig: signal.signal(sig, handle) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    missing = missing_inputs(cfg)
    if missing:
        raise ConfigError("; ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
    previous = {}
    if status_path.is_file():
        previous = json.loads(status_path.read_text(encoding="utf-8")).get("stages", {})
    stages: dict[str, Any] = {}
    current: list[str] = []
    with _stop_on_signal(current):
        for i, spec in enumerate(specs, start=1):
            current[:] = [spec.name]
            _run_one(cfg, spec, i, specs, resolved[spec.name], previous, stages, status_path,
                     force=force, only=only)  # fmt: skip
    return out


def _run_one(cfg: StudyConfig, spec: StageSpec, i: int, specs: list[StageSpec], stage_cfg: Config,
             previous: dict[str, Any], stages: dict[str, Any], status_path: Path, *,
             force: bool, only: list[str] | None) -> None:  # fmt: skip
    """Run one stage of :func:`run_study` and record it in ``study.json``."""
    ref = cfg.stages[spec.name]
    if (only and spec.name not in only) or not ref.enabled:
        stages[spec.name] = previous.get(spec.name, {"status": "not run"})
        return
    log.info("[%d/%d] %s: %s", i, len(specs), spec.name, spec.what)
    t0 = time.time()
    reason = None
    if not force:
        from bridgelab.contracts.provenance import stale_inputs

        stale = stale_inputs(stage_cfg.out_dir)
        if stale:
            # an input changed since this stage finished (an upstream stage re-ran): its results
            # belong to the old lineage. Redo it; its new id then makes the next stages stale.
            reason = str(stale[0])
            log.warning("[%d/%d] %s is stale: %s; re-running it", i, len(specs), spec.name,
                        reason)  # fmt: skip
    try:
        output = Path(stage_module(spec.stage).run(stage_cfg, force=force or reason is not None))
    except BaseException as exc:
        if isinstance(exc, Stopped):  # a clean stop (signal, preemption), not a failure
            # study.json says where the study stopped; the stage resumes on the next call
            stages[spec.name] = {**previous.get(spec.name, {}), "status": "preempted"}
            atomic_write_json(status_path, {"stages": {**previous, **stages}})
        raise
    seconds = round(time.time() - t0, 1)
    finished = _finished_at(output)
    prev = previous.get(spec.name, {})
    reused = finished is not None and finished < t0 and prev.get("output") == str(output)
    if reused and prev.get("status") == "done":
        stages[spec.name] = prev
    else:
        stages[spec.name] = {"status": "done", "output": str(output), "seconds": seconds}
        if reason:
            stages[spec.name]["rerun_because"] = reason
    total = sum(s.get("seconds") or 0 for s in stages.values())
    atomic_write_json(status_path, {"stages": {**previous, **stages}, "seconds": round(total, 1)})
    log.info("[%d/%d] %s done in %.1f s -> %s", i, len(specs), spec.name, seconds, output)


def _strings(value: Any) -> list[str]:
    """Every string inside a config value (nested dicts and lists included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _mentions(strings: list[str], folder: str) -> bool:
    """True if a path in ``strings`` is ``folder`` or lies inside it. Overrides embedded in a
    config (``data.path=runs/x/shards``) and YAML flow lists are split into their parts."""
    folder = os.path.normpath(folder)
    for text in strings:
        for part in re.split(r"[=,\s\[\]{}'\"]+", text):
            if part and (os.path.normpath(part) == folder or part.startswith(folder + os.sep)):
                return True
    return False


def study_plan_data(cfg: StudyConfig) -> dict[str, Any]:
    """The study's plan as data, for schedulers (``bridgelab submit``; each stage's ``data`` in ``study --dry-run --json``).

    One entry per selected stage, in order: its resolved config, its output folder, whether it
    is enabled, and ``reads``: the earlier stages whose output folders its config names (the
    wiring of the study YAML, so a scheduler can start a stage once exactly those are done).
    A CPT grid also lists its runs (``tasks``: one job-array task each).
    """
    stages: list[dict[str, Any]] = []
    for spec in selected_stages(cfg):
        stage_cfg = resolve_stage(cfg, spec)
        data = stage_cfg.to_dict()
        strings = _strings(data)
        entry: dict[str, Any] = {
            "name": spec.name,
            "what": spec.what,
            "enabled": cfg.stages[spec.name].enabled,
            "out_dir": data.get("out_dir"),
            "reads": [
                s["name"] for s in stages if s["out_dir"] and _mentions(strings, s["out_dir"])
            ],
            "config": data,
        }
        module = stage_module(spec.stage)
        if hasattr(module, "tasks"):  # a stage that runs as a job array (the CPT grid)
            entry["tasks"] = module.tasks(stage_cfg)
        stages.append(entry)
    return {"out_dir": cfg.out_dir, "stages": stages}
