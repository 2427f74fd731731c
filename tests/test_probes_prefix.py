"""The shared-prefix scorer equals the unshared computation, item by item and score by score."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bridgelab.probes.models import load_model, load_tokenizer
from bridgelab.probes.prefix import shared_prefix_logprobs, supports_shared_prefix
from bridgelab.probes.scoring import ScorePolicy, score_items_multi, token_logprobs
from tests.test_probes_scoring import build_checkpoint, make_items

torch.set_num_threads(1)
SCORERS = ["paper", "loglik", "loglik_norm"]


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    ckpt = build_checkpoint(tmp_path_factory.mktemp("prefix_ckpt"), seed=3)
    return load_model(ckpt, device="cpu"), load_tokenizer(ckpt)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_items_and_scores_equal_the_unshared_scorer(lm, lang, batch_size):
    model, tok = lm
    assert supports_shared_prefix(model)
    items = make_items(lang)
    kw = {"batch_size": batch_size, "policy": ScorePolicy(), "permutations": "cyclic"}
    shared, _ = score_items_multi(model, tok, items, SCORERS, shared_prefix=True, **kw)
    plain, _ = score_items_multi(model, tok, items, SCORERS, shared_prefix=False, **kw)
    for scorer in SCORERS:
        assert [r.item_id for r in shared[scorer]] == [r.item_id for r in plain[scorer]]
        for a, b in zip(shared[scorer], plain[scorer]):
            np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=2e-5)
            assert (a.pred, a.correct, a.tie, a.perm_correct) == (
                b.pred, b.correct, b.tie, b.perm_correct)  # fmt: skip


def test_log_probabilities_match_position_by_position(lm):
    model, tok = lm
    # prefixes of different lengths in one batch, options of one and of several tokens, an
    # option that is a prefix of another, and identical options
    eos = tok.eos_token_id
    base = tok.encode("The capital of Aldoria is")
    groups = [
        [(eos, *base, *tok.encode(" Vell.")), (eos, *base, *tok.encode(" Mora, they say."))],
        [(eos, 5, 6), (eos, 5, 7), (eos, 5, 6)],
        [(eos, *tok.encode("People eat")), (eos, *tok.encode("People eat fish"))],
    ]
    needs = [0, 1, 2]
    shared = shared_prefix_logprobs(model, groups, needs, batch_size=3)
    plain = token_logprobs(model, [s for g in groups for s in g], batch_size=1)
    for g, need, arrays in zip(groups, needs, shared):
        for seq, arr in zip(g, arrays):
            assert arr.shape == (len(seq) - 1,)
            assert np.isnan(arr[:need]).all()
            np.testing.assert_allclose(arr[need:], plain[seq][need:], rtol=0, atol=2e-5)


def test_a_model_outside_the_fast_types_is_scored_the_plain_way(lm, monkeypatch):
    model, tok = lm
    monkeypatch.setattr(model.config, "model_type", "gemma2")
    assert not supports_shared_prefix(model)
    items = make_items("en")
    shared, _ = score_items_multi(model, tok, items, ["loglik"], shared_prefix=True)
    plain, _ = score_items_multi(model, tok, items, ["loglik"], shared_prefix=False)
    assert [r.scores for r in shared["loglik"]] == [r.scores for r in plain["loglik"]]


def test_blocked_projection_equals_the_full_vocabulary_projection(lm, monkeypatch):
    """The online log-sum-exp over vocabulary blocks (used at the paper's 151,936 entries) gives
    the plain log-softmax; small blocks force it onto this 320-entry model."""
    from bridgelab.probes import prefix

    model, tok = lm
    items = make_items("ko")
    plain, _ = score_items_multi(model, tok, items, SCORERS, shared_prefix=False)
    monkeypatch.setattr(prefix, "VOCAB_BLOCK", 48)  # 320 = 6 full blocks + a partial one
    monkeypatch.setattr(prefix, "ROW_CHUNK", 5)
    blocked, _ = score_items_multi(model, tok, items, SCORERS, shared_prefix=True)
    for scorer in SCORERS:
        for a, b in zip(blocked[scorer], plain[scorer]):
            np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=2e-5)
            assert (a.pred, a.correct) == (b.pred, b.correct)
