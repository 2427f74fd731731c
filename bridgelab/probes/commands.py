"""Subcommands of the probes stage (light: no torch import here)."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "lint-probes",
        "report probe defects (blanks, missing answers, duplicate options, answer position)",
        "bridgelab.probes.lint_cli",
    ),
    Command(
        "probe",
        "score checkpoints (a CPT grid or folders) and a null model on bilingual cloze probes",
        "bridgelab.probes.evaluate",
    ),
    Command(
        "transfer",
        "transfer estimates with paired tests, direction tables and learning curves",
        "bridgelab.probes.transfer",
    ),
]
