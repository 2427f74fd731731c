"""Subcommands of the calibration stage (light: no torch import here)."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "calibrate",
        "the positive control: oracle clone checkpoints (and a CPT grid) probed and aligned",
        "bridgelab.calibrate.stage",
    ),
]
