"""`bridgelab submit`: the study as SLURM jobs, one per stage, started in dependency order.

    bridgelab submit --config configs/study/paper.yaml [--profile gpu] [key=value ...]
    bridgelab submit --config configs/study/tiny.yaml --profile cpu --set defaults.account=abc
    bridgelab submit --config configs/study/paper.yaml --status     # where the jobs stand

The plan comes as data from :func:`bridgelab.study.runner.study_plan_data`: each stage's
resolved config (written to ``<out_dir>/configs/<stage>.yaml``, the study's wiring fixed at
submission time) and the earlier stages whose folders it reads. Each stage becomes one job of
the matching script in ``slurm/`` (the CPT grid a job array, one run per task) with
``--dependency=afterok:`` on the jobs of the stages it reads, so independent stages run side by
side and a failed stage stops exactly its dependants. Resources come from a profile
(:mod:`bridgelab.slurm.profile`). Jobs run the same ``bridgelab`` as the submitter (its folder
goes first on the jobs' PATH) from the submitter's working directory. ``<out_dir>/slurm/jobs.json``
records every job id, dependency, log file and sbatch command line.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import yaml

from bridgelab.contracts.markers import is_done
from bridgelab.errors import ConfigError
from bridgelab.slurm.profile import (
    CONFIG_FIRST,
    PROFILE_ENV,
    REPO,
    SlurmProfile,
    load_profile,
    profile_path,
)
from bridgelab.stage import add_config_args
from bridgelab.study.runner import STAGE_NAMES, StudyConfig, study_plan_data
from bridgelab.utils.io import atomic_write_json, atomic_write_text


class SubmitError(ConfigError):
    """sbatch refused a job (the message carries sbatch's own error)."""


@dataclass
class Job:
    stage: str
    script: Path
    args: list[str]
    options: list[str]
    env: dict[str, str]
    after: list[str] = field(default_factory=list)
    tasks: list[str] | None = None  # job-array tasks (the grid's runs)
    out_dir: str | None = None
    job_id: str | None = None
    dependency: str | None = None  # afterok:<ids>, filled in at submission

    def command(self) -> list[str]:
        dep = [f"--dependency={self.dependency}"] if self.dependency else []
        return ["sbatch", "--parsable", *self.options, *dep, str(self.script), *self.args]


def scripts_dir(arg: str | None) -> Path:
    """The folder holding the sbatch scripts: --scripts, else the repository's slurm/."""
    for candidate in (arg, REPO / "slurm", Path.cwd() / "slurm"):
        if candidate and (Path(candidate) / "stage.sbatch").is_file():
            return Path(candidate).resolve()
    raise ConfigError(
        f"no sbatch scripts found (looked for stage.sbatch in {arg or ''} {REPO / 'slurm'}); "
        "pass --scripts DIR"
    )


def job_env(extra: dict[str, str], copies: Path | None = None) -> dict[str, str]:
    """The submitter's environment (sbatch exports it to the job), the profile's variables, and
    this ``bridgelab``'s folder first on PATH so jobs run the same installation. ``copies``:
    where the scripts keep a copy of themselves (BRIDGELAB_SLURM_DIR)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    if copies is not None:
        env["BRIDGELAB_SLURM_DIR"] = str(copies)
    bindir = Path(sys.executable).parent
    if (bindir / "bridgelab").exists():
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    return env


def plan_jobs(
    plan: dict[str, Any],
    profile: SlurmProfile,
    *,
    configs: Path,
    scripts: Path,
    log_dir: Path,
    only: list[str] | None = None,
    serial: bool = False,
) -> list[Job]:
    """One job per enabled (and selected) stage, with the options its profile entry gives."""
    jobs: list[Job] = []
    for stage in plan["stages"]:
        name = stage["name"]
        if not stage["enabled"] or (only and name not in only):
            continue
        res = profile.for_stage(name)
        script = scripts / res.script
        if not script.is_file():
            raise ConfigError(f"profile: stages.{name}.script: {script} does not exist")
        config = str(configs / f"{name}.yaml")
        args = [config] if res.script in CONFIG_FIRST else [name, config]
        tasks = stage.get("tasks")
        pattern = "%x-%A_%a.out" if tasks else "%x-%j.out"
        options = [
            f"--job-name=bl-{name}",
            f"--chdir={Path.cwd()}",
            f"--output={log_dir / pattern}",
            *res.sbatch_options(),
        ]
        if tasks:
            limit = f"%{res.array_parallelism}" if res.array_parallelism else ""
            options.append(f"--array=0-{len(tasks) - 1}{limit}")
        if profile.kill_on_invalid_dep:
            options.append("--kill-on-invalid-dep=yes")
        submitted = {j.stage for j in jobs}
        if serial:
            after = [jobs[-1].stage] if jobs else []
        else:
            after = [s for s in stage["reads"] if s in submitted]
        jobs.append(
            Job(name, script, args, options, res.env, after, tasks, out_dir=stage["out_dir"])
        )
    return jobs


def _sbatch(cmd: list[str], env: dict[str, str]) -> str:
    if shutil.which("sbatch", path=env.get("PATH")) is None:
        raise SubmitError("sbatch not found on PATH: run this on a SLURM login node")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SubmitError(
            f"sbatch failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
            f"\n  command: {shlex.join(cmd)}"
        )
    # --parsable prints "jobid" or "jobid;cluster"
    return proc.stdout.strip().split(";")[0]


def submit_jobs(jobs: list[Job], *, copies: Path | None = None, dry_run: bool = False) -> list[Job]:
    """sbatch each job in order, its dependency naming the job ids of the stages it reads."""
    ids: dict[str, str] = {}
    for job in jobs:
        deps = [ids[s] for s in job.after]
        job.dependency = "afterok:" + ":".join(deps) if deps else None
        cmd = job.command()
        if dry_run:
            job.job_id = f"${{{job.stage.upper()}_JOB}}"
            print(shlex.join(cmd))
        else:
            job.job_id = _sbatch(cmd, job_env(job.env, copies))
        ids[job.stage] = job.job_id
    return jobs


def log_file(job: Job, log_dir: Path, task: int | None = None) -> str:
    if task is None:
        return str(log_dir / f"bl-{job.stage}-{job.job_id}.out")
    return str(log_dir / f"bl-{job.stage}-{job.job_id}_{task}.out")


def write_outputs(cfg: StudyConfig, plan: dict[str, Any], profile: SlurmProfile,
                  profile_file: Path, configs: Path) -> None:  # fmt: skip
    """Each stage's resolved config, the study and the profile, as the jobs will read them."""
    configs.mkdir(parents=True, exist_ok=True)
    for stage in plan["stages"]:
        text = yaml.safe_dump(stage["config"], sort_keys=False, allow_unicode=True)
        atomic_write_text(configs / f"{stage['name']}.yaml", text)
    # the same provenance `bridgelab study` leaves (the report cites study.yaml)
    cfg.dump(Path(cfg.out_dir) / "study.yaml")
    profile.dump(configs / "slurm_profile.yaml")
    shutil.copyfile(profile_file, configs / f"slurm_profile.source{profile_file.suffix}")


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_args(parser, force=False)
    parser.add_argument(
        "--profile",
        help=f"resource profile: a name under configs/slurm/ (cpu, gpu, ...) or a YAML path "
        f"(default: ${PROFILE_ENV}, else gpu)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a profile field (defaults.account=abc, stages.pretrain.nodes=4); repeatable",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=STAGE_NAMES,
        metavar="STAGE",
        help="submit only these stages (the others must be complete)",
    )
    parser.add_argument(
        "--serial", action="store_true", help="chain every stage after the previous one"
    )
    parser.add_argument("--scripts", help="folder of the sbatch scripts (default: slurm/)")
    parser.add_argument(
        "--status",
        action="store_true",
        help="print where the submitted jobs of this study stand (from jobs.json and squeue)",
    )


def main(args: argparse.Namespace) -> int:
    cfg = StudyConfig.load(args.config, args.overrides)
    out = Path(cfg.out_dir)
    if args.status:
        return print_status(out)
    profile_file = profile_path(args.profile)
    profile = load_profile(str(profile_file), args.set)
    plan = study_plan_data(cfg)
    configs = (out / "configs").resolve()
    log_dir = Path(Template(profile.log_dir).safe_substitute(out_dir=str(out.resolve())))
    jobs = plan_jobs(
        plan,
        profile,
        configs=configs,
        scripts=scripts_dir(args.scripts),
        log_dir=log_dir,
        only=args.only,
        serial=args.serial,
    )
    if not jobs:
        raise ConfigError("nothing to submit: no enabled stage selected")
    if args.dry_run:
        print(f"# profile {profile_file}; configs would be written to {configs}")
        submit_jobs(jobs, dry_run=True)
        return 0
    write_outputs(cfg, plan, profile, profile_file, configs)
    log_dir.mkdir(parents=True, exist_ok=True)  # SLURM does not create the log folder
    try:
        submit_jobs(jobs, copies=out.resolve() / "slurm" / "scripts")
    finally:
        # what was submitted, even when a later sbatch failed (so it can be cancelled)
        record = {
            "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "cwd": str(Path.cwd()),
            "profile": str(profile_file),
            "log_dir": str(log_dir),
            "jobs": [
                {
                    "stage": j.stage,
                    "job_id": j.job_id,
                    "after": j.after,
                    "tasks": j.tasks,
                    "out_dir": j.out_dir,
                    "script": str(j.script),
                    "log": log_file(j, log_dir, 0 if j.tasks else None),
                    "command": shlex.join(j.command()),
                }
                for j in jobs
                if j.job_id
            ],
        }
        (out / "slurm").mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "slurm" / "jobs.json", record)
    for j in jobs:
        after = f" after {', '.join(j.after)}" if j.after else ""
        array = f" (array of {len(j.tasks)}: {', '.join(j.tasks)})" if j.tasks else ""
        print(f"{j.stage}: job {j.job_id}{array}{after}")
    print(f"jobs: {out / 'slurm' / 'jobs.json'}; logs: {log_dir}")
    return 0


