"""Checks of the exact counts: against a plain text scan, and against a world's ground truth.

Two different questions. The text scan (whole-word regular expressions over the documents'
text, the rules of :mod:`bridgelab.count.boundary`) says whether the index counts the STRINGS
exactly: every BPE variant found, nothing extra. The ground truth says how many documents state
the FACT. The two differ only where a world's strings are ambiguous: a subject name that is
also another fact's subject or answer word (the demo world's Mongolian lexicon has a few), so a document
stating that other fact holds the string too. Such (fact, corpus) rows are flagged
``ambiguous`` and the match rate is also given without them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import regex

from bridgelab.count.boundary import needs_check

Row = dict[str, Any]
WORD = r"[\p{L}\p{M}\p{N}]"


def whole_word_pattern(text: str) -> regex.Pattern:
    left, right = needs_check(text)
    return regex.compile(
        (f"(?<!{WORD})" if left else "") + regex.escape(text) + (f"(?!{WORD})" if right else "")
    )


def scan_docs(texts: list[str], text: str) -> set[int]:
    """Indices of the documents holding ``text`` as a whole word (the reference count)."""
    pattern = whole_word_pattern(text)
    return {i for i, doc in enumerate(texts) if pattern.search(doc)}


def string_users(queries: list[Any], lang: str) -> dict[str, set[str]]:
    """{string: ids of the facts using it as subject or answer} in ``lang``."""
    users: dict[str, set[str]] = defaultdict(set)
    for q in queries:
        for s in q.strings(lang):
            if s:
                users[s].add(q.id)
    return users


def truth_rows(rows: list[Row], queries: list[Any], langs: dict[str, str]) -> list[Row]:
    """One row per (fact, corpus): true documents, exact co-occurrence, text-scan co-occurrence."""
    by_id = {q.id: q for q in queries}
    users = {corpus: string_users(queries, lang) for corpus, lang in langs.items()}
    out = []
    for row in rows:
        q = by_id[row["id"]]
        if q.true_counts is None or row["cooccur_docs"] is None:
            continue
        corpus = row["corpus"]
        subject, answer = q.strings(langs[corpus])
        # answers are shared words ("red"); a subject string that another fact also uses
        # (as its subject or answer) is what makes documents of that fact hold both strings
        shared = users[corpus][subject] - {q.id}
        true = int(q.true_counts.get(corpus, 0))
        out.append(
            {
                "fact_id": q.id,
                "corpus": corpus,
                "true_docs": true,
                "cooccur_docs": row["cooccur_docs"],
                "scan_cooccur_docs": row.get("scan_cooccur_docs"),
                "exact": row["cooccur_docs"] == true,
                "same_doc_ids": set((q.true_docs or {}).get(corpus, [])) == row.get("_both"),
                "ambiguous": bool(shared),
                "shared_with": " ".join(sorted(shared)),
            }
        )
    return out


def truth_summary(rows: list[Row]) -> list[Row]:
    """Per corpus: exact-match rate against the truth (all facts, unambiguous ones) and
    against the text scan, and the mean absolute error."""
    out = []
    for corpus in sorted({r["corpus"] for r in rows}):
        mine = [r for r in rows if r["corpus"] == corpus]
        clear = [r for r in mine if not r["ambiguous"]]
        scanned = [r for r in mine if r["scan_cooccur_docs"] is not None]
        out.append(
            {
                "corpus": corpus,
                "facts": len(mine),
                "exact_match_rate": sum(r["exact"] for r in mine) / len(mine),
                "ambiguous": len(mine) - len(clear),
                "exact_match_rate_unambiguous": (
                    sum(r["exact"] for r in clear) / len(clear) if clear else float("nan")
                ),
                "mae": sum(abs(r["cooccur_docs"] - r["true_docs"]) for r in mine) / len(mine),
                "scan_match_rate": (
                    sum(r["scan_cooccur_docs"] == r["cooccur_docs"] for r in scanned) / len(scanned)
                    if scanned
                    else float("nan")
                ),
            }
        )
    return out
