"""How many torch threads a CPU process should use.

torch defaults to one thread per physical core whatever else runs. On a 2-core machine with a
second job running (the demo runs two studies side by side; CI runs tests beside builds) two
threads per process oversubscribe the cores, and the threads' barriers then wait on each other:
measured here, two threads ran slower than one. So the default takes the cores this process may
use minus the current load, and an explicit OMP_NUM_THREADS still wins.
"""

from __future__ import annotations

import os


def free_cores() -> int:
    """Cores this process may use minus the 1-minute load average, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return max(1, min(cores, round(cores - load)))


def choose_threads(requested: int = 0) -> tuple[int, str]:
    """(threads, why): ``requested`` when > 0, else OMP_NUM_THREADS, else :func:`free_cores`."""
    if requested > 0:
        return requested, "configured"
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env), "OMP_NUM_THREADS"
    return free_cores(), "free cores"


def set_threads(requested: int = 0) -> tuple[int, str]:
    """Apply :func:`choose_threads` to torch; returns what it chose and why."""
    import torch

    threads, why = choose_threads(requested)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads, why
