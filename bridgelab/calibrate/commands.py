"""Subcommands of the calibration stage (light: no torch import here)."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "calibrate",
        "the positive control: oracle clone checkpoints (and a CPT grid) probed and aligned",
        "bridgelab.calibrate.stage",
        "bridgelab.calibrate.config:CalibrateConfig",
    ),
]
