"""Subcommands of the retrieval package (imports nothing heavy)."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "frequency",
        "retrieve top-k documents per probe, judge them, report occurrences and cultural density",
        "bridgelab.retrieval.frequency_cli",
    ),
]
