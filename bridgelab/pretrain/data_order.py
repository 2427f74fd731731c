"""The training data order: a pure function of (seed, step), identical across world sizes.

Windows are the non-overlapping ``seq_len + 1`` runs of ``TokenCorpus.window``. Epoch ``e`` visits
them in the order of a permutation seeded by ``(seed, e)``; the stream of all epochs is cut into
global batches of ``global_batch_size`` windows, and step ``s`` (1-based, as in metrics.jsonl)
takes global batch ``s - 1``. Rank ``r`` of ``W`` takes the ``r``-th contiguous slice of that
batch and splits it into micro-batches, so the set of sequences in a step never depends on
``W``, and a resumed run needs only the step number to continue exactly where it stopped.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from bridgelab.contracts.shards import DocSpan, TokenCorpus
from bridgelab.errors import DataError


class StepOrder:
    """Which windows each step, rank and micro-batch reads."""

    def __init__(self, num_windows: int, global_batch_size: int, seed: int):
        if num_windows <= 0:
            raise DataError("the token shards hold no complete training window")
        self.num_windows = num_windows
        self.global_batch_size = global_batch_size
        self.seed = seed
        self._permutation = lru_cache(maxsize=2)(self._make_permutation)

    def _make_permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_windows)

    def epochs_needed(self, steps: int) -> float:
        return steps * self.global_batch_size / self.num_windows

    def global_batch(self, step: int) -> np.ndarray:
        """Window indices of step ``step`` (1-based), in batch order."""
        if step < 1:
            raise ValueError(f"steps are numbered from 1, got {step}")
        positions = np.arange((step - 1) * self.global_batch_size, step * self.global_batch_size)
        out = np.empty(positions.size, dtype=np.int64)
        epochs = positions // self.num_windows
        for epoch in np.unique(epochs):
            sel = epochs == epoch
            out[sel] = self._permutation(int(epoch))[positions[sel] % self.num_windows]
        return out

    def rank_batches(
        self, step: int, rank: int, world_size: int, micro_batch_size: int
    ) -> list[np.ndarray]:
        """The micro-batches (window indices) that ``rank`` processes at ``step``."""
        batch = self.global_batch(step)
        per_rank = self.global_batch_size // world_size
        mine = batch[rank * per_rank : (rank + 1) * per_rank]
        return [mine[i : i + micro_batch_size] for i in range(0, per_rank, micro_batch_size)]


def load_batch(
    corpus: TokenCorpus, windows: np.ndarray, seq_len: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and shifted targets of the given windows, as int64 tensors ``[batch, seq_len]``."""
    rows = np.stack([corpus.window(int(w), seq_len) for w in windows])
    tokens = torch.from_numpy(rows)
    return tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()


def step_documents(
    corpus: TokenCorpus, order: StepOrder, step: int, seq_len: int
) -> list[tuple[int, int, list[DocSpan]]]:
    """For each sequence of ``step``: (position in the global batch, window, documents in it)."""
    return [
        (pos, int(w), corpus.docs_in_window(int(w), seq_len))
        for pos, w in enumerate(order.global_batch(step))
    ]
