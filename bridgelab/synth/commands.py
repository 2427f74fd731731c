"""Subcommands of the synth package."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "synth",
        "generate the synthetic multilingual world (corpora, pairs, probes, ground truth)",
        "bridgelab.synth.cli",
    ),
]
