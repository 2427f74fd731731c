"""Cultural density and the instance-level comparison of transferred facts.

Occurrence rows (one per probe and corpus) hold ``occurrences``: how many of the probe's top-k
retrieved documents the judge said state its fact. From them:

- :func:`density_table`: per culture and corpus, the mean occurrences per probe divided by the
  number of documents in the corpus (the paper's cultural density, e.g. Tibetan culture
  1.49e-7 in English and 9.19e-6 in Tibetan). Each row names the retriever, k, judge and
  prompt version that produced it (DESIGN.md control 5).
- :func:`instance_table`: joined with the probe stage's item results, the mean occurrence count
  of facts that transferred against all facts, per direction, with a one-sided Mann-Whitney U
  test (transferred vs not transferred).

Which facts *transferred* is read from the ``transfer_setting`` runs at their first step
(before continued pretraining) and at their last step, with "known" meaning a mean credit over
runs >= threshold:

- English→X: known in English at the start, not known in X at the start, known in X at the end;
  its occurrences are counted in the English corpus;
- X→English: not known in English at the start, known in English and in X at the end; its
  occurrences are counted in the corpus of language X.

"All facts" are every probe of culture X with results in both languages at both ends.
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import mean
from typing import Any

from scipy.stats import mannwhitneyu

Row = dict[str, Any]


def density_table(
    occurrences: list[Row],
    num_docs: dict[str, int],
    *,
    retriever: dict[str, str],
    k: int,
    judge: str,
    prompt_version: str,
) -> list[Row]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in occurrences:
        groups[(row["culture"], row["corpus"])].append(int(row["occurrences"]))
    table = []
    for (culture, corpus), counts in sorted(groups.items()):
        per_probe = sum(counts) / len(counts)
        table.append(
            {
                "culture": culture,
                "corpus": corpus,
                "num_probes": len(counts),
                "occurrences": sum(counts),
                "mean_occurrences": per_probe,
                "num_docs": num_docs[corpus],
                "density": per_probe / num_docs[corpus],
                "retriever": retriever[corpus],
                "k": k,
                "judge": judge,
                "prompt_version": prompt_version,
            }
        )
    return table


def knowledge(item_results: list[Row], setting: str, which: str) -> dict[tuple[str, str], float]:
    """{(item_id, question_lang): mean credit over the setting's runs at each run's first or
    last step} (``which`` = "first" or "last")."""
    pick = min if which == "first" else max
    chosen: dict[str, int] = {}
    for r in item_results:
        if r["setting"] == setting:
            step = int(r["step"])
            chosen[r["run"]] = pick(chosen.get(r["run"], step), step)
    credits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in item_results:
        if r["setting"] == setting and int(r["step"]) == chosen[r["run"]]:
            credits[(r["item_id"], r["question_lang"])].append(float(r["correct"]))
    return {key: mean(values) for key, values in credits.items()}


def instance_table(
    occurrences: list[Row],
    item_results: list[Row],
    corpus_langs: dict[str, str],
    *,
    setting: str = "bridge",
    threshold: float = 0.5,
) -> list[Row]:
    start = knowledge(item_results, setting, "first")
    end = knowledge(item_results, setting, "last")
    corpus_of_lang = {lang: corpus for corpus, lang in corpus_langs.items()}
    counts = {(r["probe_id"], r["corpus"]): int(r["occurrences"]) for r in occurrences}
    culture_items: dict[str, set[str]] = defaultdict(set)
    for r in item_results:
        if r["setting"] == setting:
            culture_items[r["culture_lang"]].add(r["item_id"])
    table = []
    for x in sorted(set(culture_items) - {"en"}):
        for source, target in (("en", x), (x, "en")):
            corpus = corpus_of_lang.get(source)
            items = [
                i
                for i in sorted(culture_items[x])
                if corpus is not None
                and (i, corpus) in counts
                and all((i, lang) in d for d in (start, end) for lang in ("en", x))
            ]
            if not items:
                continue
            moved = [
                counts[(i, corpus)]
                for i in items
                if transferred(i, x, source, start, end, threshold)
            ]
            every = [counts[(i, corpus)] for i in items]
            table.append(_compare(x, f"{source}->{target}", corpus, every, moved, setting))
    return table


def transferred(item: str, x: str, source: str, start: dict, end: dict, threshold: float) -> bool:
    """The rule of the module docstring for direction source -> target (x is the culture lang)."""

    def known(table: dict, lang: str) -> bool:
        return table[(item, lang)] >= threshold

    if source == "en":
        return known(start, "en") and not known(start, x) and known(end, x)
    return not known(start, "en") and known(end, "en") and known(end, x)


def _compare(
    culture_lang: str, direction: str, corpus: str, every: list[int], moved: list[int], setting: str
) -> Row:
    rest = list(every)
    for value in moved:  # every minus the transferred ones, as a multiset
        rest.remove(value)
    u, p = math.nan, math.nan
    if moved and rest:
        u, p = mannwhitneyu(moved, rest, alternative="greater")
    return {
        "culture_lang": culture_lang,
        "direction": direction,
        "count_corpus": corpus,
        "setting": setting,
        "n_items": len(every),
        "n_transferred": len(moved),
        "mean_all": mean(every),
        "mean_transferred": mean(moved) if moved else math.nan,
        "sem_all": _sem(every),
        "sem_transferred": _sem(moved),
        "mannwhitney_u": float(u),
        "p_value": float(p),
    }


def _sem(values: list[int]) -> float:
    if len(values) < 2:
        return math.nan
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1) / len(values))
