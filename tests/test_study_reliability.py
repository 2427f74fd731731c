"""Issue 15: `bridgelab study` stops cleanly (exit 75) and never mixes stale results.

The provenance tests run a reduced tiny study (no calibration, no frequency) in a module
fixture, then change one stage upstream the way a user would and check what `study`, the
single-stage commands and the report do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    launcher = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in launcher}
    return {**env, "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu", "HF_HUB_OFFLINE": "1"}


def _study_yaml(tmp_path: Path, keep: tuple[str, ...], grid_steps: int = 4) -> Path:
    """configs/study/tiny.yaml reduced to the stages in ``keep``, CPT runs of ``grid_steps``."""
    data = yaml.safe_load((REPO / "configs/study/tiny.yaml").read_text())
    data["stages"] = {k: v for k, v in data["stages"].items() if k in keep}
    if "report" in data["stages"]:  # the report reads only what the study builds
        names = {"calibrate": "calibrate", "frequency": "frequency"}
        data["stages"]["report"]["overrides"] = [
            o for o in data["stages"]["report"]["overrides"]
            if not any(o.startswith(f"{k}=") and names[k] not in keep for k in names)
        ]  # fmt: skip
    if "grid" in data["stages"]:
        over = data["stages"]["grid"]["overrides"]
        over[:] = [
            o.replace("train.steps=4", f"train.steps={grid_steps}").replace(
                "data.max_epochs=50", "data.max_epochs=10000"
            )
            for o in over
        ]
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
def test_sigterm_during_the_grid_stage_exits_75_with_one_line(tmp_path):
    cfg = _study_yaml(tmp_path, ("synth", "tokenizer", "prepare", "pretrain", "grid"), 2000)
    out = tmp_path / "study"
    cmd = [sys.executable, "-m", "bridgelab.cli", "study", "-c", str(cfg), f"out_dir={out}"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.time() + 300
    metrics = out / "cpt/runs/ko-bridge-s0/metrics.jsonl"
    while proc.poll() is None and time.time() < deadline:
        if metrics.is_file() and metrics.read_text().count("\n") >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 75, stderr[-3000:]
    assert "Traceback" not in stderr
    lines = [x for x in stderr.splitlines() if x.startswith("bridgelab study:")]
    assert len(lines) == 1 and "preempted" in lines[0] and "run the same command" in lines[0]
    status = json.loads((out / "study.json").read_text())["stages"]
    assert status["grid"]["status"] == "preempted"
    assert status["pretrain"]["status"] == "done"


def test_sigterm_outside_training_stops_the_study_cleanly():
    from bridgelab.study.runner import StudyStopped, _stop_on_signal

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(StudyStopped, match="SIGTERM during stage 'probe'"):
        with _stop_on_signal(["probe"]):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises long before this ends
    assert signal.getsignal(signal.SIGTERM) is before


# -- provenance -------------------------------------------------------------------------------
CHAIN = ("synth", "tokenizer", "prepare", "pretrain", "grid", "probe", "transfer", "report")


@pytest.fixture(scope="module")
def lineage_study(tmp_path_factory):
    """A finished reduced study, then `study --only pretrain --force` with another train.lr:
    the state a user is in before the plain `study` of issue 15's scenario."""
    from bridgelab.study.runner import StudyConfig, run_study

    tmp = tmp_path_factory.mktemp("lineage")
    path = _study_yaml(tmp, CHAIN)
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        cfg = StudyConfig.load(path, [f"out_dir={tmp / 'study'}"])
        run_study(cfg)
        old = {n: json.loads((tmp / "study" / d / "DONE").read_text())
               for n, d in (("grid", "cpt"), ("probe", "probes"), ("report", "report"))}  # fmt: skip
        cfg.stages["pretrain"].overrides.append("train.lr=0.002")
        run_study(cfg, force=True, only=["pretrain"])
    finally:
        os.chdir(cwd)
    return cfg, tmp / "study", old


@pytest.mark.slow
def test_every_marker_records_its_inputs(lineage_study):
    from bridgelab.contracts.provenance import marker_identity

    _, out, old = lineage_study
    tok = json.loads((out / "tokenizer/DONE").read_text())
    shards = json.loads((out / "shards/en/DONE").read_text())
    pretrain = json.loads((out / "pretrain/DONE").read_text())
    assert tok["id"] == tok["hash"][:16]  # a content hash, not a random id
    assert shards["inputs"]["tokenizer"]["id"].endswith("/" + tok["id"])
    assert set(pretrain["inputs"]) == {"tokenizer", "data.path"}
    assert pretrain["inputs"]["data.path"]["id"] == marker_identity(out / "shards/en")
    assert set(old["grid"]["inputs"]) == {"tokenizer", "world", "init_from"}
    assert "grid" in old["probe"]["inputs"]
    assert {"pretrain", "grid", "probes", "transfer"} <= set(old["report"]["inputs"])


