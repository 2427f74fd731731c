"""Subcommands of the pretraining stage (light: no torch import here)."""

from bridgelab.stage import Command, Stage

COMMANDS = [
    Stage(
        "pretrain",
        "train a Qwen2 causal LM with DeepSpeed on token shards (also CPT via init_from)",
        "bridgelab.pretrain.stage",
        "bridgelab.pretrain.config:PretrainConfig",
    ),
    Command(
        "trace-step",
        "list the documents each sequence of a training step saw",
        "bridgelab.pretrain.trace",
    ),
]
