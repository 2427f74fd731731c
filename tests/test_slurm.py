"""`bridgelab submit` without a cluster: profiles become sbatch options, the plan's wiring becomes
job dependencies, and the scripts parse. The jobs themselves run in tests/test_slurm_cluster.py
(`make test-slurm`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridgelab.errors import ConfigError
from bridgelab.slurm.profile import Resources, SlurmProfile, load_profile
from bridgelab.slurm.submit import plan_jobs
from bridgelab.study.runner import StudyConfig, study_plan_data

REPO = Path(__file__).resolve().parents[1]
SLURM = REPO / "slurm"


@pytest.fixture(scope="module")
def tiny_plan() -> dict:
    return study_plan_data(StudyConfig.load(REPO / "configs/study/tiny.yaml", ["out_dir=/s"]))


def test_plan_data_names_what_each_stage_reads(tiny_plan):
    stages = {s["name"]: s for s in tiny_plan["stages"]}
    assert stages["synth"]["reads"] == []
    assert stages["tokenizer"]["reads"] == ["synth"]
    assert stages["pretrain"]["reads"] == ["tokenizer", "prepare"]
    assert set(stages["grid"]["reads"]) >= {"pretrain", "tokenizer"}
    assert stages["transfer"]["reads"] == ["probe"]
    assert stages["grid"]["tasks"] == ["ko-bridge-s0", "ko-nobridge-s0", "bo-bridge-s0",
                                       "bo-nobridge-s0"]  # fmt: skip
    assert stages["pretrain"]["out_dir"] == "/s/pretrain"
    assert stages["pretrain"]["config"]["data"]["path"] == "/s/shards/en"


@pytest.mark.slow
def test_plan_json_cli(tmp_path):
    """`--dry-run --json`: the plan as data, the same scheduling data `bridgelab submit` uses."""
    proc = subprocess.run(
        [sys.executable, "-m", "bridgelab.cli", "study", "-c", "configs/study/tiny.yaml",
         "--dry-run", "--json", f"out_dir={tmp_path}"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(proc.stdout)
    assert data["config"]["out_dir"] == str(tmp_path)
    stages = [step["data"] for step in data["plan"] if "data" in step and "name" in step["data"]]
    assert [s["name"] for s in stages][:3] == ["synth", "tokenizer", "prepare"]
    expected = study_plan_data(StudyConfig.load(REPO / "configs/study/tiny.yaml",
                                                [f"out_dir={tmp_path}"]))  # fmt: skip
    assert stages == json.loads(json.dumps(expected["stages"]))
    pretrain = next(step for step in data["plan"] if step["what"].startswith("pretrain:"))
    assert pretrain["state"] == "pending"
    assert pretrain["steps"][0]["data"]["parameters"] > 0  # the estimate, as numbers
    assert not any(tmp_path.iterdir())  # a plan writes nothing


def _jobs(plan, profile, **kw):
    return {
        j.stage: j
        for j in plan_jobs(
            plan, profile, configs=Path("/c"), scripts=SLURM, log_dir=Path("/l"), **kw
        )  # fmt: skip
    }


def test_cpu_profile_asks_for_no_gpu_and_one_cpu(tiny_plan):
    jobs = _jobs(tiny_plan, load_profile("cpu"))
    for job in jobs.values():
        assert "--gpus-per-node=0" in job.options and "--cpus-per-task=1" in job.options
        assert job.env["OMP_NUM_THREADS"] == "1"
    assert jobs["grid"].script.name == "cpt_grid.sbatch" and "--array=0-3" in jobs["grid"].options
    assert "--output=/l/%x-%A_%a.out" in jobs["grid"].options
    assert jobs["pretrain"].script.name == "pretrain_multinode.sbatch"
    assert jobs["pretrain"].args == ["/c/pretrain.yaml"]
    assert jobs["probe"].args == ["probe", "/c/probe.yaml"]
    assert jobs["report"].after == ["synth", "pretrain", "grid", "calibrate", "probe",
                                    "transfer", "frequency"]  # fmt: skip


def test_gpu_profile_and_site_overrides(tiny_plan):
    profile = load_profile(
        "gpu",
        ["defaults.account=proj", "defaults.partition=a100", "stages.pretrain.nodes=2",
         "stages.grid.gres=gpu:a100:1", "stages.grid.gpus_per_node=null",
         "stages.grid.array_parallelism=2"],
    )  # fmt: skip
    jobs = _jobs(tiny_plan, profile)
    pre = jobs["pretrain"].options
    assert {"--nodes=2", "--ntasks-per-node=8", "--gpus-per-node=8", "--account=proj",
            "--partition=a100"} <= set(pre)  # fmt: skip
    assert "--gres=gpu:a100:1" in jobs["grid"].options
    assert not any(o.startswith("--gpus") for o in jobs["grid"].options)
    assert "--array=0-3%2" in jobs["grid"].options
    assert jobs["frequency"].script.name == "judge.sbatch"


def test_only_and_serial(tiny_plan):
    jobs = _jobs(tiny_plan, load_profile("cpu"), only=["probe", "transfer"])
    assert list(jobs) == ["probe", "transfer"]
    assert jobs["probe"].after == []  # the grid is not submitted: it must be complete
    assert jobs["transfer"].after == ["probe"]
    serial = _jobs(tiny_plan, load_profile("cpu"), serial=True)
    assert serial["calibrate"].after == ["grid"] and serial["probe"].after == ["calibrate"]


def test_profile_errors(tmp_path):
    with pytest.raises(ConfigError, match="profile 'nope' not found"):
        load_profile("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: {pretrian: {nodes: 2}}\n")
    with pytest.raises(ConfigError, match="stages.pretrian: unknown stage"):
        load_profile(str(bad))
    bad.write_text("defaults: {cpus_per_task: 0}\n")
    with pytest.raises(ConfigError, match="cpus_per_task: must be at least 1"):
        load_profile(str(bad))
    merged = Resources(cpus_per_task=4, env={"A": "1"}).merged(Resources(env={"B": "2"}))
    assert merged.cpus_per_task == 4 and merged.env == {"A": "1", "B": "2"}
    assert SlurmProfile().for_stage("grid").script == "cpt_grid.sbatch"


@pytest.mark.slow
def test_dry_run_prints_sbatch_lines_and_writes_nothing(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bridgelab.cli", "submit", "-c", "configs/study/tiny.yaml",
         "--profile", "cpu", "--dry-run", f"out_dir={tmp_path / 's'}"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = [x for x in proc.stdout.splitlines() if x.startswith("sbatch ")]
    assert len(lines) == 10 and "--dependency=afterok:${SYNTH_JOB}" in lines[1]
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("name", sorted(p.name for p in SLURM.iterdir()))
def test_scripts_parse(name):
    subprocess.run(["bash", "-n", str(SLURM / name)], check=True)
