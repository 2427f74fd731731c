"""Process-group setup that works the same as one plain process, under torchrun / the
``deepspeed`` launcher, and under SLURM ``srun``; plus the preemption signal flag."""

from __future__ import annotations

import os
import signal
import socket
from types import FrameType

import torch


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fill_env() -> None:
    """Set RANK/WORLD_SIZE/LOCAL_RANK/MASTER_* where no launcher did.

    torchrun and the deepspeed launcher export them; ``srun`` exports SLURM_* instead (the sbatch
    script sets MASTER_ADDR/MASTER_PORT); a plain process becomes rank 0 of 1 on localhost.
    """
    if "RANK" not in os.environ and "SLURM_PROCID" in os.environ:
        os.environ["RANK"] = os.environ["SLURM_PROCID"]
        os.environ["WORLD_SIZE"] = os.environ.get("SLURM_NTASKS", "1")
        os.environ["LOCAL_RANK"] = os.environ.get("SLURM_LOCALID", "0")
    os.environ.setdefault("RANK", "0")
    os.environ.setdefault("WORLD_SIZE", "1")
    os.environ.setdefault("LOCAL_RANK", "0")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if "MASTER_PORT" not in os.environ:
        if os.environ["WORLD_SIZE"] != "1":
            raise RuntimeError("MASTER_PORT must be set when WORLD_SIZE > 1")
        os.environ["MASTER_PORT"] = str(_free_port())


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    # DeepSpeed picks its accelerator at first use; pin it to CPU before that happens
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    return torch.device("cpu")


def init_distributed(device: torch.device) -> tuple[int, int]:
    """Initialise torch.distributed through DeepSpeed (gloo on CPU, NCCL on GPU)."""
    import deepspeed

    fill_env()
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cpu":
            # DeepSpeed's CPU backend would JIT-compile a shared-memory all-reduce kernel
            # (a C++ build: minutes on CI, and a compiler it may lack); gloo does the job.
            deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
        deepspeed.init_distributed(dist_backend=backend, auto_mpi_discovery=False)
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def barrier() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.barrier()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on at least one (so all ranks stop together)."""
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item() > 0)


class PreemptionFlag:
    """Records SIGTERM / SIGUSR1 (SLURM preemption, ``scancel``) instead of dying mid-step.

    The trainer polls it after each step, saves a resume state and exits; the previous
    handlers come back on :meth:`restore`.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGUSR1)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous = {}

    def install(self) -> PreemptionFlag:
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
