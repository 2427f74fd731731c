"""Subcommands of the count stage (light: nothing heavy is imported here)."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "count",
        "exact counts of answers and subject-answer co-occurrence per corpus (suffix arrays)",
        "bridgelab.count.stage",
    ),
]
