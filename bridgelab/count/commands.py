"""Subcommands of the count stage (light: nothing heavy is imported here)."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "count",
        "exact counts of answers and subject-answer co-occurrence per corpus (suffix arrays)",
        "bridgelab.count.stage",
        "bridgelab.count.config:CountConfig",
    ),
]
