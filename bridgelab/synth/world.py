"""Generate the whole synthetic world in memory: corpora, parallel pairs, probes, ground truth.

Every random stream is seeded from the config seed and a name (``"0:corpus:ko"``), so the
English corpus does not change when a target language's settings do, and the same config gives
the same bytes. Iteration is over sorted keys and lists only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from bridgelab.config import config_hash
from bridgelab.contracts.records import BLANK, Document, ParallelPair, ProbeItem
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.designs import value_queues
from bridgelab.synth.facts import (
    Culture,
    Fact,
    apportion,
    distribute_mentions,
    make_cultures_and_facts,
)
from bridgelab.synth.lexicon import Lexicon
from bridgelab.synth.vocab import (
    CULTURE_INTROS,
    FILLER_ADVERBIALS,
    FILLER_INTRO,
    FILLER_OBJECTS,
    FILLER_SUBJECTS,
    FILLER_TOPICS,
    FILLER_VERBS,
    SUBJECT_INTROS,
    VALUE_SETS,
    english_words,
)

FORMAT = "bridgelab-synth/1"
NUM_OPTIONS = 4
# the value slots of each filler phrase ("{number} baskets of {ingredient}" -> number, ingredient)
_SLOTS = {
    text: tuple(re.findall(r"\{(\w+)\}", text)) for text in (*FILLER_OBJECTS, *FILLER_ADVERBIALS)
}


@dataclass
class World:
    config: SynthConfig
    cultures: list[Culture]
    facts: list[Fact]
    lexicons: dict[str, Lexicon]  # "en" and every target language
    documents: dict[str, list[Document]] = field(default_factory=dict)  # corpus -> documents
    pairs: dict[str, list[ParallelPair]] = field(default_factory=dict)  # target -> pairs
    probes: dict[tuple[str, str], list[ProbeItem]] = field(default_factory=dict)
    doc_ids: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # fact -> corpus -> ids
    pair_ids: dict[str, list[str]] = field(default_factory=dict)  # fact -> pairs stating it
    # design facts only: fact -> corpus -> value -> ids (doc_ids keeps the true object's)
    doc_ids_by_value: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)

    def render_fact(self, fact: Fact, lang: str, template: str, value: str | None = None) -> str:
        return self.lexicons[lang].render(
            template,
            names={"s": fact.subject, "c": fact.culture.name},
            words={"o": fact.object if value is None else value},
            entity=fact.relation.entity,
        )

    def doc_templates(self, fact: Fact) -> tuple[str, ...]:
        templates = fact.relation.templates
        return templates if self.config.probe_template_in_docs else templates[1:]

    def fact_sentences(self, fact: Fact, lang: str) -> list[str]:
        """Every sentence a document of ``lang`` may use to state ``fact``."""
        return [self.render_fact(fact, lang, t) for t in self.doc_templates(fact)]

    def ground_truth(self) -> list[dict[str, Any]]:
        corpora = ["en", *sorted(self.config.languages)]
        rows = []
        for fact in self.facts:
            ids = self.doc_ids.get(fact.id, {})
            rows.append(
                {
                    "fact_id": fact.id,
                    "probe_id": fact.id if fact.probed else None,
                    "culture": fact.culture.id,
                    "lang": fact.culture.lang,
                    "subject": fact.subject,
                    "relation": fact.relation.name,
                    "object": fact.object,
                    "exposure": fact.exposure,
                    "counts": {c: len(ids.get(c, [])) for c in corpora},
                    "doc_ids": {c: list(ids.get(c, [])) for c in corpora},
                    "pair_ids": list(self.pair_ids.get(fact.id, [])),
                }
            )
            if fact.design is not None:
                rows[-1].update(self._design_keys(fact))
        return rows

    def _design_keys(self, fact: Fact) -> dict[str, Any]:
        """The ground-truth keys of a design fact (docs/CONTRACTS.md): every statement of the
        fact's cell, zeros included, with the documents that carry it."""
        by_value = self.doc_ids_by_value.get(fact.id, {})
        statements: dict[str, dict[str, int]] = {}
        doc_ids: dict[str, dict[str, list[str]]] = {}
        for corpus, value, _ in fact.statements:
            ids = list(by_value.get(corpus, {}).get(value, []))
            statements.setdefault(corpus, {})[value] = len(ids)
            doc_ids.setdefault(corpus, {})[value] = ids
        keys: dict[str, Any] = {"design": fact.design}
        if fact.design == "priority":
            keys["alt_object"] = fact.other
        elif fact.design == "robust":
            keys["wrong_object"] = fact.other
        return {**keys, "statements": statements, "doc_ids_by_value": doc_ids}

    def summary(self) -> dict[str, Any]:
        """world.json: the config, cultures, facts with their names in every language, lexicons."""
        targets = sorted(self.config.languages)
        return {
            "format": FORMAT,
            "config_hash": world_hash(self.config),
            "config": {
                k: v
                for k, v in self.config.to_dict().items()
                if k not in ("out_dir", *self.config.unused_keys())
            },
            "cultures": [
                {
                    "id": c.id,
                    "name": c.name,
                    "lang": c.lang,
                    "names": {t: self.lexicons[t].name(c.name) for t in targets},
                }
                for c in self.cultures
            ],
            "facts": [
                {
                    "id": f.id,
                    "culture": f.culture.id,
                    "relation": f.relation.name,
                    "subject": f.subject,
                    "object": f.object,
                    "probed": f.probed,
                    "exposure": f.exposure,
                    **({"design": f.design, "other": f.other} if f.design else {}),
                    "subject_names": {t: self.lexicons[t].name(f.subject) for t in targets},
                    "object_words": {t: self.lexicons[t].word(f.object) for t in targets},
                }
                for f in self.facts
            ],
            "lexicon_sizes": {t: len(self.lexicons[t].words) for t in targets},
            "lexicons": {t: self.lexicons[t].words for t in targets},
            "documents": {c: len(d) for c, d in sorted(self.documents.items())},
            "pairs": {t: len(p) for t, p in sorted(self.pairs.items())},
            "probes": {f"{a}.{b}": len(p) for (a, b), p in sorted(self.probes.items())},
        }


