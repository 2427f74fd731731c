"""Mixed-language probe items: the question in one language, the options in the other.

Chua et al. (arXiv 2406.16135, "Crosslingual Capabilities and Knowledge Barriers in
Multilingual Large Language Models") test whether a model can relate what it knows across
languages by asking MMLU questions whose question and options are in different languages (their
``question`` mode: question translated, options in English; ``options`` mode: the reverse). Here
the same two directions are derived from a culture's aligned English and native probe sets,
item by item: a mixed item is the question of one set with the options and answer of the other,
so the cloze sentence a scorer builds is the question with a foreign option in the blank.

Mixed items keep the question's language in ``question_lang`` and add ``options_lang``; their
ids and set names carry the options' language, so they never collide with the matched items
that every other consumer of the results reads (docs/CONTRACTS.md "Probe results").
"""

from __future__ import annotations

import logging

from bridgelab.contracts.probe_sets import ProbeSet
from bridgelab.contracts.records import ProbeItem
from bridgelab.errors import DataError

log = logging.getLogger(__name__)


def mixed_suffix(options_lang: str) -> str:
    """What a mixed set's name and its items' ids end with: ``+opt-<options_lang>``."""
    return f"+opt-{options_lang}"


def mixed_set(questions: ProbeSet, options: ProbeSet) -> ProbeSet:
    """Items of ``questions`` with the options and answer of the item of ``options`` that has
    the same id. Refuses (naming the file and the item id) an item without a partner, or a
    pair whose option counts differ: the options would not be the same choices translated."""
    if questions.culture_lang != options.culture_lang:
        raise DataError(
            f"{questions.source} ({questions.culture_lang}) and {options.source} "
            f"({options.culture_lang}) ask about different cultures; they cannot be mixed"
        )
    partner = {it.id: it for it in options.items}
    ours = {it.id for it in questions.items}
    for it in options.items:
        if it.id not in ours:
            raise DataError(
                f"{options.source}: item {it.id} has no aligned item in {questions.source}"
            )
    suffix = mixed_suffix(options.question_lang)
    items, moved = [], []
    for q in questions.items:
        o = partner.get(q.id)
        if o is None:
            raise DataError(
                f"{questions.source}: item {q.id} has no aligned item in {options.source}"
            )
        if len(q.options) != len(o.options):
            raise DataError(
                f"{questions.source}: item {q.id} has {len(q.options)} options but "
                f"{options.source} item {o.id} has {len(o.options)}; mixed items need the same "
                "options in both languages"
            )
        if q.answer_index != o.answer_index:
            moved.append(q.id)
        # The options side decides the answer: its text is what fills the blank when right.
        items.append(ProbeItem(q.id + suffix, q.culture, q.lang, q.question, o.options, o.answer))
    if moved:
        # Not an error: the paper's mn-0069 has an English answer that is not among its
        # options. The mixed item is then scored exactly as the options-side item would be.
        log.warning(
            "%s vs %s: answer position differs for %d items (%s); mixed items use the answer of "
            "the options side", questions.source, options.source, len(moved), ", ".join(moved[:5]),
        )  # fmt: skip
    return ProbeSet(
        name=questions.name + suffix,
        culture_lang=questions.culture_lang,
        question_lang=questions.question_lang,
        items=tuple(items),
        source=f"{questions.source} (questions) + {options.source} (options)",
        options_lang=options.question_lang,
    )


def mixed_sets(native: ProbeSet, english: ProbeSet) -> list[ProbeSet]:
    """Both directions of one culture: native questions with English options, and English
    questions with native options."""
    return [mixed_set(native, english), mixed_set(english, native)]


def is_mixed(row: dict) -> bool:
    """A results row of a mixed item (only those rows carry ``options_lang``)."""
    return bool(row.get("options_lang"))
