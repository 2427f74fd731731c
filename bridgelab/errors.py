"""Exceptions that the CLI turns into one clear line instead of a traceback."""

from __future__ import annotations


class BridgelabError(Exception):
    """An error caused by the user's input (config, data, paths), not by a bug."""


class ConfigError(BridgelabError):
    """A config key is unknown, missing or holds a bad value."""


class DataError(BridgelabError):
    """An input file is missing, malformed or violates a data contract."""


class RunFolderError(BridgelabError):
    """A run folder already holds finished work, or belongs to another config."""
