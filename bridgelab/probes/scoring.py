"""Cloze scorers on any causal LM: the paper's sentence loss and lm-eval's option log-likelihood.

Scorers (the ``scorer`` name is stored in every result row):

- ``paper``: fill the blank with each option, score the whole sentence (with the tokenizer's
  end-of-text token prepended) by its mean token cross-entropy, predict the lowest. Computed in
  the model's dtype (float32 by default); a tie at the top earns ``1/k`` credit (``ties="split"``).
- ``paper_exact``: the official scorer of the paper's repository (``src/main.py``), exactly:
  bf16 model, one forward pass per sentence, ``CrossEntropyLoss(reduction="mean")`` on bf16
  logits, every run of underscores filled, a sentence without a blank left unchanged (all options
  tie), ties broken by option order, an answer missing from the options counted wrong.
- ``loglik`` / ``loglik_norm``: lm-evaluation-harness's multiple-choice ``acc`` / ``acc_norm``:
  the sum of the option's token log-probabilities given the text before the blank (trailing
  spaces of the context move into the continuation, an empty context is replaced by the BOS/EOS
  token), ``acc_norm`` divides by the option's length in characters.

Option scores never depend on the order of the options, so the position-bias control
(``permutations="cyclic"``) re-decides each item under every cyclic shift of its options from the
stored scores: only tie-breaking can move, and it moves exactly as a re-run would.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from bridgelab.contracts.records import ProbeItem
from bridgelab.errors import DataError
from bridgelab.probes.lint import BLANK_RE
from bridgelab.probes.policy import SCORERS, ScorePolicy
from bridgelab.probes.prefix import shared_prefix_logprobs, supports_shared_prefix


@dataclass
class ItemScore:
    item_id: str
    scorer: str
    scores: list[float]  # one per option, in the item's order
    pred: int
    answer_index: int | None
    correct: float  # credit in [0, 1]
    tie: bool  # several distinct options share the best score
    tie_decided: bool  # a tie that includes the answer: the tie rule decided the credit
    perm_correct: float | None = None  # mean credit over cyclic shifts of the options
    flags: list[str] = field(default_factory=list)  # defects and the policy applied

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


def _eos_id(tokenizer: Any) -> int:
    eid = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.bos_token_id
    if eid is None:
        raise DataError("the tokenizer has neither an EOS nor a BOS token to prepend")
    return int(eid)


def _prefix_id(tokenizer: Any) -> int:
    """lm-eval's ``prefix_token_id``: BOS when the tokenizer has one, else EOS."""
    return int(tokenizer.bos_token_id) if tokenizer.bos_token_id is not None else _eos_id(tokenizer)


def item_flags(item: ProbeItem) -> list[str]:
    n = len(BLANK_RE.findall(item.question))
    flags = ["no_blank"] if n == 0 else (["multiple_blanks"] if n > 1 else [])
    if item.answer_index is None:
        flags.append("answer_not_in_options")
    if len(set(item.options)) < len(item.options):
        flags.append("duplicate_options")
    return flags


def skip_reason(item: ProbeItem, scorer: str, policy: ScorePolicy) -> str | None:
    """Why an item is left out under ``policy`` (None: it is scored)."""
    if scorer == "paper_exact":
        return None  # the official scorer scores everything
    flags = item_flags(item)
    if "no_blank" in flags and policy.no_blank == "skip":
        return "no_blank"
    if "multiple_blanks" in flags and policy.multi_blank == "skip":
        return "multiple_blanks"
    if "answer_not_in_options" in flags and policy.answer_missing == "skip":
        return "answer_not_in_options"
    return None


def fill_sentence(question: str, option: str, *, exact: bool = False) -> str:
    """The question with every blank replaced by ``option`` (no blank: appended, unless exact)."""
    if BLANK_RE.search(question) or exact:
        return BLANK_RE.sub(lambda _m: option, question)
    return f"{question.rstrip()} {option}"


def context_before_blank(question: str) -> str:
    """The text before the first blank; with no blank, the question followed by a space."""
    m = BLANK_RE.search(question)
    return question[: m.start()] if m else f"{question.rstrip()} "


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Context and continuation token ids exactly as lm-evaluation-harness's causal HFLM makes them."""
    if context == "":
        cont = tokenizer.encode(continuation)
        prefix = _prefix_id(tokenizer)
        return ([prefix], cont) if cont[0] != prefix else (cont[:1], cont[1:])
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer.encode(context + continuation)
    ctx = tokenizer.encode(context)
    if whole[: len(ctx)] == ctx and len(whole) > len(ctx):
        return ctx, whole[len(ctx) :]
    # BPE merged tokens across the context/option boundary (scripts written without spaces,
    # such as Han): lm-eval's split would score a wrong or empty continuation, so the option is
    # encoded on its own. That happens in English too, where a blank follows a word without a
    # space ('They eat___' + 'en': ' eaten' is one token). Where the split is clean, this is
    # exactly lm-eval.
    return ctx, tokenizer.encode(continuation)


