"""The SLURM path against a real SLURM cluster: `make test-slurm` starts a one-node cluster on
localhost (scripts/slurm/cluster.sh) and runs these; without it they skip with the reason.

Every job is a real sbatch job of the scripts in slurm/, with the CPU profile
(configs/slurm/cpu.yaml): one CPU and one thread per job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BRIDGELAB = str(Path(sys.executable).parent / "bridgelab")
pytestmark = pytest.mark.slurm

# the report's wall times (and the study config, which names out_dir) differ between two runs
TIMING_KEYS = {"study_seconds"}
WAIT_S = int(os.environ.get("BRIDGELAB_SLURM_WAIT", "900"))


def _cluster() -> Path:
    if not os.environ.get("BRIDGELAB_SLURM_TEST"):
        pytest.skip("no test cluster: run `make test-slurm` (sets BRIDGELAB_SLURM_TEST)")
    conf = os.environ.get("SLURM_CONF")
    if not conf or shutil.which("sbatch") is None:
        pytest.skip("SLURM_CONF unset or sbatch missing: run `make test-slurm`")
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True)
    if ping.returncode != 0 or "UP" not in ping.stdout:
        pytest.skip(f"slurmctld does not answer: {ping.stdout.strip()} {ping.stderr.strip()}")
    return Path(conf).parent


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _queued(ids: list[str]) -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-r", "-j", ",".join(ids), "-o", "%i %T %r"],
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def _wait(ids: list[str], limit: float = WAIT_S) -> None:
    deadline = time.time() + limit
    while time.time() < deadline:
        if not _queued(ids):
            return
        time.sleep(2)
    raise AssertionError(f"jobs {ids} still queued after {limit} s: {_queued(ids)}")


def jobcomp(state_dir: Path) -> dict[str, list[dict[str, str]]]:
    """jobcomp.txt (JobCompType=jobcomp/filetxt) by job id: every record (a requeued job has
    one per run)."""
    table: dict[str, list[dict[str, str]]] = {}
    path = state_dir / "jobcomp.txt"
    for line in path.read_text().splitlines() if path.is_file() else []:
        row = dict(re.findall(r"(\w+)=(\S*)", line))
        table.setdefault(row["JobId"], []).append(row)
    return table


def _submitted(out: Path) -> dict[str, dict]:
    return {j["stage"]: j for j in json.loads((out / "slurm/jobs.json").read_text())["jobs"]}


def _losses(run: Path) -> list[tuple[int, float]]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["loss"]) for r in rows if "loss" in r]


def _sbatch(script: str, args: list[str], *, stage: str, log: Path, extra: list[str]) -> str:
    """One job of a slurm/ script with the CPU profile's options for ``stage``."""
    from bridgelab.slurm.profile import load_profile
    from bridgelab.slurm.submit import job_env

    res = load_profile("cpu").for_stage(stage)
    cmd = ["sbatch", "--parsable", f"--chdir={REPO}", f"--output={log}", *res.sbatch_options()]
    cmd += [*extra, str(REPO / "slurm" / script), *args]
    proc = subprocess.run(cmd, env=job_env(res.env, log.parent), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().split(";")[0]


@pytest.fixture(scope="module")
def cluster() -> Path:
    return _cluster()


@pytest.fixture(scope="module")
def studies(cluster: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny study submitted as SLURM jobs, and `bridgelab study` in one process beside it
    (same code, same thread count), for the comparison."""
    root = tmp_path_factory.mktemp("slurm")
    out, ref = root / "tiny", root / "ref"
    _run([BRIDGELAB, "submit", "-c", "configs/study/tiny.yaml", "--profile", "cpu",
          f"out_dir={out}"])  # fmt: skip
    reference = subprocess.Popen(
        [BRIDGELAB, "study", "-c", "configs/study/tiny.yaml", f"out_dir={ref}"],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=open(root / "ref.log", "w"),  # noqa: SIM115
    )
    ids = [j["job_id"] for j in _submitted(out).values()]
    try:
        _wait(ids)
    finally:
        assert reference.wait(timeout=WAIT_S) == 0, (root / "ref.log").read_text()[-3000:]
    print(f"\nslurm study: {out}\njob table: {cluster / 'jobcomp.txt'}")
    return out, ref


def test_tiny_study_as_dependent_jobs(cluster: Path, studies: tuple[Path, Path]):
    out, _ = studies
    jobs = _submitted(out)
    assert list(jobs) == [
        "synth", "tokenizer", "prepare", "pretrain", "grid", "calibrate", "probe", "transfer",
        "frequency", "report"
    ]  # fmt: skip
    table = jobcomp(cluster)
    # every stage ran as its own job and completed; the grid as a job array of 4 tasks
    finished: dict[str, list[dict[str, str]]] = {}
    for stage, job in jobs.items():
        rows = [r[-1] for r in table.values() if r[-1]["Name"] == f"bl-{stage}"]
        rows = [r for r in rows if r["WorkDir"] == str(REPO)]
        finished[stage] = rows
        assert rows and all(r["JobState"] == "COMPLETED" for r in rows), (stage, rows)
        log = Path(job["log"])
        assert log.is_file(), log
    assert len(finished["grid"]) == 4 == len(jobs["grid"]["tasks"])
    for i in range(4):
        assert (out / f"slurm/logs/bl-grid-{jobs['grid']['job_id']}_{i}.out").is_file()
    # dependency order: no job started before the jobs of the stages it reads had ended
    for stage, job in jobs.items():
        start = min(r["StartTime"] for r in finished[stage])
        for dep in job["after"]:
            assert start >= max(r["EndTime"] for r in finished[dep]), (stage, dep)
    assert set(jobs["report"]["after"]) >= {"probe", "transfer", "frequency", "calibrate"}
    # the scripts kept a copy of themselves beside the logs, not inside any stage's folder
    copies = sorted(p.name for p in (out / "slurm/scripts").iterdir())
    assert len(copies) == 13 and f"bl-pretrain-{jobs['pretrain']['job_id']}.sbatch" in copies
    status = _run([BRIDGELAB, "submit", "-c", "configs/study/tiny.yaml", f"out_dir={out}",
                   "--status"]).stdout  # fmt: skip
    assert status.count(" done ") == 13, status


def test_slurm_report_equals_the_in_process_report(studies: tuple[Path, Path]):
    out, ref = studies
    got = json.loads((out / "report/headline.json").read_text())
    want = json.loads((ref / "report/headline.json").read_text())
    assert {k: v for k, v in got.items() if k not in TIMING_KEYS} == {
        k: v for k, v in want.items() if k not in TIMING_KEYS
    }
    tables = sorted(p.name for p in (ref / "report/csv").glob("*.csv"))
    assert tables and tables == sorted(p.name for p in (out / "report/csv").glob("*.csv"))
    for name in tables:
        assert (out / "report/csv" / name).read_text() == (ref / "report/csv" / name).read_text(), (
            name
        )
    assert _losses(out / "pretrain") == _losses(ref / "pretrain")
    for run in sorted((ref / "cpt/runs").iterdir()):
        assert _losses(out / "cpt/runs" / run.name) == _losses(run), run.name
    assert (out / "probes/results.jsonl").read_text().replace(str(out), "X") == (
        ref / "probes/results.jsonl"
    ).read_text().replace(str(ref), "X")


def _preempt_grid_args(out: Path, dest: Path) -> list[str]:
    # one CPT run, long enough (hundreds of steps) for a signal to land mid-run
    overrides = (
        "pretrain_overrides=[train.steps=300, train.warmup_steps=1, 'checkpoint.hf_steps=[]', "
        "checkpoint.save_every=0, checkpoint.hf_final=true, log.tensorboard=false, "
        "log.progress=false, log.every=1, data.max_epochs=100000]"
    )
    return [str(out / "configs/grid.yaml"), f"out_dir={dest}", "languages=[ko]",
            "settings=[bridge]", overrides]  # fmt: skip


def test_preempted_grid_task_requeues_and_resumes_exactly(
    cluster: Path, studies: tuple[Path, Path], tmp_path: Path
):
    out, _ = studies
    logs = tmp_path / "logs"
    logs.mkdir()
    ids = {}
    for name in ("preempted", "straight"):
        ids[name] = _sbatch(
            "cpt_grid.sbatch",
            _preempt_grid_args(out, tmp_path / name),
            stage="grid",
            log=logs / f"{name}-%A_%a.out",
            extra=[f"--job-name=bl-{name}", "--array=0"],
        )
    run = tmp_path / "preempted/runs/ko-bridge-s0"
    deadline = time.time() + 300
    while time.time() < deadline:
        if (run / "metrics.jsonl").is_file() and len(_losses(run)) >= 10:
            break
        assert _queued([ids["preempted"]]), "the task ended before it could be signalled"
        time.sleep(0.2)
    else:
        raise AssertionError(f"no training progress in {run}")
    # what SLURM does before preempting (or --signal=B:USR1@T before the time limit)
    task = f"{ids['preempted']}_0"
    subprocess.run(["scancel", "--signal=USR1", "--batch", task], check=True)
    _wait(list(ids.values()))
    log = (logs / f"preempted-{ids['preempted']}_0.out").read_text()
    assert "SIGUSR1 received" in log, log
    assert "exit 75 (preempted; resume state saved)" in log, log
    assert "requeueing" in log and "resumed from" in log, log
    assert log.count("bridgelab: srun exited with 0") == 1, log
    restarts = [
        r for rows in jobcomp(cluster).values() for r in rows if r["Name"] == "bl-preempted"
    ]
    assert len(restarts) == 2 and restarts[-1]["JobState"] == "COMPLETED", restarts
    got, want = _losses(run), _losses(tmp_path / "straight/runs/ko-bridge-s0")
    assert len(want) == 300
    assert [s for s, _ in got] == list(range(1, 301))
    assert got == want  # identical, not approximately equal


def test_pretraining_as_two_srun_tasks_matches_one_process(
    cluster: Path, studies: tuple[Path, Path], tmp_path: Path
):
    out, _ = studies
    dest = tmp_path / "pretrain-2ranks"
    log = tmp_path / "pretrain-%j.out"
    jid = _sbatch(
        "pretrain_multinode.sbatch",
        [str(out / "configs/pretrain.yaml"), f"out_dir={dest}"],
        stage="pretrain",
        log=log,
        extra=["--job-name=bl-pretrain-2ranks", "--nodes=1", "--ntasks-per-node=2"],
    )
    _wait([jid])
    text = Path(str(log).replace("%j", jid)).read_text()
    assert (dest / "DONE").is_file(), text
    # DeepSpeed sized the batch for 2 ranks: the world size came from SLURM_NTASKS via srun
    ds = json.loads((dest / "ds_config.json").read_text())
    one = json.loads((out / "pretrain/ds_config.json").read_text())
    assert ds["train_batch_size"] == one["train_batch_size"]
    assert ds["gradient_accumulation_steps"] * 2 == one["gradient_accumulation_steps"]
    # same global batch, same data order at any world size: the same losses up to the
    # all-reduce's summation order
    got, want = _losses(dest), _losses(out / "pretrain")
    assert [s for s, _ in got] == [s for s, _ in want]
    assert [loss for _, loss in got] == pytest.approx([loss for _, loss in want], rel=1e-5)


FAILING_STUDY = """
out_dir: {out}
stages:
  tokenizer:
    config: configs/data/tokenizer_synth.yaml
    overrides: ["out_dir=${{out_dir}}/tokenizer", "data_root=${{out_dir}}/no-world"]
  prepare:
    config: configs/data/synth_en.yaml
    overrides: ["out_dir=${{out_dir}}/shards", "tokenizer=${{out_dir}}/tokenizer",
                "data_root=${{out_dir}}/no-world"]
  pretrain:
    config: configs/pretrain/tiny.yaml
    overrides: ["out_dir=${{out_dir}}/pretrain", "tokenizer=${{out_dir}}/tokenizer",
                "data.path=${{out_dir}}/shards"]
"""


@pytest.mark.parametrize("kill", [False, True], ids=["pending", "cancelled"])
def test_a_failing_stage_stops_its_dependants(cluster: Path, tmp_path: Path, kill: bool):
    out = tmp_path / "failing"
    study = tmp_path / "failing.yaml"
    study.write_text(FAILING_STUDY.format(out=out))
    _run([BRIDGELAB, "submit", "-c", str(study), "--profile", "cpu",
          "--set", f"kill_on_invalid_dep={str(kill).lower()}"])  # fmt: skip
    jobs = _submitted(out)
    ids = {s: j["job_id"] for s, j in jobs.items()}
    assert jobs["prepare"]["after"] == ["tokenizer"]
    assert jobs["pretrain"]["after"] == ["tokenizer", "prepare"]
    deadline = time.time() + 120
    while time.time() < deadline and _queued([ids["tokenizer"]]):
        time.sleep(1)
    log = Path(jobs["tokenizer"]["log"]).read_text()
    assert "bridgelab tokenizer: error:" in log and "no-world" in log, log
    if not kill:
        # the dependants stay queued, and squeue says why
        time.sleep(4)  # a scheduling pass
        rows = _queued([ids["prepare"], ids["pretrain"]])
        assert len(rows) == 2 and all("DependencyNeverSatisfied" in r for r in rows), rows
        status = subprocess.run(
            [BRIDGELAB, "submit", "-c", str(study), "--status"],
            cwd=REPO, env=_env(), capture_output=True, text=True,
        )  # fmt: skip
        assert status.returncode == 1, status.stdout
        lines = {line.split()[0]: line for line in status.stdout.splitlines()[1:]}
        assert "DependencyNeverSatisfied" in lines["prepare"], status.stdout
        assert "not DONE" in lines["tokenizer"] or "FAILED" in lines["tokenizer"], status.stdout
        subprocess.run(["scancel", ids["prepare"], ids["pretrain"]], check=True)
    _wait(list(ids.values()), limit=120)
    table = jobcomp(cluster)
    assert table[ids["tokenizer"]][-1]["JobState"] == "FAILED"
    assert table[ids["tokenizer"]][-1]["ExitCode"] == "2:0"
    for stage in ("prepare", "pretrain"):
        assert table[ids[stage]][-1]["JobState"] == "CANCELLED", table[ids[stage]]
        assert table[ids[stage]][-1]["NodeList"] == "(null)"  # never started
    assert not (out / "shards").exists() and not (out / "pretrain").exists()
