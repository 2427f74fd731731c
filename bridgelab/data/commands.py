"""Subcommands of the corpus stage (light: no heavy imports here)."""

from bridgelab.stage import Command, Stage

COMMANDS = [
    Stage(
        "tokenizer",
        "train, copy or convert the tokenizer (byte-level BPE or Qwen)",
        "bridgelab.data.tokenizer",
        "bridgelab.data.tokenizer:TokenizerConfig",
    ),
    Stage(
        "prepare",
        "filter, tokenize and pack corpora into token shards",
        "bridgelab.data.prepare",
        "bridgelab.data.prepare:PrepareConfig",
    ),
    Command(
        "check-corpus",
        "scan token shards for characters outside the allowed scripts",
        "bridgelab.data.check",
    ),
]
