"""Configuration of `bridgelab probe`: which probe sets, which checkpoints, which scorers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bridgelab.config import Config, param
from bridgelab.contracts.probe_sets import MC_SUFFIXES, McFields, ProbeSet, load_probe_set
from bridgelab.errors import ConfigError
from bridgelab.probes.policy import SCORERS, ScorePolicy


@dataclass
class McFieldsConfig(Config):
    """kind mc: which column of the table holds what (docs/probes.md, "Multiple-choice sets")."""

    question: str = param("question", help="column of the question text")
    options: list[str] = param(
        ["options"],
        help="one column holding every option (a list, a JSON list or a letter->text mapping), "
        "or several columns, one option each (e.g. [A, B, C, D])",
    )
    answer: str = param("answer", help="column of the answer")
    answer_is: Literal["index", "letter", "text"] = param(
        "text", help="the answer is an option index, an option letter (A = first) or its text"
    )
    index_base: int = param(0, help="answer_is index: the first option's number (KMMLU: 1)")
    language: str = param(
        "",
        help="column of each row's question language; the rows of each scored question "
        "language are kept ('' = the file is in one language)",
    )
    id: str = param("", help="column of item ids ('' = <name>-<row index:04d>)")
    culture: str = param("", help="column of each item's culture ('' = the set's culture)")
    no_blank: Literal["append", "keep"] = param(
        "append",
        help="a question without a ___ blank: append ' ___' (the paper's convention) or keep it",
    )

    def validate(self) -> None:
        for key in ("question", "answer"):
            if not getattr(self, key):
                raise ConfigError(f"{key}: name the column")
        if not self.options or not all(self.options):
            raise ConfigError("options: name one list column or one column per option")
        if self.index_base < 0:
            raise ConfigError(f"index_base: must be >= 0, got {self.index_base}")

    def build(self) -> McFields:
        return McFields(
            self.question, tuple(self.options), self.answer, self.answer_is, self.index_base,
            self.language, self.id, self.culture, self.no_blank,
        )  # fmt: skip


@dataclass
class ProbeSetConfig(Config):
    """One family of probe sets; paper and synthetic sets come as an English and a native twin."""

    kind: Literal["paper", "synthetic", "lnewknow", "mc"] = param(
        "synthetic",
        help="paper: the paper's cloze JSON files; synthetic: a synth world's probes; "
        "lnewknow: one LNewKnow chat JSONL file (open QA mapped to 4-option cloze); "
        "mc: a multiple-choice table (JSONL, JSON, CSV, parquet) read through `fields`",
    )
    path: str = param(
        "",
        help="paper: folder of <lang>-culture-cloze_<q>.json; synthetic: world folder; "
        "lnewknow: the .jsonl file; mc: the table",
    )
    langs: list[str] = param(
        [], help="paper/synthetic: the cultures' languages (e.g. [ko, zh]); mc: exactly one"
    )
    question_langs: list[str] = param(
        ["en", "native"], help="question languages to score; 'native' = the culture's language"
    )
    fields: McFieldsConfig = param(McFieldsConfig(), help="mc: which column holds what")
    name: str = param("", help="mc: the set's name in results ('' = the file's stem)")
    culture: str = param(
        "", help="mc: every item's culture when fields.culture is unset ('' = from langs)"
    )
    mixed: bool = param(
        False,
        help="also score mixed-language items built from the aligned English and native sets: "
        "native questions with English options and English questions with native options "
        "(arXiv 2406.16135); needs question_langs [en, native]",
    )

    def validate(self) -> None:
        super().validate()
        if not self.path:
            raise ConfigError("path: a probe set needs a path")
        if self.mixed and (self.kind == "lnewknow" or set(self.question_langs) != {"en", "native"}):
            raise ConfigError(
                "mixed: mixed-language items are built from an English and a native twin; "
                f"give question_langs [en, native] (got {self.question_langs}, kind {self.kind})"
            )
        if self.kind != "lnewknow" and not self.langs:
            raise ConfigError("langs: list the cultures' languages for paper/synthetic/mc sets")
        bad = [q for q in self.question_langs if q not in ("en", "native")]
        if bad:
            raise ConfigError(f"question_langs: '{bad[0]}' is not 'en' or 'native'")
        if self.kind == "mc":
            if len(self.langs) != 1:
                raise ConfigError(f"langs: an mc set is one culture's; got {self.langs}")
            if not self.path.lower().endswith(MC_SUFFIXES):
                raise ConfigError(f"path: an mc table must end in {', '.join(MC_SUFFIXES)}")
            if len(self.question_langs) > 1 and not self.fields.language:
                raise ConfigError(
                    "question_langs: several languages from one mc file need fields.language "
                    "(a column of each row's language); for one file per language, list one "
                    "set per file with the same `name`"
                )

    def load(self, lang: str, question_lang: str, *, seed: int = 0) -> ProbeSet:
        """The set of culture ``lang`` asked in ``question_lang`` (``lnewknow``: the file's)."""
        if self.kind == "lnewknow":
            return load_probe_set("lnewknow", self.path, seed=seed)
        return load_probe_set(
            self.kind, self.path, lang, question_lang,
            fields=self.fields.build(), name=self.name, culture=self.culture,
        )  # fmt: skip


# keys of ProbeSetConfig that only the mc kind reads (see ProbeConfig.to_dict)
MC_ONLY_KEYS = ("fields", "name", "culture")


@dataclass
class CheckpointFolderConfig(Config):
    """An explicit checkpoint folder (HF format), beside or instead of a grid."""

    path: str = param(help="HF checkpoint folder (config.json, weights, tokenizer files)")
    run: str = param("", help="run name in the results (default: the folder's name)")
    lang: str = param("", help="the CPT language of the run ('' = score it on every probe set)")
    setting: str = param("", help="bridge setting (bridge, nobridge, codeswitch, base, ...)")
    seed: int = param(0, help="the run's seed")
    step: int = param(-1, help="training step (-1: read bridgelab.json of the folder, else 0)")


@dataclass
class PolicyConfig(Config):
    """How the scorers treat defective items (see docs/probes.md); paper_exact ignores this."""

    no_blank: Literal["append", "skip"] = param(
        "append", help="an item with no blank: append the option to the question, or skip it"
    )
    multi_blank: Literal["fill_all", "skip"] = param(
        "fill_all", help="several blanks: fill all with the option (the official rule), or skip"
    )
    answer_missing: Literal["skip", "wrong"] = param(
        "skip", help="answer not among the options: leave the item out, or count it wrong"
    )
    ties: Literal["split", "first"] = param(
        "split", help="a tie at the top: 1/k credit (split) or the first option wins (first)"
    )

    def build(self) -> ScorePolicy:
        return ScorePolicy(self.no_blank, self.multi_blank, self.answer_missing, self.ties)


@dataclass
class ProbeConfig(Config):
    """`bridgelab probe`: score checkpoints on bilingual cloze probes, item by item."""

    out_dir: str = param("runs/probes", help="output folder (items/, results.jsonl, summary.csv)")
    grid: str = param(
        "", help="a CPT grid folder holding grid.json ('' = explicit checkpoints only)"
    )
    checkpoints: list[CheckpointFolderConfig] = param([], help="explicit checkpoint folders")
    probe_sets: list[ProbeSetConfig] = param([], help="the probe sets to score")
    scorers: list[str] = param(
        ["paper", "loglik", "loglik_norm"], help=f"scorers, among {', '.join(SCORERS)}"
    )
    match_run_lang: bool = param(
        True, help="score a run only on the cultures of its CPT language (runs without a lang: all)"
    )
    batch_size: int = param(16, help="sentences per forward pass")
    device: str = param("auto", help="auto (cuda when available), cpu, cuda, cuda:1, ...")
    dtype: Literal["float32", "bfloat16", "float16"] = param(
        "float32",
        help="model dtype for paper/loglik (paper_exact always scores bf16 weights with float32 "
        "rotary buffers, as the official script loads them)",
    )
    null_model: bool = param(
        True, help="also score a randomly initialised model of each checkpoint architecture"
    )
    null_seed: int = param(0, help="seed of the null model's initialisation")
    permutations: Literal["none", "cyclic"] = param(
        "cyclic", help="position-bias control: re-decide items under every cyclic option shift"
    )
    policy: PolicyConfig = param(PolicyConfig(), help="treatment of defective items")
    options_seed: int = param(0, help="seed of LNewKnow's distractor options and answer position")
    limit: int = param(0, help="score only the first N items of every set (0 = all)")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        # The mc-only keys of a set of another kind are left out while they hold their
        # defaults: the config hash and config.yaml of every probe run made before the mc kind
        # existed stay the same, so finished probe folders are not refused as "another config".
        # `mixed` is left out while off, for the same reason.
        defaults = ProbeSetConfig().to_dict()
        for entry in data["probe_sets"]:
            for key in (*MC_ONLY_KEYS, "mixed") if entry["kind"] != "mc" else ("mixed",):
                if entry.get(key) == defaults[key]:
                    entry.pop(key)
        return data

    def validate(self) -> None:
        super().validate()
        bad = [s for s in self.scorers if s not in SCORERS]
        if bad:
            raise ConfigError(f"scorers: unknown scorer '{bad[0]}' (known: {', '.join(SCORERS)})")
        if not self.scorers:
            raise ConfigError("scorers: name at least one scorer")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size: must be >= 1, got {self.batch_size}")
        if self.limit < 0:
            raise ConfigError(f"limit: must be >= 0, got {self.limit}")
