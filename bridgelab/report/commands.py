"""Subcommands of the report package."""

from bridgelab.stage import Stage

COMMANDS = [
    Stage(
        "report",
        "assemble the study report from finished stage outputs",
        "bridgelab.report.build",
        "bridgelab.report.build:ReportConfig",
    ),
]
