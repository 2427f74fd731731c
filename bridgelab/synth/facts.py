"""Cultures, their facts, and how often each fact is stated in each corpus."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from bridgelab.synth.config import SynthConfig
from bridgelab.synth.designs import Cell, Statement, deal_cells, exposure_label
from bridgelab.synth.lexicon import NAME_CONSONANTS, NAME_VOWELS
from bridgelab.synth.vocab import RELATIONS, VALUE_SETS, Relation


@dataclass(frozen=True)
class Culture:
    id: str  # e.g. "ko-c0"
    name: str  # English (Latin) name, e.g. "Velmara"
    lang: str  # native language


@dataclass(frozen=True)
class Fact:
    id: str  # e.g. "ko-c0-f03"; a probed fact's probe items carry the same id
    culture: Culture
    relation: Relation
    subject: str  # a generated name
    object: str  # a value of relation.value_type
    probed: bool
    exposure: str  # both | en_only | native_only | unseen | pairs_only
    design: str | None = None  # dose | priority | robust (designs.py); None: ordinary
    other: str | None = None  # priority: the native corpus's value; robust: the wrong value
    statements: tuple[Statement, ...] = ()  # a design fact's (corpus, value, documents)

    def counts(self, cfg: SynthConfig) -> dict[str, int]:
        """How many documents of each corpus state this fact's TRUE object (by construction)."""
        counts = {"en": 0, **{lang: 0 for lang in cfg.languages}}
        if self.design is not None:
            for corpus, value, n in self.statements:
                counts[corpus] += n if value == self.object else 0
            return counts
        if self.culture.lang == "en":
            # an English culture is native to the English corpus and stated nowhere else
            if self.exposure == "en_only":
                counts["en"] = cfg.en_culture_mentions
            return counts
        lc = cfg.languages[self.culture.lang]
        if self.exposure in ("both", "en_only"):
            counts["en"] = lc.en_mentions
        if self.exposure in ("both", "native_only"):
            counts[self.culture.lang] = lc.native_mentions
        return counts

    def mentions(self, cfg: SynthConfig, corpus: str) -> int:
        """Documents of ``corpus`` that state this fact, whatever value they give."""
        if self.design is None:
            return self.counts(cfg)[corpus]
        return sum(n for c, _, n in self.statements if c == corpus)


class NameMaker:
    """Unique capitalised consonant-vowel names, 2-3 syllables, so every subject is distinct."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.syllables = [c + v for c in NAME_CONSONANTS for v in NAME_VOWELS]

    def __call__(self) -> str:
        while True:
            n = self.rng.choice((2, 3))
            name = "".join(self.rng.choice(self.syllables) for _ in range(n)).capitalize()
            if name not in self.used:
                self.used.add(name)
                return name


def apportion(weights: dict[str, float], n: int, rng: random.Random) -> list[str]:
    """``n`` labels in shares ``weights`` (largest remainder), in a seeded order."""
    total = sum(weights.values())
    quotas = {k: n * w / total for k, w in weights.items()}
    counts = {k: math.floor(q) for k, q in quotas.items()}
    by_remainder = sorted(weights, key=lambda k: (-(quotas[k] - counts[k]), k))
    for k in by_remainder[: n - sum(counts.values())]:
        counts[k] += 1
    labels = [k for k in weights for _ in range(counts[k])]
    rng.shuffle(labels)
    return labels


def _exposure_weights(cfg: SynthConfig, lang: str) -> dict[str, float]:
    """Exposure shares of a culture's probed facts. An English culture's facts are stated in
    English only, apart from the configured unseen share (stated nowhere, the control)."""
    weights = cfg.exposure.weights()
    if lang != "en":
        return weights
    unseen = weights["unseen"] / sum(weights.values())
    return {"en_only": 1.0 - unseen, "unseen": unseen}


def make_cultures_and_facts(cfg: SynthConfig) -> tuple[list[Culture], list[Fact]]:
    rng = random.Random(f"{cfg.seed}:facts")
    names = NameMaker(rng)
    cultures: list[Culture] = []
    facts: list[Fact] = []
    # English cultures come last, so the draws for the target languages' cultures (and with
    # them every world made with en_cultures = 0) do not change
    slots = [(x, i) for x in sorted(cfg.languages) for i in range(cfg.languages[x].cultures)]
    slots += [("en", i) for i in range(cfg.en_cultures)]
    # a design deals its cells to the target languages' cultures instead of exposure shares
    dealt = {x: deal_cells(cfg, x) for x in cfg.languages} if cfg.designs_on() else {}
    for lang, ci in slots:
        culture = Culture(f"{lang}-c{ci}", names(), lang)
        cultures.append(culture)
        cells: list[Cell] | None = dealt[lang][ci] if lang in dealt else None
        if cells is not None:
            n_probed = len(cells)
            exposures = [c.design for c in cells]
        else:
            n_probed = cfg.facts_per_culture
            exposures = apportion(_exposure_weights(cfg, lang), n_probed, rng)
        if lang != "en":  # an English culture has no parallel pairs, so no pair-only facts
            exposures += ["pairs_only"] * cfg.bridge_facts_per_culture
        # start the relation cycle at a seeded offset so small worlds still vary
        offset = rng.randrange(len(RELATIONS))
        for fi, exposure in enumerate(exposures):
            relation = RELATIONS[(offset + fi) % len(RELATIONS)]
            fact = Fact(
                id=f"{culture.id}-f{fi:02d}",
                culture=culture,
                relation=relation,
                subject=names(),
                object=rng.choice(VALUE_SETS[relation.value_type]),
                probed=fi < n_probed,
                exposure=exposure,
            )
            if cells is not None and fi < n_probed:
                fact = _design_fact(fact, cells[fi], rng)
            facts.append(fact)
    return cultures, facts


def _design_fact(fact: Fact, cell: Cell, rng: random.Random) -> Fact:
    """``fact`` stated as ``cell`` says; the other value (priority, robust) is drawn from the
    same type and differs from the object."""
    other = None
    if cell.design != "dose":
        values = VALUE_SETS[fact.relation.value_type]
        other = rng.choice([v for v in values if v != fact.object])
    statements = cell.resolve(fact.culture.lang, fact.object, other)
    return replace(
        fact,
        design=cell.design,
        other=other,
        statements=statements,
        exposure=exposure_label(statements, fact.culture.lang),
    )


def distribute_mentions(
    facts: list[Fact], count: dict[str, int], per_doc: int, rng: random.Random
) -> list[list[Fact]]:
    """Group mentions into articles: fact ``f`` lands in exactly ``count[f.id]`` distinct
    articles, each holding at most ``per_doc`` facts (articles are filled least-full first)."""
    need = {f.id: count[f.id] for f in facts if count[f.id] > 0}
    if not need:
        return []
    total = sum(need.values())
    n_docs = max(max(need.values()), math.ceil(total / per_doc))
    docs: list[list[Fact]] = [[] for _ in range(n_docs)]
    # most-mentioned facts first, so they always find enough distinct articles
    for fact in sorted((f for f in facts if f.id in need), key=lambda f: (-need[f.id], f.id)):
        order = sorted(
            range(n_docs), key=lambda d: (len(docs[d]) >= per_doc, len(docs[d]), rng.random())
        )
        for d in order[: need[fact.id]]:
            docs[d].append(fact)
    for doc in docs:
        rng.shuffle(doc)
    return docs
