"""Subcommands of the report package: the whole study, and the report alone."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "study",
        "run the whole study (world -> ... -> report), resumably",
        "bridgelab.report.study_cli",
    ),
    Command(
        "report", "assemble the study report from finished stage outputs", "bridgelab.report.build"
    ),
]
