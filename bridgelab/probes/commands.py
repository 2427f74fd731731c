"""Subcommands of the probes stage (light: no torch import here)."""

from bridgelab.stage import Command, Stage

COMMANDS = [
    Command(
        "lint-probes",
        "report probe defects (blanks, missing answers, duplicate options, answer position)",
        "bridgelab.probes.lint",
        "bridgelab.probes.config:ProbeConfig",  # --config: lint a probe config's sets
    ),
    Stage(
        "probe",
        "score checkpoints (a CPT grid or folders) and a null model on bilingual cloze probes",
        "bridgelab.probes.evaluate",
        "bridgelab.probes.config:ProbeConfig",
    ),
    Stage(
        "transfer",
        "transfer estimates with paired tests, direction tables and learning curves",
        "bridgelab.probes.transfer",
        "bridgelab.probes.transfer:TransferConfig",
    ),
]
