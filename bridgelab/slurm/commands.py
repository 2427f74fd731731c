"""Subcommands of the SLURM package (light: no heavy imports here)."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "submit",
        "submit the study as SLURM jobs, one per stage, in dependency order (docs/slurm.md)",
        "bridgelab.slurm.submit",
        "bridgelab.study.runner:StudyConfig",
    ),
]

# config classes of preset YAMLs that no command loads with --config (`bridgelab submit
# --profile NAME` reads configs/slurm/NAME.yaml)
SCHEMAS = ("bridgelab.slurm.profile:SlurmProfile",)
