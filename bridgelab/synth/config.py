"""Configuration of the synthetic world: sizes, fact frequencies per corpus, pair mixture."""

from __future__ import annotations

from dataclasses import dataclass

from bridgelab.config import Config, param
from bridgelab.contracts.scripts import TARGET_LANGS
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


@dataclass
class DoseConfig(Config):
    """Dose-response facts: each stated in exactly a ladder count of documents per corpus."""

    ladder: list[int] = param(
        [], help="document counts, ascending (e.g. [0, 1, 2, 4, 8, 16]); empty: no dose facts"
    )
    facts_per_cell: int = param(4, help="probed facts per (English count, native count) cell")
    cross: bool = param(
        True,
        help="true: every English count x every native count; false: one corpus at a time, "
        "the other at 0 (fewer facts)",
    )

    def validate(self) -> None:
        _check_ladder(self.ladder, low=0)
        if self.facts_per_cell < 1:
            raise ConfigError(f"facts_per_cell: must be >= 1, got {self.facts_per_cell}")


@dataclass
class PriorityConfig(Config):
    """Conflicting facts (LNewKnow's prioritisation): one value in the English corpus, another
    value of the same type in the native corpus, at every English count x native count."""

    ladder: list[int] = param(
        [], help="document counts of each value, ascending, each >= 1; empty: no priority facts"
    )
    facts_per_cell: int = param(4, help="probed facts per (English count, native count) cell")

    def validate(self) -> None:
        _check_ladder(self.ladder, low=1)
        if self.facts_per_cell < 1:
            raise ConfigError(f"facts_per_cell: must be >= 1, got {self.facts_per_cell}")


ROBUST_CORPORA = ("en", "native", "both")


@dataclass
class RobustConfig(Config):
    """Facts whose corpus also states a WRONG value (LNewKnow's robustness): ``total``
    documents split true:wrong by each ratio, in the corpora named."""

    total: int = param(4, help="documents stating the fact (true + wrong) in a noisy corpus")
    ratios: list[list[int]] = param(
        [], help="[true, wrong] document counts, each summing to total; empty: no robust facts"
    )
    corpora: list[str] = param(
        ["en", "native"],
        help="where the noise is: en (the native corpus states nothing), native (English states "
        "nothing), both (the same ratio in both corpora); one cell per corpus x ratio",
    )
    facts_per_cell: int = param(4, help="probed facts per (corpus, ratio) cell")

    def validate(self) -> None:
        if self.total < 1:
            raise ConfigError(f"total: must be >= 1, got {self.total}")
        for i, ratio in enumerate(self.ratios):
            if len(ratio) != 2 or min(ratio) < 0 or sum(ratio) != self.total:
                raise ConfigError(
                    f"ratios[{i}]: expected [true, wrong] >= 0 summing to total "
                    f"({self.total}), got {ratio}"
                )
        if len(set(map(tuple, self.ratios))) != len(self.ratios):
            raise ConfigError(f"ratios: a ratio is repeated in {self.ratios}")
        bad = [c for c in self.corpora if c not in ROBUST_CORPORA]
        if bad or not self.corpora or len(set(self.corpora)) != len(self.corpora):
            raise ConfigError(
                f"corpora: expected distinct values among {ROBUST_CORPORA}, got {self.corpora}"
            )
        if self.facts_per_cell < 1:
            raise ConfigError(f"facts_per_cell: must be >= 1, got {self.facts_per_cell}")


def _check_ladder(ladder: list[int], *, low: int) -> None:
    if any(n < low for n in ladder):
        raise ConfigError(f"ladder: every count must be >= {low}, got {ladder}")
    if any(a >= b for a, b in zip(ladder, ladder[1:])):
        raise ConfigError(f"ladder: counts must be strictly ascending, got {ladder}")


def _default_languages() -> dict[str, LanguageConfig]:
    return {lang: LanguageConfig() for lang in TARGET_LANGS}


@dataclass
class SynthConfig(Config):
    out_dir: str = param("runs/world", help="folder the world is written to")
    seed: int = param(0, help="seed of every random choice; the same seed gives the same bytes")
    languages: dict[str, LanguageConfig] = param(
        _default_languages(), help=f"per target language (any of {', '.join(TARGET_LANGS)})"
    )
    facts_per_culture: int = param(
        8,
        help="probed facts per culture (relations cycle); with a design (dose, priority, robust) "
        "the design sets the target languages' probed facts instead",
    )
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
        "of the language's script (bridgelab.contracts.clone); with a tokenizer built with the same "
        "`clone_script`, a token-level clone",
    )
    dose: DoseConfig = param(
        DoseConfig(),
        help="dose-response design: replaces exposure, en_mentions and native_mentions for the "
        "target languages' probed facts (docs/synth.md)",
    )
    priority: PriorityConfig = param(
        PriorityConfig(), help="conflicting values across corpora (design; docs/synth.md)"
    )
    robust: RobustConfig = param(
        RobustConfig(), help="wrong values in a share of a fact's documents (design)"
    )

    def designs_on(self) -> bool:
        """Whether any design states the target languages' probed facts."""
        return bool(self.dose.ladder or self.priority.ladder or self.robust.ratios)

    def unused_keys(self) -> tuple[str, ...]:
        """Config keys left out of world.json and the world hash while unused, so that a world
        that does not use them stays byte-identical to worlds made before they existed."""
        keys = () if self.en_cultures else ("en_cultures", "en_culture_mentions")
        keys = keys if self.clones else (*keys, "clones")
        off = (
            ("dose", not self.dose.ladder),
            ("priority", not self.priority.ladder),
            ("robust", not self.robust.ratios),
        )
        return (*keys, *(key for key, unused in off if unused))

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
        from bridgelab.contracts.clone import CLONE_LANG_SCRIPTS

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
        if self.designs_on() and self.pair_mix.probed_facts > 0:
            # a pair stating a probed fact would add statements that no count records
            raise ConfigError(
                "pair_mix.probed_facts: must be 0 with a design (dose, priority, robust), "
                f"got {self.pair_mix.probed_facts}"
            )
        if not self.probe_template_in_docs and any(len(r.templates) < 2 for r in RELATIONS):
            raise ConfigError("probe_template_in_docs: every relation needs a second template")