def _queue(ids: list[str]) -> dict[str, tuple[str, str]]:
    """squeue's state and reason of each job (array tasks as id_index), for those still known."""
    if not ids or shutil.which("squeue") is None:
        return {}
    proc = subprocess.run(
        ["squeue", "-h", "-r", "-t", "all", "-j", ",".join(ids), "-o", "%i|%T|%r"],
        capture_output=True,
        text=True,
    )
    rows = {}
    for line in proc.stdout.splitlines():
        parts = line.split("|")
        if len(parts) == 3:
            rows[parts[0]] = (parts[1], parts[2])
    return rows


def stage_done(job: dict[str, Any], task: str | None = None) -> bool:
    if not job.get("out_dir"):
        return False
    if task is not None:
        return is_done(Path(job["out_dir"]) / "runs" / task)
    return is_done(job["out_dir"])


def status_rows(out: Path) -> list[dict[str, str]]:
    """Per job (and array task): stage, job id, state, reason and log, from the DONE markers
    the stages write and from squeue while SLURM still knows the job."""
    path = out / "slurm" / "jobs.json"
    if not path.is_file():
        raise ConfigError(f"{path}: no submitted jobs recorded (run `bridgelab submit` first)")
    record = json.loads(path.read_text(encoding="utf-8"))
    queue = _queue([j["job_id"] for j in record["jobs"]])
    rows = []
    for job in record["jobs"]:
        tasks = job.get("tasks") or [None]
        for i, task in enumerate(tasks):
            jid = job["job_id"] if task is None else f"{job['job_id']}_{i}"
            state, reason = queue.get(jid, queue.get(job["job_id"], ("", "")))
            if state in ("", "COMPLETED"):
                state = "done" if stage_done(job, task) else (state or "ended, not DONE")
            log = job["log"] if task is None else job["log"].rsplit("_", 1)[0] + f"_{i}.out"
            rows.append(
                {
                    "stage": job["stage"] + (f"[{i}] {task}" if task else ""),
                    "job": jid,
                    "after": ",".join(job["after"]),
                    "state": state,
                    "reason": "" if reason in ("None", "(null)") else reason,
                    "log": log if Path(log).exists() else "(no log: never started)",
                }
            )
    return rows


def print_status(out: Path) -> int:
    rows = status_rows(out)
    cols = ["stage", "job", "after", "state", "reason", "log"]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(r[c].ljust(widths[c]) for c in cols))
    failed = [r for r in rows if r["state"] not in ("done", "PENDING", "RUNNING", "REQUEUED")]
    return 1 if failed else 0