def world_hash(cfg: SynthConfig) -> str:
    """The hash of what a world holds; ``out_dir`` is left out so a world can be moved."""
    return config_hash(cfg, exclude=("out_dir", *cfg.unused_keys()))


def filler_sentence(rng: random.Random) -> tuple[str, dict[str, str]]:
    """A neutral sentence: its chunk template and the values of its slots."""
    obj = rng.choice(FILLER_OBJECTS)
    template = f"S:{rng.choice(FILLER_SUBJECTS)}|V:{rng.choice(FILLER_VERBS)}|O:{obj}"
    slots = _SLOTS[obj]
    if rng.random() < 0.6:
        adverbial = rng.choice(FILLER_ADVERBIALS)
        template += f"|O:{adverbial}"
        slots += _SLOTS[adverbial]
    return template, {kind: rng.choice(VALUE_SETS[kind]) for kind in slots}


def template_words(template: str) -> int:
    """English words of a template (a slot is one word): the unit of the size settings."""
    return len(template.replace("|", " ").split())


def _corpus(world: World, lang: str) -> None:
    cfg = world.config
    rng = random.Random(f"{cfg.seed}:corpus:{lang}")
    lex = world.lexicons[lang]
    # (text, [(fact, value stated)]); value None: the fact's object
    texts: list[tuple[str, list[tuple[Fact, str | None]]]] = []
    # a separate stream, used only by design facts, so ordinary worlds draw exactly as before
    value_rng = random.Random(f"{cfg.seed}:values:{lang}")
    for culture in world.cultures:
        if lang != "en" and culture.lang != lang:
            continue
        facts = [f for f in world.facts if f.culture is culture]
        counts = {f.id: f.mentions(cfg, lang) for f in facts}
        # each design fact's values, one per document that states it (robust: true and wrong)
        queues = value_queues(facts, lang, value_rng)
        for doc_facts in distribute_mentions(facts, counts, cfg.facts_per_doc, rng):
            stated = [(f, queues[f.id].pop() if f.id in queues else None) for f in doc_facts]
            intro = lex.render(rng.choice(CULTURE_INTROS), names={"c": culture.name})
            body = [
                world.render_fact(f, lang, rng.choice(world.doc_templates(f)), value=v)
                for f, v in stated
            ]
            texts.append((lex.join([intro, *body]), stated))
    budget = cfg.en_filler_words if lang == "en" else cfg.languages[lang].filler_words
    lo, hi = cfg.filler_sentences
    with tqdm(total=budget, desc=f"synth {lang} filler", unit="word", leave=False) as bar:
        words = 0
        while words < budget:
            sentences = [lex.render(FILLER_INTRO, words={"t": rng.choice(FILLER_TOPICS)})]
            added = template_words(FILLER_INTRO)
            for _ in range(rng.randint(lo, hi)):
                template, slots = filler_sentence(rng)
                sentences.append(lex.render(template, words=slots))
                added += template_words(template)
            texts.append((lex.join(sentences), []))
            words += added
            bar.update(added)
    rng.shuffle(texts)
    docs = []
    for i, (text, stated) in enumerate(texts):
        doc = Document(id=f"{lang}-{i:06d}", lang=lang, text=text, source="synth")
        docs.append(doc)
        for fact, value in stated:
            if fact.design is not None:
                by_value = world.doc_ids_by_value.setdefault(fact.id, {}).setdefault(lang, {})
                by_value.setdefault(value, []).append(doc.id)
                if value != fact.object:  # doc_ids / counts: the true object's documents
                    continue
            world.doc_ids.setdefault(fact.id, {}).setdefault(lang, []).append(doc.id)
    world.documents[lang] = docs