def test_dry_run_marks_the_stale_stage_and_its_downstream(lineage_study, capsys):
    from bridgelab.study.runner import stage_states

    cfg, out, _ = lineage_study
    states = stage_states(cfg)
    assert states["pretrain"] == "done" and states["prepare"] == "done"
    assert states["grid"].startswith("STALE") and "'init_from'" in states["grid"]
    assert "grid" in states["probe"] and "re-run" in states["probe"]
    assert "probe" in states["transfer"]


def test_a_single_stage_refuses_stale_inputs_naming_them_and_force(lineage_study):
    from bridgelab.cpt.grid import run_grid
    from bridgelab.errors import RunFolderError
    from bridgelab.study.runner import STAGES, resolve_stage

    cfg, out, _ = lineage_study
    spec = {s.name: s for s in STAGES}
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with pytest.raises(RunFolderError, match=r"input 'init_from' .*pretrain.*--force"):
            run_grid(resolve_stage(cfg, spec["grid"]))
        from bridgelab.report.build import run as run_report

        # the report would pair the new pretraining loss with CPT numbers of the old model
        with pytest.raises(RunFolderError, match=r"report: 'grid' .* another lineage"):
            run_report(resolve_stage(cfg, spec["report"]), force=True)
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_study_reruns_stale_stages_and_the_report_is_one_lineage(lineage_study, caplog):
    from bridgelab.contracts.provenance import marker_identity, stale_inputs
    from bridgelab.study.runner import run_study

    cfg, out, old = lineage_study
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with caplog.at_level("WARNING"):
            run_study(cfg)
    finally:
        os.chdir(cwd)
    assert "grid is stale: input 'init_from'" in caplog.text
    status = json.loads((out / "study.json").read_text())["stages"]
    for name in ("grid", "probe", "transfer", "report"):
        assert "rerun_because" in status[name], name
    for name in ("synth", "tokenizer", "prepare", "pretrain"):
        assert "rerun_because" not in status[name], name
    for folder in ("cpt", "probes", "transfer", "report"):
        assert stale_inputs(out / folder) == [], folder
    probe = json.loads((out / "probes/DONE").read_text())
    assert (
        probe["inputs"]["grid"]["id"]
        == marker_identity(out / "cpt")
        != old["probe"]["inputs"]["grid"]["id"]
    )
    grid = json.loads((out / "cpt/DONE").read_text())
    assert grid["inputs"]["init_from"]["id"] == marker_identity(out / "pretrain")
    # the old model's results were moved aside, not deleted
    assert (out / "probes.old-1/DONE").is_file()
    metrics = [json.loads(x) for x in (out / "pretrain/metrics.jsonl").read_text().splitlines()]
    headline = json.loads((out / "report/headline.json").read_text())
    assert headline["pretrain_loss"]["last"] == [m for m in metrics if "loss" in m][-1]["loss"]


def test_overrides_after_only_parse(tmp_path, capsys):
    from bridgelab.cli import main as cli_main

    out = tmp_path / "elsewhere"
    rc = cli_main(["study", "-c", str(REPO / "configs/study/tiny.yaml"), "--only", "report",
                   f"out_dir={out}", "--dry-run"])  # fmt: skip
    assert rc == 0
    assert f"out_dir: {out}" in capsys.readouterr().out
    assert cli_main(["study", "--only", "reprot", "--dry-run"]) == 2
    assert "--only: unknown stage 'reprot'" in capsys.readouterr().err


def test_dry_run_lists_missing_inputs_of_the_paper_study(capsys):
    from bridgelab.cli import main as cli_main

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        assert cli_main(["study", "-c", "configs/study/paper.yaml", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "MISSING INPUT stages.frequency: corpora.bo=runs/paper/shards/mono_bo" in out
        # every shared input comes from ${data_root}: moving it moves them all
        args = ["study", "-c", "configs/study/paper.yaml", "vars.data_root=/nowhere", "--dry-run"]
        assert cli_main(args) == 0
        out = capsys.readouterr().out
    finally:
        os.chdir(cwd)
    assert "MISSING INPUT stages.frequency: probes[0]=/nowhere/probes/" in out
    assert "MISSING INPUT stages.probe: probe_sets[0]=/nowhere/probes/" in out
    assert "MISSING INPUT stages.tokenizer: path=/nowhere/tokenizers/qwen.tiktoken" in out
