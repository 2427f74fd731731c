"""Configuration of the synthetic world: sizes, fact frequencies per corpus, pair mixture."""

from __future__ import annotations

from dataclasses import dataclass

from bridgelab.config import Config, param
from bridgelab.data.scripts import TARGET_LANGS
from bridgelab.errors import ConfigError
from bridgelab.synth.vocab import RELATIONS


@dataclass
class LanguageConfig(Config):
    """One target language, its cultures and its resource level."""

    cultures: int = param(1, help="fictional cultures native to this language")
    en_mentions: int = param(
        2,
        help="documents of the ENGLISH corpus stating each English-exposed fact of these cultures",
    )
    native_mentions: int = param(
        4, help="documents of this language's corpus stating each native-exposed fact"
    )
    filler_words: int = param(5000, help="words of neutral filler text in this language's corpus")
    pairs: int = param(500, help="English-<lang> parallel sentence pairs")

    def validate(self) -> None:
        for key in ("cultures", "en_mentions", "native_mentions", "filler_words", "pairs"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}: must be >= 0, got {getattr(self, key)}")


@dataclass
class ExposureConfig(Config):
    """Which corpora state a probed fact: weights, split per culture by largest remainder."""

    both: float = param(0.5, help="share of facts stated in English AND in the native language")
    en_only: float = param(0.25, help="share stated only in English (measures English -> X)")
    native_only: float = param(0.25, help="share stated only in the native language (X -> English)")
    unseen: float = param(0.0, help="share stated nowhere (a chance-level control)")

    def weights(self) -> dict[str, float]:
        return {
            "both": self.both,
            "en_only": self.en_only,
            "native_only": self.native_only,
            "unseen": self.unseen,
        }

    def validate(self) -> None:
        w = self.weights()
        bad = [k for k, v in w.items() if v < 0]
        if bad:
            raise ConfigError(f"{bad[0]}: a share must be >= 0")
        if sum(w.values()) <= 0:
            raise ConfigError("both: the shares must not all be zero")


@dataclass
class PairMixConfig(Config):
    """What the parallel sentences say; the rest of the pairs are neutral filler sentences."""

    bridge_facts: float = param(
        0.2, help="share of pairs stating NON-probed facts of the cultures (names, relations)"
    )
    subjects: float = param(
        0.1, help="share of pairs naming a probed subject without its value (teaches the name)"
    )
    probed_facts: float = param(
        0.0, help="share of pairs stating PROBED facts; leaks answers, keep 0 for the study"
    )

    def validate(self) -> None:
        shares = (self.bridge_facts, self.subjects, self.probed_facts)
        if min(shares) < 0 or sum(shares) > 1:
            raise ConfigError("bridge_facts: the shares must be >= 0 and sum to at most 1")


def _default_languages() -> dict[str, LanguageConfig]:
    return {lang: LanguageConfig() for lang in TARGET_LANGS}


@dataclass
class SynthConfig(Config):
    out_dir: str = param("runs/world", help="folder the world is written to")
    seed: int = param(0, help="seed of every random choice; the same seed gives the same bytes")
    languages: dict[str, LanguageConfig] = param(
        _default_languages(), help=f"per target language (any of {', '.join(TARGET_LANGS)})"
    )
    facts_per_culture: int = param(8, help="probed facts per culture (relations cycle)")
    bridge_facts_per_culture: int = param(
        4, help="extra, never probed facts per culture, stated only in parallel pairs"
    )
    exposure: ExposureConfig = param(ExposureConfig(), help="corpora that state each fact")
    en_filler_words: int = param(20000, help="words of neutral filler text in the English corpus")
    facts_per_doc: int = param(3, help="most facts one culture article states")
    filler_sentences: list[int] = param([3, 8], help="[min, max] sentences of a filler article")
    probe_template_in_docs: bool = param(
        True, help="documents may use the probe's wording; false: probes are unseen paraphrases"
    )
    pair_mix: PairMixConfig = param(PairMixConfig(), help="content of the parallel pairs")
    en_cultures: int = param(
        0, help="English 'home' cultures, stated only in the English corpus (forgetting probes)"
    )
    en_culture_mentions: int = param(
        4, help="documents of the English corpus stating each fact of an English culture"
    )
    clones: list[str] = param(
        [],
        help="target languages (zh, ko, mn) written as CLONED English (a control): the English "
        "text with every letter (case kept), digit and punctuation mark replaced by one character "
        "of the language's script (bridgelab.data.clone); with a tokenizer built with the same "
        "`clone_script`, a token-level clone",
    )

    def unused_keys(self) -> tuple[str, ...]:
        """Config keys left out of world.json and the world hash while unused, so that a world
        that does not use them stays byte-identical to worlds made before they existed."""
        keys = () if self.en_cultures else ("en_cultures", "en_culture_mentions")
        return keys if self.clones else (*keys, "clones")

    def validate(self) -> None:
        super().validate()
        for lang, lc in self.languages.items():
            if lang not in TARGET_LANGS:
                raise ConfigError(f"languages.{lang}: unknown language (known: {TARGET_LANGS})")
            try:
                lc.validate()
            except ConfigError as exc:
                raise ConfigError(f"languages.{lang}.{exc}") from None
        if not self.languages:
            raise ConfigError("languages: name at least one target language")
        stray = [x for x in self.clones if x not in self.languages]
        if stray:
            raise ConfigError(
                f"clones: {stray[0]!r} is not one of languages ({sorted(self.languages)})"
            )
        from bridgelab.data.clone import CLONE_LANG_SCRIPTS

        bad = [x for x in self.clones if x not in CLONE_LANG_SCRIPTS]
        if bad:
            raise ConfigError(
                f"clones: {bad[0]!r} cannot be a clone (its script has too few letters); "
                f"choose from {sorted(CLONE_LANG_SCRIPTS)}"
            )
        if self.en_cultures < 0 or self.en_culture_mentions < 1:
            raise ConfigError(
                "en_cultures: must be >= 0 (and en_culture_mentions >= 1), got "
                f"{self.en_cultures} ({self.en_culture_mentions})"
            )
        if self.facts_per_culture < 1 or self.bridge_facts_per_culture < 0:
            raise ConfigError("facts_per_culture: must be >= 1 (bridge_facts_per_culture >= 0)")
        if self.facts_per_doc < 1:
            raise ConfigError(f"facts_per_doc: must be >= 1, got {self.facts_per_doc}")
        lo_hi = self.filler_sentences
        if len(lo_hi) != 2 or not 1 <= lo_hi[0] <= lo_hi[1]:
            raise ConfigError(
                f"filler_sentences: expected [min, max] with 1 <= min <= max, got {lo_hi}"
            )
        if not self.probe_template_in_docs and any(len(r.templates) < 2 for r in RELATIONS):
            raise ConfigError("probe_template_in_docs: every relation needs a second template")
