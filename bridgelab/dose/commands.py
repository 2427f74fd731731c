"""Subcommands of the dose-response stage (light: no heavy import here)."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "dose",
        "accuracy against how often the world stated each fact: fitted curves, half-known "
        "thresholds, transfer per source count, priority and robustness tables",
        "bridgelab.dose.stage",
        "bridgelab.dose.config:DoseConfig",
    ),
]
