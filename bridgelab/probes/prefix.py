"""Option log-probabilities with the question prefix computed once per item.

An item's k option sequences share a token prefix (the question up to the blank, for the
``loglik`` family the whole context). In a causal model every position of that prefix sees the
same tokens in each option, so its hidden states and token log-probabilities are the same in all
k: the plain scorer (``scoring.token_logprobs``) computes them k times and projects every
position of every sequence onto the whole vocabulary. Here, per batch of items:

1. one forward of the items' prefixes (right-padded) keeps their key/value cache;
2. the cache is repeated for each item's options and one forward of the options' suffixes
   continues it (explicit position ids, the prefix padding masked out);
3. the vocabulary projection runs only at the positions whose log-probability a scorer reads
   (``need_from`` on): a shared position once, not k times.

With the paper's 151,936-token vocabulary the projection is almost all the work of a small
model, so (3) carries most of the speed-up; on a large model (2) does. The results equal the
unshared computation's up to floating-point summation order (tests/test_probes_prefix.py checks
scores and item-level results against ``token_logprobs``).

The projection-only-where-needed path applies to decoder-only models whose logits are exactly
``lm_head(final hidden state)`` (``FAST_MODEL_TYPES``); any other model is scored the plain way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from bridgelab.errors import DataError

# logits = lm_head(model.model(...).last_hidden_state), no soft-capping or logit scaling
FAST_MODEL_TYPES = frozenset({"qwen2", "qwen3", "llama", "mistral"})

Seq = tuple[int, ...]


def supports_shared_prefix(model: Any) -> bool:
    config = getattr(model, "config", None)
    return (
        getattr(config, "model_type", None) in FAST_MODEL_TYPES
        and not getattr(config, "final_logit_softcapping", None)
        and hasattr(model, "model")
        and hasattr(model, "lm_head")
    )


def _cache_kwarg(model: Any) -> str:
    """transformers renamed ``past_key_values`` to ``cache`` (5.2x) and warns on the old name."""
    import inspect

    return (
        "cache"
        if "cache" in inspect.signature(model.model.forward).parameters
        else "past_key_values"
    )


def _common_prefix(seqs: Sequence[Seq]) -> int:
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for i in range(n):
        if any(s[i] != first[i] for s in seqs[1:]):
            return i
    return n


ROW_CHUNK, VOCAB_BLOCK = 256, 4096


def _project(model: Any, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target | position) for rows of final hidden states, in float32.

    A large vocabulary is projected in blocks of rows x VOCAB_BLOCK entries with an online
    log-sum-exp (running maximum and rescaled sum), so each block of logits is read while still
    in cache instead of materialising rows x 151,936 floats and passing over them three times:
    about twice as fast at the paper's vocabulary on this CPU, equal to 2e-6.
    """
    weight = model.lm_head.weight
    if weight.shape[0] <= 2 * VOCAB_BLOCK or getattr(model.lm_head, "bias", None) is not None:
        logits = model.lm_head(hidden).float()
        return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, -1)
    out = []
    for r in range(0, hidden.shape[0], ROW_CHUNK):
        h, t = hidden[r : r + ROW_CHUNK], targets[r : r + ROW_CHUNK]
        top = total = None
        for v in range(0, weight.shape[0], VOCAB_BLOCK):
            block = (h @ weight[v : v + VOCAB_BLOCK].t()).float()
            block_top = block.amax(1)
            if top is None:
                top, total = block_top, torch.exp(block - block_top[:, None]).sum(1)
            else:
                new_top = torch.maximum(top, block_top)
                total = total * torch.exp(top - new_top) + torch.exp(block - new_top[:, None]).sum(
                    1
                )
                top = new_top
        picked = (h * weight[t]).sum(1, dtype=torch.float32)
        out.append(picked - (top + torch.log(total)))
    return torch.cat(out)


