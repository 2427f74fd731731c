"""Subcommands of the CPT stage (light: no heavy imports here)."""

from bridgelab.stage import Command, Stage

COMMANDS = [
    Stage(
        "mixture",
        "build the CPT token shards of one language and bridge setting",
        "bridgelab.cpt.mixture",
        "bridgelab.cpt.mixture:CptMixtureConfig",
    ),
    Command(
        "check-mixture",
        "verify bridge isolation, token totals and sentence multisets from the shards",
        "bridgelab.cpt.check",
    ),
    Stage(
        "grid",
        "run continued pretraining over languages x bridge settings x seeds",
        "bridgelab.cpt.grid",
        "bridgelab.cpt.grid:GridConfig",
    ),
]