@torch.no_grad()
def token_logprobs(
    model: Any, seqs: Sequence[tuple[int, ...]], *, batch_size: int = 16, desc: str = "scoring"
) -> dict[tuple[int, ...], np.ndarray]:
    """``lp[j] = log p(seq[j+1] | seq[:j+1])`` for every distinct sequence, in float32.

    Identical sequences are computed once, so options that fill to the same text tie exactly;
    sequences are batched longest first with right padding (positions before the padding see
    exactly the same tokens as without it).
    """
    unique = sorted(set(seqs), key=len, reverse=True)
    device = next(model.parameters()).device
    max_len = getattr(model.config, "max_position_embeddings", None)
    out: dict[tuple[int, ...], np.ndarray] = {}
    for start in tqdm(range(0, len(unique), batch_size), desc=desc, leave=False):
        batch = unique[start : start + batch_size]
        width = len(batch[0])
        if max_len and width > max_len:
            raise DataError(f"a probe sentence has {width} tokens, over the model's {max_len}")
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        ids, mask = ids.to(device), mask.to(device)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        picked = logits.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        lp = (picked - torch.logsumexp(logits, dim=-1)).cpu().numpy()
        for row, seq in enumerate(batch):
            out[seq] = lp[row, : len(seq) - 1]
    return out


@torch.no_grad()
def official_losses(model: Any, seqs: Sequence[tuple[int, ...]]) -> dict[tuple[int, ...], float]:
    """The official loop: one unpadded forward per sentence, bf16 loss on bf16 logits."""
    device = next(model.parameters()).device
    out: dict[tuple[int, ...], float] = {}
    for seq in tqdm(sorted(set(seqs)), desc="paper_exact", leave=False):
        ids = torch.tensor([seq], device=device)
        logits = model(input_ids=ids).logits[0, :-1]
        out[seq] = float(F.cross_entropy(logits, ids[0, 1:], reduction="mean"))
    return out


def decide(
    scores: Sequence[float], options: Sequence[str], answer: str, *, higher_better: bool, ties: str
) -> tuple[int, float, bool]:
    """(pred, credit, tie, answer_in_top): the first best option, the credit under the tie
    policy, whether several distinct option texts share the best score, and whether the
    answer is one of them."""
    arr = np.asarray(scores, dtype=np.float64)
    best = arr.max() if higher_better else arr.min()
    top = [i for i, s in enumerate(arr) if s == best]
    top_texts = {options[i] for i in top}
    pred = top[0]
    if ties == "split":
        credit = (1.0 if answer in top_texts else 0.0) / len(top_texts)
    else:
        credit = 1.0 if options[pred] == answer else 0.0
    return pred, credit, len(top_texts) > 1, answer in top_texts


def cyclic_credit(scores: Sequence[float], options: Sequence[str], answer: str, **kw: Any) -> float:
    """Mean credit over the k cyclic shifts of the options (each option once in each position)."""
    k = len(options)
    credits = []
    for r in range(k):
        order = [(i + r) % k for i in range(k)]
        credits.append(
            decide([scores[i] for i in order], [options[i] for i in order], answer, **kw)[1]
        )
    return float(np.mean(credits))


def _sequences(tokenizer: Any, item: ProbeItem, scorer: str) -> list[tuple[tuple[int, ...], int]]:
    """(token ids, first scored position) per option."""
    if scorer in ("paper", "paper_exact"):
        eos = _eos_id(tokenizer)
        exact = scorer == "paper_exact"
        return [
            ((eos, *tokenizer.encode(fill_sentence(item.question, o, exact=exact))), 0)
            for o in item.options
        ]
    context = context_before_blank(item.question)
    out = []
    for option in item.options:
        ctx, cont = encode_pair(tokenizer, context, option)
        if not cont:
            raise DataError(f"probe item '{item.id}': option {option!r} encodes to no tokens")
        out.append(((*ctx, *cont), len(ctx) - 1))
    return out


def official_bf16(model: Any) -> Any:
    """The model as the paper's official script holds it, whatever dtype it was loaded in:
    ``from_pretrained(..., torch_dtype=torch.bfloat16)`` gives bf16 weights but keeps the
    rotary ``inv_freq`` buffers in float32. ``model.to(torch.bfloat16)`` would cast those too,
    which moves rankings (39 of 2,940 paper items), so only the parameters are cast here."""

    def floating_buffers(m: Any) -> list[torch.Tensor]:
        return [b for b in m.buffers() if b.is_floating_point()]

    params = {p.dtype for p in model.parameters()}
    if params == {torch.bfloat16} and all(
        b.dtype == torch.float32 for b in floating_buffers(model)
    ):
        return model  # already exactly the official state
    path = getattr(model, "name_or_path", "") or ""
    if params != {torch.float32} and path and (Path(path) / "config.json").is_file():
        # weights already rounded (fp16) or buffers already cast: reload what the script loads
        from transformers import AutoModelForCausalLM

        device = next(model.parameters()).device
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16).to(device).eval()
    bf16 = copy.deepcopy(model)
    for param in bf16.parameters():
        param.data = param.data.to(torch.bfloat16)
    for buf in floating_buffers(bf16):
        buf.data = buf.data.to(torch.float32)  # the rotary frequencies stay float32
    return bf16


