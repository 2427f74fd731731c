"""Placement of mixture documents in the token stream, knowing the training windows.

The trainer cuts the stream into non-overlapping windows of ``seq_len + 1`` tokens
(:meth:`bridgelab.contracts.shards.TokenCorpus.window`) and a window is one training sequence in
which every token attends to every earlier one, document boundaries or not. So the packing
decides what the model sees together. It builds the stream window by window, in every setting
alike:

1. pair documents (bridge, half, code-switched) come first in a window, each whole: a pair
   document never crosses a window boundary, so a bridge is never cut in two;
2. with ``isolate`` (nobridge, codeswitch), a pair document never joins a window that already
   holds a document of the same pair;
3. the rest of the window is filled from the *filler stream*: the monolingual and replay
   documents, concatenated in one seeded order that is the same in every setting, cut into
   pieces where a window ends (as any packed pretraining data is cut), so no padding is ever
   needed.

Pair documents are spread in proportion over the run (a little ahead of schedule, so that the
last windows can absorb any that had to wait). All settings have the same total, so the filler
stream loses the same last ``total mod window`` tokens in each, and every token is trained on.
"""

from __future__ import annotations

from collections import deque
from itertools import islice

from bridgelab.cpt.bridges import Unit
from bridgelab.errors import DataError

# Pair documents are scheduled to be all placed after this share of the windows.
PAIR_LEAD = 0.9
LOOKAHEAD = 64


class FillerStream:
    """The filler documents as one token stream, handed out in pieces of any length."""

    def __init__(self, fillers: list[Unit], drop_tail: int):
        self.docs = fillers
        self.total = sum(f.length for f in fillers) - drop_tail
        self.doc = self.offset = self.taken = 0

    def take(self, n: int) -> list[Unit]:
        """The next ``n`` tokens as pieces, one per filler document they come from."""
        pieces = []
        while n > 0:
            if self.taken >= self.total:
                raise IndexError("filler stream exhausted")
            unit = self.docs[self.doc]
            stop = min(unit.length, self.offset + n, self.offset + self.total - self.taken)
            row = dict(unit.row)
            if self.offset or stop < unit.length:  # a piece: name its token range in the doc
                row.update(
                    id=f"{unit.row['id']}[{self.offset}:{stop}]",
                    doc=unit.row["id"],
                    span=[self.offset, stop],
                )
            pieces.append(Unit(unit.tokens[self.offset : stop], row))
            n -= stop - self.offset
            self.taken += stop - self.offset
            self.offset = stop
            if self.offset == unit.length:
                self.doc, self.offset = self.doc + 1, 0
        return pieces

    @property
    def left(self) -> int:
        return self.total - self.taken


def pack(
    pair_units: list[Unit],
    fillers: list[Unit],
    window: int,
    *,
    isolate: bool,
    what: str,
) -> tuple[list[Unit], dict[str, int]]:
    """The documents (and filler pieces) in stream order, and packing statistics.

    ``pair_units`` and ``fillers`` come already in their (seeded) order. Raises DataError when
    the filler text cannot close the windows (too little monolingual or replay text).
    """
    too_long = [u.row["id"] for u in pair_units if u.length > window]
    if too_long:
        raise DataError(f"{what}: document {too_long[0]} is longer than a window ({window} tokens)")
    pair_total = sum(u.length for u in pair_units)
    total = pair_total + sum(f.length for f in fillers)
    num_windows = total // window
    stream = FillerStream(fillers, total % window)
    pending = deque(pair_units)
    placed: list[Unit] = []
    last_window: dict[str, int] = {}
    pair_done = 0
    for w in range(num_windows):
        room = window
        target = pair_total * min(1.0, (w + 1) / (num_windows * PAIR_LEAD))
        while pending and pair_done < target:
            hit = next(
                (
                    i
                    for i, u in enumerate(islice(pending, LOOKAHEAD))
                    if u.length <= room
                    and not (isolate and any(last_window.get(p, -1) == w for p in u.pair_ids))
                ),
                None,
            )
            if hit is None:
                break
            unit = pending[hit]
            del pending[hit]
            placed.append(unit)
            for pid in unit.pair_ids:
                last_window[pid] = w
            room -= unit.length
            pair_done += unit.length
        if room > stream.left:
            raise DataError(
                f"{what}: ran out of monolingual/replay text at window {w} of {num_windows} with "
                f"{len(pending)} pair documents left; add documents or replay, or a longer seq_len"
            )
        placed.extend(stream.take(room))
    if pending:
        raise DataError(f"{what}: {len(pending)} pair documents found no window; add documents")
    stats = {
        "pair_tokens": pair_total,
        "filler_tokens": stream.total,
        "dropped_filler_tokens": total % window,
        "windows": num_windows,
    }
    return placed, stats
