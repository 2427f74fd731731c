"""The English side of the synthetic world: relations, typed value sets, templates and filler.

Every sentence is a list of *chunks* with a role (``S`` subject, ``V`` verb, ``O`` object or
adverbial), written ``"S:the {s} festival|V:is held|O:in {o}"``. English renders the chunks in
order; a target language reorders them and translates word by word (see ``lexicon.py``), so
each English sentence has exactly one translation. ``{s}`` is a fact's subject name, ``{o}``
its object value, ``{c}`` the culture's name, ``{e}`` a subject's entity phrase.

Values are single words so that a probe option is one lexicon entry in every language. Each
value set holds at least four values, so each cloze item has three distractors of its type.
"""

from __future__ import annotations

from dataclasses import dataclass

Chunk = tuple[str, str]  # (role, text with {placeholders})

VALUE_SETS: dict[str, tuple[str, ...]] = {
    kind: tuple(values.split())
    for kind, values in {
        "month": "january february march april may june july august september october "
        "november december",
        "ingredient": "rice barley millet lentils beans wheat mutton fish yogurt mushrooms "
        "honey turnips",
        "number": "two three four five six seven eight nine ten eleven twelve",
        "animal": "horse crane tiger deer eagle yak fox wolf bear swan camel",
        "color": "red blue green yellow white black purple orange grey",
        "material": "wood clay silver wool bamboo leather bronze stone silk",
        "landscape": "mountains coast desert valley islands forest plains marshes hills",
    }.items()
}


@dataclass(frozen=True)
class Relation:
    """A relation between a named entity of a culture and a value of one type.

    ``templates[0]`` is the probe's wording; documents use all templates (or, with
    ``probe_template_in_docs: false``, all but the first, so probes are unseen paraphrases).
    """

    name: str
    entity: str  # the subject's phrase, e.g. "the {s} festival"
    value_type: str
    templates: tuple[str, ...]


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "festival_month",
        "the {s} festival",
        "month",
        (
            "S:{e}|V:is held|O:in {o}",
            "S:{e}|V:takes place|O:in {o}",
            "S:the people|V:celebrate|O:{e}|O:in {o}",
        ),
    ),
    Relation(
        "dish_ingredient",
        "the {s} dish",
        "ingredient",
        (
            "S:{e}|V:is made|O:from {o}",
            "S:the main ingredient of {e}|V:is|O:{o}",
            "S:cooks|V:prepare|O:{e}|O:from {o}",
        ),
    ),
    Relation(
        "instrument_strings",
        "the {s} lute",
        "number",
        (
            "S:{e}|V:has|O:{o} strings",
            "S:players|V:pluck|O:{o} strings|O:on {e}",
            "S:{e}|V:is strung|O:with {o} strings",
        ),
    ),
    Relation(
        "dance_animal",
        "the {s} dance",
        "animal",
        (
            "S:{e}|V:imitates|O:the {o}",
            "S:dancers|V:move|O:like the {o}|O:in {e}",
            "S:{e}|V:honours|O:the {o}",
        ),
    ),
    Relation(
        "garment_color",
        "the {s} robe",
        "color",
        (
            "S:{e}|V:is dyed|O:{o}",
            "S:the colour of {e}|V:is|O:{o}",
            "S:weavers|V:dye|O:{e}|O:{o}",
        ),
    ),
    Relation(
        "craft_material",
        "the {s} craft",
        "material",
        (
            "S:{e}|V:uses|O:{o}",
            "S:artisans|V:shape|O:{o}|O:in {e}",
            "S:{e}|V:is worked|O:in {o}",
        ),
    ),
    Relation(
        "town_landscape",
        "the town of {s}",
        "landscape",
        (
            "S:{e}|V:lies|O:in the {o}",
            "S:travellers|V:find|O:{e}|O:in the {o}",
            "S:{e}|V:stands|O:among the {o}",
        ),
    ),
    Relation(
        "spirit_mount",
        "the spirit {s}",
        "animal",
        (
            "S:{e}|V:rides|O:the {o}",
            "S:{e}|V:travels|O:on the {o}",
            "S:the mount of {e}|V:is|O:the {o}",
        ),
    ),
)

# Sentences that open a culture's article, and sentences that name a subject without its
# value (parallel pairs use these to teach names without leaking a probe's answer).
CULTURE_INTROS = (
    "S:this article|V:is|O:about {c}",
    "S:{c}|V:is|O:a land of old customs",
    "S:the people of {c}|V:keep|O:many traditions",
)
SUBJECT_INTROS = (
    "S:{e}|V:is known|O:in {c}",
    "S:{e}|V:belongs|O:to {c}",
    "S:the people of {c}|V:speak|O:of {e}",
)

# Neutral filler: S + V + O (+ an adverbial), drawn at random. Its words overlap the value
# sets on purpose, so monolingual text and parallel pairs teach the options' translations.
FILLER_TOPICS = ("trade", "farming", "weather", "rivers", "markets", "boats", "roads", "schools")
FILLER_INTRO = "S:this article|V:is|O:about {t}"
FILLER_SUBJECTS = (
    "the farmers",
    "the old traders",
    "the children",
    "the fishermen",
    "many travellers",
    "the merchants",
    "the shepherds",
    "the teachers",
    "the sailors",
    "the potters",
)
FILLER_VERBS = ("carry", "sell", "buy", "paint", "count", "find", "bring", "store", "wash", "mend")
FILLER_OBJECTS = (
    "{number} baskets of {ingredient}",
    "the {color} boats",
    "{number} bags of {ingredient}",
    "the {color} carts",
    "the {animal} herds",
    "{number} jars of {ingredient}",
    "the {material} tools",
    "the {color} nets",
)
FILLER_ADVERBIALS = (
    "in {month}",
    "near the {landscape}",
    "with {material} ropes",
    "after the rain",
    "before the market",
    "in the {landscape}",
    "every morning",
)


def parse_template(template: str) -> tuple[Chunk, ...]:
    chunks = []
    for part in template.split("|"):
        role, _, text = part.partition(":")
        chunks.append((role, text))
    return tuple(chunks)


def english_words() -> list[str]:
    """Every English word the world can use (placeholders excluded), sorted for determinism."""
    texts: list[str] = [*FILLER_TOPICS, *FILLER_SUBJECTS, *FILLER_VERBS]
    texts += [*FILLER_OBJECTS, *FILLER_ADVERBIALS]
    for values in VALUE_SETS.values():
        texts += values
    for rel in RELATIONS:
        texts.append(rel.entity)
        texts += [t for _, t in (c for tpl in rel.templates for c in parse_template(tpl))]
    for tpl in (*CULTURE_INTROS, *SUBJECT_INTROS, FILLER_INTRO):
        texts += [t for _, t in parse_template(tpl)]
    words = {w for text in texts for w in text.split() if not w.startswith("{")}
    return sorted(words)
