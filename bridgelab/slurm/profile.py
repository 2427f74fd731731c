"""SLURM resource profiles: what each study stage asks the scheduler for, as configuration.

A profile (``configs/slurm/<name>.yaml``) holds ``defaults`` and per-stage overrides of the same
fields. ``bridgelab submit`` turns the merged fields into sbatch command-line options, which take
precedence over the ``#SBATCH`` lines of the scripts in ``slurm/``: those lines keep the sensible
GPU-cluster defaults for anyone calling ``sbatch slurm/<script>`` directly. A field left ``null``
adds no option, so the script's default (or the site's ``SBATCH_*`` environment variables) applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from bridgelab.config import Config, param
from bridgelab.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
PROFILE_ENV = "BRIDGELAB_SLURM_PROFILE"
DEFAULT_PROFILE = "gpu"

# the script each stage runs through, unless the profile names another
DEFAULT_SCRIPTS = {
    "pretrain": "pretrain_multinode.sbatch",
    "grid": "cpt_grid.sbatch",
}
STAGE_SCRIPT = "stage.sbatch"
# scripts whose first argument is the config (stage.sbatch takes the stage name first)
CONFIG_FIRST = {"pretrain.sbatch", "pretrain_multinode.sbatch", "cpt_grid.sbatch", "judge.sbatch"}


@dataclass
class Resources(Config):
    nodes: int | None = param(None, help="--nodes")
    ntasks_per_node: int | None = param(
        None, help="--ntasks-per-node (pretraining: one task per GPU, or per CPU rank)"
    )
    cpus_per_task: int | None = param(None, help="--cpus-per-task (also the job's OMP threads)")
    gpus_per_node: int | None = param(
        None, help="--gpus-per-node; 0 cancels a script's GPU default (CPU clusters)"
    )
    gres: str | None = param(
        None, help="--gres, for sites whose GPUs are named otherwise (e.g. 'gpu:a100:4')"
    )
    mem: str | None = param(None, help="--mem (e.g. '32G'; '0': the whole node)")
    time: str | None = param(None, help="--time (e.g. '24:00:00')")
    partition: str | None = param(None, help="--partition")
    account: str | None = param(None, help="--account")
    qos: str | None = param(None, help="--qos")
    constraint: str | None = param(None, help="--constraint (node features)")
    array_parallelism: int | None = param(
        None, help="job arrays (the CPT grid): at most this many tasks at once (--array=0-N%K)"
    )
    script: str | None = param(
        None, help="script under slurm/ (default: pretrain_multinode, cpt_grid or stage.sbatch)"
    )
    env: dict[str, str] = param({}, help="environment variables set for the job")
    extra: list[str] = param([], help="further sbatch options, verbatim (e.g. '--exclusive')")

    def validate(self) -> None:
        super().validate()
        for name in ("nodes", "ntasks_per_node", "cpus_per_task", "array_parallelism"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name}: must be at least 1, got {value}")
        if self.gpus_per_node is not None and self.gpus_per_node < 0:
            raise ConfigError(f"gpus_per_node: must be 0 or more, got {self.gpus_per_node}")
        for opt in self.extra:
            if not opt.startswith("-"):
                raise ConfigError(f"extra: '{opt}' is not an sbatch option (--name=value)")

    def merged(self, other: Resources) -> Resources:
        """These resources with every field ``other`` sets; env merged, extra concatenated."""
        out = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "env":
                out[f.name] = {**mine, **theirs}
            elif f.name == "extra":
                out[f.name] = [*mine, *theirs]
            else:
                out[f.name] = mine if theirs is None else theirs
        return Resources(**out)

    def sbatch_options(self) -> list[str]:
        """The sbatch command-line options these resources stand for."""
        opts = []
        for name, flag in (
            ("nodes", "--nodes"),
            ("ntasks_per_node", "--ntasks-per-node"),
            ("cpus_per_task", "--cpus-per-task"),
            ("gpus_per_node", "--gpus-per-node"),
            ("gres", "--gres"),
            ("mem", "--mem"),
            ("time", "--time"),
            ("partition", "--partition"),
            ("account", "--account"),
            ("qos", "--qos"),
            ("constraint", "--constraint"),
        ):
            value = getattr(self, name)
            if value is not None and value != "":
                opts.append(f"{flag}={value}")
        return [*opts, *self.extra]


@dataclass
class SlurmProfile(Config):
    defaults: Resources = param(Resources(), help="resources of every stage")
    stages: dict[str, Resources] = param(
        {}, help="per-stage resources (synth, tokenizer, ..., report); fields set here win"
    )
    log_dir: str = param(
        "${out_dir}/slurm/logs", help="job logs (%x-%j.out); ${out_dir} is the study's"
    )
    kill_on_invalid_dep: bool = param(
        True,
        help="cancel a stage's dependants when it fails (else they pend forever, "
        "reason DependencyNeverSatisfied)",
    )

    def validate(self) -> None:
        super().validate()
        from bridgelab.study.runner import check_stage_names

        check_stage_names(self.stages)

    def for_stage(self, stage: str) -> Resources:
        res = self.defaults.merged(self.stages.get(stage, Resources()))
        if res.script is None:
            res.script = DEFAULT_SCRIPTS.get(stage, STAGE_SCRIPT)
        return res


def profile_path(name: str | None) -> Path:
    """A profile given by path, or by name (``configs/slurm/<name>.yaml`` here or in the repo);
    ``None``: ``$BRIDGELAB_SLURM_PROFILE``, else the GPU profile."""
    name = name or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or os.sep in name:
        if not path.is_file():
            raise ConfigError(f"SLURM profile not found: {path}")
        return path
    for root in (Path.cwd(), REPO):
        candidate = root / "configs" / "slurm" / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in (REPO / "configs" / "slurm").glob("*.yaml"))
    raise ConfigError(
        f"SLURM profile '{name}' not found in configs/slurm/ (known: {', '.join(known)})"
    )


def load_profile(name: str | None, overrides: list[str] | None = None) -> SlurmProfile:
    return SlurmProfile.load(profile_path(name), overrides)
