"""Designed exposure: probed facts stated at controlled document counts (docs/synth.md).

Three designs, each a list of *cells*; each cell gets ``facts_per_cell`` probed facts:

- ``dose``: the true value in ``e`` English and ``n`` native documents, (e, n) from a ladder,
  crossed (every e x every n) or one corpus at a time;
- ``priority`` (LNewKnow's conflicting knowledge): the *English* value in ``e`` English
  documents and ANOTHER value of the same type in ``n`` native documents;
- ``robust`` (LNewKnow's robustness to errors): ``total`` documents of a corpus split
  true:wrong by a ratio.

A cell names corpora by role (``en`` / ``native``) and values by role (``object`` / ``other``);
a fact resolves them to its language and its two values. Every document states one value of a
fact once, so a count is the number of documents, exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridgelab.synth.config import SynthConfig

if TYPE_CHECKING:
    from bridgelab.synth.facts import Fact

Statement = tuple[str, str, int]  # (corpus, value, number of documents)


@dataclass(frozen=True)
class Cell:
    design: str  # dose | priority | robust
    statements: tuple[Statement, ...]  # (corpus role, value role, documents)

    def resolve(self, lang: str, obj: str, other: str | None) -> tuple[Statement, ...]:
        """The cell's statements for a fact of ``lang`` with values ``obj`` and ``other``."""
        corpus = {"en": "en", "native": lang}
        value = {"object": obj, "other": other}
        return tuple((corpus[c], value[v], n) for c, v, n in self.statements)


def design_cells(cfg: SynthConfig) -> list[tuple[Cell, int]]:
    """Every cell of the configured designs with its number of facts, in a fixed order."""
    cells: list[tuple[Cell, int]] = []
    dose = cfg.dose
    if dose.ladder:
        if dose.cross:
            pairs = [(e, n) for e in dose.ladder for n in dose.ladder]
        else:  # one corpus at a time, the other at 0 ((0, 0) once)
            pairs = list(
                dict.fromkeys([(e, 0) for e in dose.ladder] + [(0, n) for n in dose.ladder])
            )
        for e, n in pairs:
            cell = Cell("dose", (("en", "object", e), ("native", "object", n)))
            cells.append((cell, dose.facts_per_cell))
    pri = cfg.priority
    for e in pri.ladder:
        for n in pri.ladder:
            cell = Cell("priority", (("en", "object", e), ("native", "other", n)))
            cells.append((cell, pri.facts_per_cell))
    rob = cfg.robust
    for where in rob.corpora if rob.ratios else ():
        for true, wrong in rob.ratios:
            statements: list[Statement] = []
            for corpus in ("en", "native"):
                noisy = where in (corpus, "both")
                statements += [
                    (corpus, "object", true if noisy else 0),
                    (corpus, "other", wrong if noisy else 0),
                ]
            cells.append((Cell("robust", tuple(statements)), rob.facts_per_cell))
    return cells


def deal_cells(cfg: SynthConfig, lang: str) -> list[list[Cell]]:
    """The design cells of ``lang``'s probed facts, one list per culture of ``lang``.

    Every language gets every cell ``facts_per_cell`` times; the slots are shuffled (seeded per
    language) and dealt round robin, so cultures differ by at most one fact."""
    n_cultures = cfg.languages[lang].cultures
    if not n_cultures:
        return []
    slots = [cell for cell, k in design_cells(cfg) for _ in range(k)]
    random.Random(f"{cfg.seed}:designs:{lang}").shuffle(slots)
    return [slots[ci::n_cultures] for ci in range(n_cultures)]


def exposure_label(statements: tuple[Statement, ...], lang: str) -> str:
    """The ordinary exposure label of a design fact: which corpora state it, any value."""
    en = sum(n for c, _, n in statements if c == "en") > 0
    native = sum(n for c, _, n in statements if c == lang) > 0
    return {(True, True): "both", (True, False): "en_only", (False, True): "native_only"}.get(
        (en, native), "unseen"
    )


def value_queues(facts: list[Fact], corpus: str, rng: random.Random) -> dict[str, list[str]]:
    """For each design fact stated in ``corpus``: its values, one per document that will state
    it, in a seeded order (robust facts mix true and wrong values over their documents)."""
    queues: dict[str, list[str]] = {}
    for fact in facts:
        if fact.design is None:
            continue
        values = [v for c, v, n in fact.statements if c == corpus for _ in range(n)]
        if values:
            rng.shuffle(values)
            queues[fact.id] = values
    return queues


def totals(cells: list[tuple[Cell, int]]) -> tuple[int, int, int]:
    """Probed facts, English statements and native statements of ``cells``, per language."""
    facts = sum(k for _, k in cells)
    en = sum(k * n for c, k in cells for corpus, _, n in c.statements if corpus == "en")
    native = sum(k * n for c, k in cells for corpus, _, n in c.statements if corpus == "native")
    return facts, en, native


def plan_lines(cfg: SynthConfig) -> list[str]:
    """The dry run's description of the designs: one line per design, with its cells."""
    ratios = ", ".join(f"{t}:{w}" for t, w in cfg.robust.ratios)
    how = {
        "dose": f"ladder {cfg.dose.ladder}, "
        + ("English x native counts" if cfg.dose.cross else "one corpus at a time"),
        "priority": f"ladder {cfg.priority.ladder}, English value x native value counts",
        "robust": f"true:wrong {ratios} of {cfg.robust.total} in {cfg.robust.corpora}",
    }
    lines = []
    cells = design_cells(cfg)
    for design in ("dose", "priority", "robust"):
        own = [(c, k) for c, k in cells if c.design == design]
        if own:
            facts, en, native = totals(own)
            lines.append(
                f"design {design} ({how[design]}): {len(own)} cells, {facts} probed facts, "
                f"{en} English and {native} native statements per language"
            )
    return lines
