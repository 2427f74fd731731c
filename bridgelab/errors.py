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


# EX_TEMPFAIL: the work stopped cleanly with its state saved; run the same command to resume
# (SLURM requeue logic in slurm/*.sbatch relies on this status).
EXIT_STOPPED = 75


class Stopped(Exception):
    """A run stopped on a signal (SIGTERM/SIGUSR1) after saving what it had; not an error. The
    CLI prints one line and exits :data:`EXIT_STOPPED`. Training raises its subclass ``Preempted``
    (bridgelab.pretrain.trainer); the study runner raises ``StudyStopped``."""