def _pairs(world: World, lang: str) -> None:
    cfg = world.config
    mix = cfg.pair_mix
    rng = random.Random(f"{cfg.seed}:pairs:{lang}")
    en, lex = world.lexicons["en"], world.lexicons[lang]
    facts = [f for f in world.facts if f.culture.lang == lang]
    pools = {
        "bridge_facts": [f for f in facts if not f.probed],
        "subjects": [f for f in facts if f.probed],
        "probed_facts": [f for f in facts if f.probed],
    }
    shares = {
        "bridge_facts": mix.bridge_facts,
        "subjects": mix.subjects,
        "probed_facts": mix.probed_facts,
    }
    shares["filler"] = max(0.0, 1.0 - sum(shares.values()))
    kinds = apportion(shares, cfg.languages[lang].pairs, rng)
    pairs = []
    for i, kind in enumerate(tqdm(kinds, desc=f"synth en-{lang} pairs", leave=False)):
        pair_id = f"en-{lang}-{i:06d}"
        pool = pools.get(kind) or []
        if kind in ("bridge_facts", "probed_facts") and pool:
            fact = rng.choice(pool)
            template = rng.choice(fact.relation.templates)
            text_a, text_b = (world.render_fact(fact, x, template) for x in ("en", lang))
            world.pair_ids.setdefault(fact.id, []).append(pair_id)
        elif kind == "subjects" and pool:
            fact = rng.choice(pool)
            template = rng.choice(SUBJECT_INTROS)
            names = {"s": fact.subject, "c": fact.culture.name}
            text_a, text_b = (
                x.render(template, names=names, entity=fact.relation.entity) for x in (en, lex)
            )
        else:  # filler, or a kind with nothing to draw from (e.g. no cultures)
            template, slots = filler_sentence(rng)
            text_a, text_b = en.render(template, words=slots), lex.render(template, words=slots)
        pairs.append(ParallelPair(pair_id, "en", lang, text_a, text_b, "synth"))
    world.pairs[lang] = pairs


def _probes(world: World, lang: str) -> None:
    rng = random.Random(f"{world.config.seed}:probes:{lang}")
    facts = [f for f in world.facts if f.probed and f.culture.lang == lang]
    # each answer position used equally often (to within one) over the set
    positions = [i % NUM_OPTIONS for i in range(len(facts))]
    rng.shuffle(positions)
    english: list[ProbeItem] = []
    native: list[ProbeItem] = []
    # an English culture is asked in English only: <world>/probes/en.en.jsonl
    qlangs = (("en", english),) if lang == "en" else (("en", english), (lang, native))
    for fact, pos in zip(facts, positions):
        others = [v for v in VALUE_SETS[fact.relation.value_type] if v != fact.object]
        if fact.other is None:
            options = rng.sample(others, NUM_OPTIONS - 1)
        else:
            # priority / robust: the competing value is always an option, at a seeded place
            rest = [v for v in others if v != fact.other]
            options = rng.sample(rest, NUM_OPTIONS - 2)
            options.insert(rng.randrange(NUM_OPTIONS - 1), fact.other)
        options.insert(pos, fact.object)
        for qlang, out in qlangs:
            lex = world.lexicons[qlang]
            question = world.render_fact(fact, qlang, fact.relation.templates[0], value=BLANK)
            out.append(
                ProbeItem(
                    id=fact.id,
                    culture=fact.culture.id,
                    lang=qlang,
                    question=question,
                    options=tuple(lex.word(o) for o in options),
                    answer=lex.word(fact.object),
                )
            )
    world.probes[(lang, "en")] = english
    if lang != "en":
        world.probes[(lang, lang)] = native


def generate(cfg: SynthConfig) -> World:
    """The world of ``cfg``, in memory. Deterministic in ``cfg`` (and nothing else)."""
    cultures, facts = make_cultures_and_facts(cfg)
    vocab = english_words()
    langs = ["en", *sorted(cfg.languages)]
    world = World(
        cfg, cultures, facts, {x: Lexicon(x, vocab, cfg.seed, clone=x in cfg.clones) for x in langs}
    )
    for lang in langs:
        _corpus(world, lang)
    for lang in sorted(cfg.languages):
        _pairs(world, lang)
        _probes(world, lang)
    if cfg.en_cultures:
        _probes(world, "en")
    for ids in world.doc_ids.values():
        for corpus in ids:
            ids[corpus].sort()
    for by_corpus in world.doc_ids_by_value.values():
        for by_value in by_corpus.values():
            for ids in by_value.values():
                ids.sort()
    return world
