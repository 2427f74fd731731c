"""Bridge settings: how the sentences of English–X pairs become training documents.

Every sentence is tokenized on its own, once, and each setting only arranges those token
sequences, so the settings of one language hold token-for-token the same sentences:

- ``bridge``: one document per pair, ``en SEP x EOS`` (or ``x SEP en EOS``);
- ``nobridge``: two documents per pair, ``en EOS`` and ``x EOS``;
- ``codeswitch`` (after arXiv 2406.16135): consecutive pairs (sentences of one article) form a
  group of k; two complementary documents alternate languages sentence by sentence
  (``en1 SEP x2 SEP en3 EOS`` and ``x1 SEP en2 SEP x3 EOS``), so every sentence appears once,
  in a mixed-language context, and never next to its own translation.

With a one-token separator the three settings have exactly the same number of tokens: a pair
costs ``len(en) + len(x) + 2`` in each (one SEP + one EOS, or two EOS; a codeswitch group of k
pairs has 2(k-1) SEP + 2 EOS = 2k). The separator is therefore required to be one token.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bridgelab.contracts.records import ParallelPair

Order = Literal["en-first", "x-first", "random"]


@dataclass
class Unit:
    """One document of the mixture: its tokens (EOS included) and its row in ``.docs.jsonl``.

    ``pair_ids`` names the pairs whose sentences it holds; pair units must lie inside one
    training window, and, when the mixture isolates pairs, no two units sharing a pair id may
    share a window.
    """

    tokens: np.ndarray
    row: dict[str, Any]
    pair_ids: tuple[str, ...] = field(default=())

    @property
    def length(self) -> int:
        return int(self.tokens.size)


@dataclass(frozen=True)
class Sentence:
    pair_id: str
    lang: str
    text: str
    ids: tuple[int, ...]


def _join(sentences: list[Sentence], sep_id: int, eos_id: int, doc_id: str, kind: str) -> Unit:
    """Concatenate sentences with SEP between them and EOS at the end; record each segment."""
    ids: list[int] = []
    segments = []
    for i, s in enumerate(sentences):
        if i:
            ids.append(sep_id)
        segments.append(
            {
                "pair_id": s.pair_id,
                "lang": s.lang,
                "start": len(ids),
                "length": len(s.ids),
                "text": s.text,
            }
        )
        ids.extend(s.ids)
    ids.append(eos_id)
    pair_ids = tuple(dict.fromkeys(s.pair_id for s in sentences))
    row: dict[str, Any] = {"id": doc_id, "kind": kind, "lang": sorted({s.lang for s in sentences})}
    if len(pair_ids) == 1:
        row["pair_id"] = pair_ids[0]
    if kind == "nobridge":
        row["half"] = "en" if sentences[0].lang == "en" else "x"
    row["segments"] = segments
    return Unit(np.asarray(ids, dtype=np.int64), row, pair_ids)


def pair_cost(en_ids: list[int], x_ids: list[int]) -> int:
    """Tokens a pair costs in every setting (sentences + two SEP/EOS tokens)."""
    return len(en_ids) + len(x_ids) + 2


def pair_units(
    setting: str,
    pairs: list[ParallelPair],
    en_ids: list[list[int]],
    x_ids: list[list[int]],
    *,
    sep_id: int,
    eos_id: int,
    order: str,
    group: int,
    window: int,
    rng: random.Random,
) -> list[Unit]:
    """The documents of ``setting`` built from ``pairs`` (in source order)."""
    en = [Sentence(p.id, "en", p.text_a, tuple(e)) for p, e in zip(pairs, en_ids)]
    xx = [Sentence(p.id, p.lang_b, p.text_b, tuple(x)) for p, x in zip(pairs, x_ids)]
    units: list[Unit] = []
    if setting == "bridge":
        for e, x in zip(en, xx):
            x_first = order == "x-first" or (order == "random" and rng.random() < 0.5)
            units.append(
                _join(
                    [x, e] if x_first else [e, x], sep_id, eos_id, f"bridge:{e.pair_id}", "bridge"
                )
            )
    elif setting == "nobridge":
        for e, x in zip(en, xx):
            units.append(_join([e], sep_id, eos_id, f"en:{e.pair_id}", "nobridge"))
            units.append(_join([x], sep_id, eos_id, f"x:{x.pair_id}", "nobridge"))
    elif setting == "codeswitch":
        for start, stop in codeswitch_groups(en, xx, group, window):
            first = [
                e if (i % 2 == 0) else x
                for i, (e, x) in enumerate(zip(en[start:stop], xx[start:stop]))
            ]
            second = [
                x if (i % 2 == 0) else e
                for i, (e, x) in enumerate(zip(en[start:stop], xx[start:stop]))
            ]
            # which language opens the group is a seeded coin, so neither side always leads
            if rng.random() < 0.5:
                first, second = second, first
            name = f"{en[start].pair_id}+{stop - start}"
            units.append(_join(first, sep_id, eos_id, f"cs-a:{name}", "codeswitch"))
            units.append(_join(second, sep_id, eos_id, f"cs-b:{name}", "codeswitch"))
    else:
        raise ValueError(f"unknown setting {setting!r}")
    return units


def codeswitch_groups(
    en: list[Sentence], xx: list[Sentence], group: int, window: int
) -> list[tuple[int, int]]:
    """Runs of at most ``group`` consecutive pairs whose two mixed documents fit in a window."""
    spans = []
    start = 0
    while start < len(en):
        stop = start + 1
        while stop < len(en) and stop - start < group:
            a = sum(
                len((en if i % 2 == 0 else xx)[start + i].ids) + 1 for i in range(stop + 1 - start)
            )
            b = sum(
                len((xx if i % 2 == 0 else en)[start + i].ids) + 1 for i in range(stop + 1 - start)
            )
            if max(a, b) > window:
                break
            stop += 1
        spans.append((start, stop))
        start = stop
    return spans