def _pad(rows: Sequence[Seq], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


@torch.no_grad()
def _batch(
    model: Any, groups: Sequence[Sequence[Seq]], needs: Sequence[int]
) -> list[list[np.ndarray]]:
    """Log-probabilities (NaN before ``need``) of each group's sequences, one batch."""
    device = next(model.parameters()).device
    # a shared prefix of at least one token, and at least one token of suffix per option
    cuts = [min(_common_prefix(g), min(len(s) for s in g) - 1) for g in groups]
    prefix_ids, prefix_mask = _pad([g[0][:c] for g, c in zip(groups, cuts)], device)
    out = model.model(input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True)
    hidden = out.last_hidden_state
    cache = out.cache if hasattr(out, "cache") else out.past_key_values

    results = [[np.full(len(s) - 1, np.nan, dtype=np.float32) for s in g] for g in groups]
    # shared prefix positions j in [need, cut-2] predict the shared token seq[j+1], once
    rows, cols, targets, owners = [], [], [], []
    for b, (g, cut, need) in enumerate(zip(groups, cuts, needs)):
        for j in range(need, cut - 1):
            rows.append(b), cols.append(j), targets.append(g[0][j + 1]), owners.append((b, j))
    # the last prefix position predicts each option's first suffix token
    for b, (g, cut) in enumerate(zip(groups, cuts)):
        for o, s in enumerate(g):
            rows.append(b), cols.append(cut - 1), targets.append(s[cut]), owners.append((b, o))
    n_shared = sum(max(cut - 1 - need, 0) for cut, need in zip(cuts, needs))
    lp = _project(model, hidden[rows, cols], torch.tensor(targets, device=device)).cpu().numpy()
    for (b, j), v in zip(owners[:n_shared], lp[:n_shared]):
        for arr in results[b]:
            arr[j] = v
    for (b, o), v in zip(owners[n_shared:], lp[n_shared:]):
        results[b][o][cuts[b] - 1] = v

    # the options' suffixes, continuing their item's cache
    item_of = [b for b, g in enumerate(groups) for _ in g]
    suffixes = [s[cuts[b] :] for b, g in enumerate(groups) for s in g]
    if all(len(x) == 1 for x in suffixes):
        return results  # every option is one token: its log-probability came from the prefix
    index = torch.tensor(item_of, device=device)
    cache.reorder_cache(index)  # one copy of the item's prefix cache per option
    suffix_ids, suffix_mask = _pad(suffixes, device)
    offsets = torch.tensor([cuts[b] for b in item_of], device=device)
    positions = offsets[:, None] + torch.arange(suffix_ids.shape[1], device=device)[None, :]
    mask = torch.cat([prefix_mask[index], suffix_mask], dim=1)
    hidden = model.model(
        input_ids=suffix_ids, attention_mask=mask, position_ids=positions,
        use_cache=True, **{_cache_kwarg(model): cache},
    ).last_hidden_state  # fmt: skip
    rows, cols, targets = [], [], []
    for r, x in enumerate(suffixes):
        for i in range(len(x) - 1):
            rows.append(r), cols.append(i), targets.append(x[i + 1])
    if rows:
        lp = _project(model, hidden[rows, cols], torch.tensor(targets, device=device))
        lp = lp.cpu().numpy()
        flat = [arr for g in results for arr in g]
        starts = [cuts[b] for b in item_of]
        for (r, i), v in zip(zip(rows, cols), lp):
            flat[r][starts[r] + i] = v
    return results


def shared_prefix_logprobs(
    model: Any,
    groups: Sequence[Sequence[Seq]],
    needs: Sequence[int],
    *,
    batch_size: int = 16,
    desc: str = "scoring",
) -> list[list[np.ndarray]]:
    """``lp[j] = log p(seq[j+1] | seq[:j+1])`` for ``j >= need`` of every sequence of every
    group (an item's options), NaN before ``need``; ``batch_size`` groups per forward pair."""
    max_len = getattr(model.config, "max_position_embeddings", None)
    longest = max((len(s) for g in groups for s in g), default=0)
    if max_len and longest > max_len:
        raise DataError(f"a probe sentence has {longest} tokens, over the model's {max_len}")
    for g in groups:
        if min(len(s) for s in g) < 2:
            raise DataError("a probe sequence has fewer than 2 tokens: nothing to score")
    # long groups first, so a batch pads little
    order = sorted(range(len(groups)), key=lambda i: -max(len(s) for s in groups[i]))
    out: list[list[np.ndarray]] = [[] for _ in groups]
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False):
        chosen = order[start : start + batch_size]
        for i, res in zip(chosen, _batch(model, [groups[i] for i in chosen],
                                         [needs[i] for i in chosen])):  # fmt: skip
            out[i] = res
    return out
