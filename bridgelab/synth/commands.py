"""Subcommands of the synth package (light: nothing heavy is imported here)."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "synth",
        "generate the synthetic multilingual world (corpora, pairs, probes, ground truth)",
        "bridgelab.synth.output",
        "bridgelab.synth.config:SynthConfig",
    ),
]
