"""Synthetic target languages: seeded words in real scripts, transliterated names, word order.

Each target language has
- a *lexicon*: every English word of the world maps to one generated word of the language's
  script (articles are dropped), so a translation is exact and learnable from parallel text;
- a *transliteration*: fictional names are strings of Latin consonant-vowel syllables, and each
  syllable maps to one unit of the target script (a Hangul block, a Han character, a Tibetan
  consonant with vowel sign, a Mongolian letter pair) by a seeded table, so names follow a
  regular sound correspondence that a model can pick up from bridges;
- a *word-order rule*: Korean-, Tibetan- and Mongolian-like are verb-final with postpositions
  (``in March`` -> ``March in``); Chinese-like keeps English order and writes no spaces.

A *clone* (``clone=True``, the control of Dufter & Schütze 2020 and Schäfer et al. 2024) is
English itself in another script: the English text passed through the character bijection of
``bridgelab.contracts.clone`` (letters with their case, digits and punctuation each become one
character of the script; words, articles, word order and spaces stay English). With a tokenizer
built with ``clone_script`` it is a *token-level* clone: every English token has exactly one twin.
It separates "the two languages are too different" from "the model does not share what it
knows", and gives the calibration its exact oracle.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from bridgelab.contracts.clone import CLONE_LANG_SCRIPTS, clone_text
from bridgelab.contracts.records import BLANK
from bridgelab.synth.vocab import parse_template

NAME_CONSONANTS = "bdghklmnprstvz"
NAME_VOWELS = "aeiou"
DROPPED = frozenset({"the", "a"})  # no articles in the target languages
PREPOSITIONS = frozenset(
    {"in", "from", "on", "with", "like", "to", "about", "among", "near", "after", "before"}
)


@dataclass(frozen=True)
class LangSpec:
    code: str
    verb_final: bool  # SOV with postpositions
    word_sep: str
    sentence_end: str
    sentence_sep: str  # between the sentences of a document


SPECS: dict[str, LangSpec] = {
    "en": LangSpec("en", False, " ", ".", " "),
    "ko": LangSpec("ko", True, " ", ".", " "),
    "zh": LangSpec("zh", False, "", "\u3002", ""),
    "bo": LangSpec("bo", True, "\u0f0b", "\u0f0d", " "),  # tsheg between syllables, shad ends
    "mn": LangSpec("mn", True, " ", "\u1803", " "),
}

# the thirty consonants of the Tibetan alphabet, the vowel signs, and the ten final letters
_TIBETAN_ROOTS = list("ཀཁགངཅཆཇཉཏཐདནཔཕབམཙཚཛཝཞཟའཡརལཤསཧཨ")
_TIBETAN_VOWELS = {"a": "", "i": "\u0f72", "u": "\u0f74", "e": "\u0f7a", "o": "\u0f7c"}
_TIBETAN_SUFFIXES = list("གངདནབམའརལས")
_MONGOLIAN_VOWELS = [chr(c) for c in range(0x1820, 0x1827)]
_MONGOLIAN_CONSONANTS = [chr(c) for c in range(0x1828, 0x1838)]
_HANGUL_VOWELS = {"a": 0, "e": 5, "i": 20, "o": 8, "u": 13}  # jungseong indices


def _hangul(lead: int, vowel: int, tail: int = 0) -> str:
    return chr(0xAC00 + (lead * 21 + vowel) * 28 + tail)


class Lexicon:
    """English -> one language: words, names and whole sentences. ``en`` is the identity."""

    def __init__(self, lang: str, english_words: list[str], seed: int, *, clone: bool = False):
        self.spec = SPECS[lang]
        self.lang = lang
        self.clone = clone and lang != "en"
        self.words: dict[str, str] = {}
        self._syllables: dict[str, str] = {}
        self._layouts: dict[tuple[str, str], tuple[tuple[bool, str], ...]] = {}
        if lang == "en":
            return
        if self.clone:
            # English rendered, then every character mapped: layout, articles, case and
            # punctuation stay English, so a mirrored BPE cuts it exactly like English
            self.spec = replace(SPECS["en"], code=lang)
            self._script = CLONE_LANG_SCRIPTS[lang]
            self._english = Lexicon("en", english_words, seed)
            self.words = {w: self._spell(w) for w in english_words}
            return
        rng = random.Random(f"{seed}:lexicon:{lang}")
        self._han_pool: list[str] = []
        pool: list[str] = []
        if lang == "zh":
            # transliteration characters are kept apart from word characters, as Chinese
            # phonetic loans mostly are, so a name never reads as a run of ordinary words
            pool = [chr(c) for c in rng.sample(range(0x4E00, 0x9FA6), 70 + 700)]
            self._han_pool = pool[70:]
        consonants = self._consonant_table(rng) if lang != "zh" else {}
        for i, syl in enumerate(c + v for c in NAME_CONSONANTS for v in NAME_VOWELS):
            unit = pool[i] if lang == "zh" else self._name_unit(consonants[syl[0]], syl[1])
            self._syllables[syl] = unit
        used: set[str] = set()
        for word in english_words:
            if word in DROPPED:
                continue
            while True:
                n = rng.choices((1, 2, 3), weights=(3, 5, 2))[0]
                if lang == "zh":
                    n = min(n, 2)
                new = self._syllable_sep.join(self._random_syllable(rng) for _ in range(n))
                if new not in used:
                    break
            used.add(new)
            self.words[word] = new

    @property
    def _syllable_sep(self) -> str:
        return "\u0f0b" if self.lang == "bo" else ""

    def _consonant_table(self, rng: random.Random) -> dict[str, Any]:
        """Latin consonant -> this script's consonant (a Hangul lead index, or a letter)."""
        pools: dict[str, list[Any]] = {
            "ko": [i for i in range(19) if i != 11],  # leads, without the silent ieung
            "bo": _TIBETAN_ROOTS,
            "mn": _MONGOLIAN_CONSONANTS,
        }
        return dict(zip(NAME_CONSONANTS, rng.sample(pools[self.lang], len(NAME_CONSONANTS))))

    def _name_unit(self, consonant: Any, vowel: str) -> str:
        if self.lang == "ko":
            return _hangul(consonant, _HANGUL_VOWELS[vowel])
        if self.lang == "bo":
            return f"{consonant}{_TIBETAN_VOWELS[vowel]}"
        return f"{consonant}{_MONGOLIAN_VOWELS['aeiou'.index(vowel)]}"

    def _random_syllable(self, rng: random.Random) -> str:
        if self.lang == "ko":
            tail = rng.randrange(1, 28) if rng.random() < 0.5 else 0
            return _hangul(rng.randrange(19), rng.randrange(21), tail)
        if self.lang == "zh":
            return rng.choice(self._han_pool)
        if self.lang == "bo":
            suffix = rng.choice(_TIBETAN_SUFFIXES) if rng.random() < 0.4 else ""
            vowel = rng.choice(list(_TIBETAN_VOWELS.values()))
            return f"{rng.choice(_TIBETAN_ROOTS)}{vowel}{suffix}"
        coda = rng.choice(_MONGOLIAN_CONSONANTS) if rng.random() < 0.3 else ""
        return f"{rng.choice(_MONGOLIAN_CONSONANTS)}{rng.choice(_MONGOLIAN_VOWELS)}{coda}"

    def _spell(self, english: str) -> str:
        """A clone's spelling of English text: character by character (``___`` is kept)."""
        return clone_text(english, self._script)

    def name(self, english: str) -> str:
        """Transliterate a generated name (consonant-vowel syllables, e.g. ``Torika``)."""
        if self.lang == "en":
            return english
        if self.clone:
            return self._spell(english)
        low = english.lower()
        units = [self._syllables[low[i : i + 2]] for i in range(0, len(low), 2)]
        return self._syllable_sep.join(units)

    def word(self, english: str) -> str:
        """The translation of one English word ('' for a dropped article)."""
        if self.lang == "en" or english == BLANK:
            return english
        if english in DROPPED and not self.clone:
            return ""
        try:
            return self.words[english]
        except KeyError:
            raise KeyError(f"'{english}' is not in the {self.lang} lexicon") from None

    def render(
        self,
        template: str,
        *,
        names: dict[str, str] | None = None,
        words: dict[str, str] | None = None,
        entity: str = "",
    ) -> str:
        """One sentence from a chunk template; ``names`` fill slots by transliteration,
        ``words`` (values, or ``BLANK``) by the lexicon; ``{e}`` is replaced by ``entity``."""
        if self.clone:
            return self._spell(
                self._english.render(template, names=names, words=words, entity=entity)
            )
        names = names or {}
        words = words or {}
        out = []
        for is_slot, text in self._layout(template, entity):
            if not is_slot:
                out.append(text)
            elif text in names:
                out.append(self.name(names[text]))
            else:
                out.append(self.word(words[text]))
        sentence = self.spec.word_sep.join(t for t in out if t)
        if self.lang == "en":
            sentence = sentence[0].upper() + sentence[1:]
        return sentence + self.spec.sentence_end

    def _layout(self, template: str, entity: str) -> tuple[tuple[bool, str], ...]:
        """The template's tokens in this language's order: (True, slot) or (False, word).

        Cached: a world renders millions of sentences from a few thousand templates.
        """
        key = (template, entity)
        if key not in self._layouts:
            chunks = list(parse_template(template.replace("{e}", entity)))
            if self.spec.verb_final:
                chunks = [c for c in chunks if c[0] != "V"] + [c for c in chunks if c[0] == "V"]
            layout: list[tuple[bool, str]] = []
            for _, text in chunks:
                tokens = text.split()
                if self.spec.verb_final and tokens and tokens[0] in PREPOSITIONS:
                    tokens = tokens[1:] + tokens[:1]
                for tok in tokens:
                    is_slot = tok.startswith("{")
                    layout.append((is_slot, tok[1:-1] if is_slot else self.word(tok)))
            self._layouts[key] = tuple(layout)
        return self._layouts[key]

    def join(self, sentences: list[str]) -> str:
        return self.spec.sentence_sep.join(sentences)
