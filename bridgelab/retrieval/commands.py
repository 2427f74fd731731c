"""Subcommands of the retrieval package (imports nothing heavy)."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "frequency",
        "retrieve top-k documents per probe, judge them, report occurrences and cultural density",
        "bridgelab.retrieval.pipeline",
        "bridgelab.retrieval.config:FrequencyConfig",
    ),
]