def _shared_forward(
    model: Any,
    seqs: list[list[tuple[tuple[int, ...], int]]],
    forward: dict[tuple[int, ...], np.ndarray],
    batch_size: int,
    desc: str,
) -> None:
    """Fill ``forward`` for every item whose options are not all there yet (from each option's
    first scored position on), through the shared-prefix scorer."""
    todo = [
        per_item
        for per_item in seqs
        if any(s not in forward or np.isnan(forward[s][start:]).any() for s, start in per_item)
    ]
    if not todo:
        return
    groups = [[s for s, _ in per_item] for per_item in todo]
    needs = [min(start for _, start in per_item) for per_item in todo]
    lps = shared_prefix_logprobs(model, groups, needs, batch_size=batch_size, desc=desc)
    for group, arrays in zip(groups, lps):
        forward.update(zip(group, arrays))


def score_items_multi(
    model: Any,
    tokenizer: Any,
    items: Sequence[ProbeItem],
    scorers: Sequence[str],
    *,
    batch_size: int = 16,
    policy: ScorePolicy = ScorePolicy(),
    permutations: Literal["none", "cyclic"] = "none",
    shared_prefix: bool = True,
) -> tuple[dict[str, list[ItemScore]], dict[str, dict[str, str]]]:
    """Score ``items`` with several scorers, sharing forward passes where scorers share inputs.

    ``shared_prefix``: compute each item's common prefix once and project onto the vocabulary
    only the positions a scorer reads (``bridgelab.probes.prefix``; same results up to float
    summation order); false, or a model outside ``prefix.FAST_MODEL_TYPES``: every option's
    sequence in full. ``paper_exact`` always runs the official per-sentence loop.

    Returns ``(scores per scorer, {scorer: {item id: why it was skipped}})``.
    """
    unknown = [s for s in scorers if s not in SCORERS]
    if unknown:
        raise DataError(f"unknown scorer '{unknown[0]}' (known: {', '.join(SCORERS)})")
    results: dict[str, list[ItemScore]] = {}
    skipped: dict[str, dict[str, str]] = {}
    cache: dict[str, dict] = {}  # forward results per input family, shared across scorers
    for scorer in scorers:
        family = "loglik" if scorer.startswith("loglik") else scorer
        kept, skipped[scorer] = [], {}
        for it in items:
            reason = skip_reason(it, scorer, policy)
            if reason:
                skipped[scorer][it.id] = reason
            else:
                kept.append(it)
        seqs = [_sequences(tokenizer, it, family) for it in kept]
        forward = cache.setdefault(family, {})
        if family == "paper_exact":
            missing = [s for per_item in seqs for s, _ in per_item if s not in forward]
            if missing:
                forward.update(official_losses(official_bf16(model), missing))
        elif shared_prefix and supports_shared_prefix(model):
            _shared_forward(model, seqs, forward, batch_size, family)
        else:
            missing = [s for per_item in seqs for s, _ in per_item if s not in forward]
            if missing:
                forward.update(token_logprobs(model, missing, batch_size=batch_size, desc=family))
        exact = scorer == "paper_exact"
        ties = "first" if exact else policy.ties
        rows = []
        for it, item_seqs in zip(kept, seqs):
            if exact:
                scores = [forward[s] for s, _ in item_seqs]
            elif family == "paper":
                scores = [-float(forward[s].mean()) for s, _ in item_seqs]
            else:
                scores = [float(forward[s][start:].sum()) for s, start in item_seqs]
                if scorer == "loglik_norm":
                    scores = [s / len(o) for s, o in zip(scores, it.options)]
            kw = {"higher_better": family == "loglik", "ties": ties}
            pred, credit, tie, answer_in_top = decide(scores, it.options, it.answer, **kw)
            rows.append(
                ItemScore(
                    item_id=it.id,
                    scorer=scorer,
                    scores=scores,
                    pred=pred,
                    answer_index=it.answer_index,
                    correct=credit,
                    tie=tie,
                    tie_decided=tie and answer_in_top,
                    perm_correct=(
                        cyclic_credit(scores, it.options, it.answer, **kw)
                        if permutations == "cyclic"
                        else None
                    ),
                    flags=item_flags(it),
                )
            )
        results[scorer] = rows
    return results, skipped


def score_items(
    model: Any,
    tokenizer: Any,
    items: Sequence[ProbeItem],
    scorer: str = "paper",
    *,
    batch_size: int = 16,
    policy: ScorePolicy = ScorePolicy(),
    permutations: Literal["none", "cyclic"] = "none",
    shared_prefix: bool = True,
) -> list[ItemScore]:
    """Score ``items`` with one scorer; items skipped under ``policy`` are left out."""
    results, _ = score_items_multi(
        model,
        tokenizer,
        items,
        [scorer],
        batch_size=batch_size,
        policy=policy,
        permutations=permutations,
        shared_prefix=shared_prefix,
    )
    return results[scorer]
