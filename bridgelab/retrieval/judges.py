"""Judges decide whether a retrieved document states a probe's fact. One interface, four backends.

``get_judge(name, **kw)`` returns an object with ``name`` (the judge's identity in the judgment
store) and ``judge(requests) -> judgments`` (same order, same length). Backends are import
strings resolved on first use, so vLLM or an HTTP client is imported only when chosen:

- ``lexical``: :class:`LexicalJudge` (``min_overlap=0.5``);
- ``transformers``: ``llm_judges.TransformersJudge`` (``model, template, batch_size=8,
  max_doc_chars=2000, device=None``), a local causal LM, for small judges and CPU tests;
- ``vllm``: ``llm_judges.VLLMJudge`` (``model, template, tensor_parallel_size=1,
  max_model_len=None, gpu_memory_utilization=0.9, max_doc_chars=2000, batch_size=256``),
  offline batched inference with prefix caching;
- ``openai``: ``llm_judges.OpenAIJudge`` (``model, template, base_url, api_key_env=
  "OPENAI_API_KEY", timeout_s=120, max_doc_chars=2000, batch_size=32``), the completions
  endpoint of an OpenAI-compatible server such as ``vllm serve``.

LLM judges render the prompt template, read the next-token log-probabilities of "Yes" and "No"
and answer Yes when ``p(Yes) > p(No)``; ``p_yes`` is ``p(Yes) / (p(Yes) + p(No))``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from bm25s.stopwords import STOPWORDS_EN

from bridgelab.errors import ConfigError
from bridgelab.retrieval.text import contains, tokenize

STOPWORDS = frozenset(STOPWORDS_EN)  # bm25s's English list


@dataclass(frozen=True)
class JudgeRequest:
    """One (probe, document) question. ``subject`` is known on the synthetic world only."""

    probe_id: str
    doc_id: str
    question: str
    answer: str
    statement: str
    document: str
    subject: str | None = None


@dataclass(frozen=True)
class Judgment:
    probe_id: str
    doc_id: str
    label: bool
    p_yes: float | None = None  # None for rule-based judges
    raw: str = ""  # what the backend answered, for auditing


class Judge(Protocol):
    name: str

    def judge(self, requests: list[JudgeRequest]) -> list[Judgment]: ...


def render_prompt(template: str, request: JudgeRequest, max_doc_chars: int) -> str:
    return template.format(
        statement=request.statement,
        question=request.question,
        answer=request.answer,
        document=request.document[:max_doc_chars],
    )


def is_yes_no(token_text: str) -> str | None:
    """'yes' or 'no' when a decoded token is one of the two answers (any case, any spacing)."""
    word = token_text.strip().strip(".").casefold()
    return word if word in ("yes", "no") else None


class LexicalJudge:
    """Yes when the answer occurs in the document and so does the subject.

    Without a known subject (real probes), the subject is approximated by the question's terms:
    at least ``min_overlap`` of its distinct terms (English stopwords aside) must occur in the
    document. A baseline, and
    the judge the tests and the offline demo run.
    """

    def __init__(self, min_overlap: float = 0.5):
        self.min_overlap = min_overlap
        # the default rule is "lexical" in the store; another threshold is another judge
        self.name = "lexical" if min_overlap == 0.5 else f"lexical-{min_overlap:g}"

    def decide(self, request: JudgeRequest) -> tuple[bool, str]:
        if not contains(request.document, request.answer):
            return False, "answer absent"
        if request.subject is not None:
            found = contains(request.document, request.subject)
            return found, "subject present" if found else "subject absent"
        # English function words ("the", "is", "in") would meet the overlap in any document
        terms = set(tokenize(request.question)) - set(tokenize(request.answer)) - STOPWORDS
        if not terms:
            return True, "answer present"
        doc_terms = set(tokenize(request.document))
        overlap = len(terms & doc_terms) / len(terms)
        return overlap >= self.min_overlap, f"question overlap {overlap:.2f}"

    def judge(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out = []
        for r in requests:
            label, why = self.decide(r)
            out.append(Judgment(r.probe_id, r.doc_id, label, None, why))
        return out


BACKENDS: dict[str, str] = {
    "lexical": "bridgelab.retrieval.judges:LexicalJudge",
    "transformers": "bridgelab.retrieval.llm_judges:TransformersJudge",
    "vllm": "bridgelab.retrieval.llm_judges:VLLMJudge",
    "openai": "bridgelab.retrieval.llm_judges:OpenAIJudge",
}


def get_judge(name: str, **kw: Any) -> Judge:
    """The judge backend ``name`` built with ``kw`` (imported only now)."""
    if name not in BACKENDS:
        raise ConfigError(f"judge.kind: unknown judge '{name}' (known: {', '.join(BACKENDS)})")
    module, attr = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), attr)(**kw)
