"""Subcommands of the corpus stage (light: no heavy imports here)."""

from bridgelab.stage import Command

COMMANDS = [
    Command(
        "tokenizer",
        "train, copy or convert the tokenizer (byte-level BPE or Qwen)",
        "bridgelab.data.tokenizer",
    ),
    Command(
        "prepare", "filter, tokenize and pack corpora into token shards", "bridgelab.data.prepare"
    ),
    Command(
        "check-corpus",
        "scan token shards for characters outside the allowed scripts",
        "bridgelab.data.check",
    ),
]
