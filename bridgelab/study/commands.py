"""Subcommands of the study package (light: no stage is imported here)."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "study",
        "run the whole study (world -> ... -> report), resumably",
        "bridgelab.study.stage",
        "bridgelab.study.runner:StudyConfig",
    ),
]
