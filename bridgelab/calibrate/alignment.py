"""Do a checkpoint's native-word embeddings sit near their English translations?

A diagnostic for the synthetic world, where the lexicon gives every translation exactly
(docs/demo_tuning.md). Knowledge learnt in one language reaches the other through the weights
only if the two languages share representations. The first place to look is the (tied) token
embeddings. Two questions are asked, and they are kept apart:

- *alignment*: is a native word's vector nearest to its own translation? This is reported as
  top-1 and as the mean rank of the translation among all English words. Top-1 alone is fooled
  by hubs: one English vector nearest to everything scores exactly 1/n.
- *structure*: within each language, are words of one value set (colours, months, numbers...)
  closer to each other than to other words? Two languages can both have this structure and
  still sit in unrelated parts of the space: isomorphic but not aligned.

A word's vector is the mean input embedding of its tokens as they appear mid-sentence. Each
language's cloud is centred before cosines are taken.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from bridgelab.errors import BridgelabError
from bridgelab.synth.vocab import VALUE_SETS


def word_vectors(embedding: torch.Tensor, tokenizer: Any, words: list[str]) -> torch.Tensor:
    """Unit vectors of ``words`` (centred): the mean embedding of each word's tokens as it
    appears after another word and a space."""
    head = tokenizer.encode("a", add_special_tokens=False)
    rows = []
    for word in words:
        ids = tokenizer.encode("a " + word, add_special_tokens=False)
        rows.append(embedding[ids[len(head) :] if ids[: len(head)] == head else ids].mean(0))
    vectors = torch.stack(rows)
    return torch.nn.functional.normalize(vectors - vectors.mean(0), dim=-1)


def alignment(english: torch.Tensor, native: torch.Tensor) -> dict[str, float]:
    """Row i of ``native`` is the translation of row i of ``english`` (unit vectors)."""
    sim = native @ english.T
    n = sim.shape[0]
    own = sim.diag()
    rank = (sim > own[:, None]).sum(1).double() + 1  # 1 = the translation is the nearest
    return {
        "n": n,
        "top1": (rank == 1).double().mean().item(),
        "top1_chance": 1 / n,
        "mean_rank": rank.mean().item(),
        "mean_rank_chance": (n + 1) / 2,
        "cos_translation": own.mean().item(),
        "cos_other": ((sim.sum() - own.sum()) / max(n * n - n, 1)).item(),
    }


def structure(vectors: torch.Tensor, labels: list[str]) -> dict[str, float]:
    """Mean cosine between different words of the same label, and of different labels."""
    sim = vectors @ vectors.T
    index = {x: i for i, x in enumerate(dict.fromkeys(labels))}
    lab = torch.tensor([index[x] for x in labels])
    same = lab[:, None] == lab[None, :]
    off = ~torch.eye(len(labels), dtype=torch.bool)
    return {
        "cos_same_set": sim[same & off].mean().item(),
        "cos_other_set": sim[~same].mean().item(),
    }


def embedding_report(
    world: Path, checkpoint: Path, tokenizer_dir: Path, lang: str
) -> list[dict[str, Any]]:
    """Rows for the lexicon words and the transliterated subject names of ``lang``, plus the
    value-set structure of the value words in English and in ``lang``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    summary_path = Path(world) / "world.json"
    if not summary_path.is_file():
        raise BridgelabError(f"{summary_path}: not found (is {world} a synthetic world?)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    lexicon = summary["lexicons"].get(lang)
    if lexicon is None:
        raise BridgelabError(
            f"{summary_path}: no language {lang!r} (has {sorted(summary['lexicons'])})"
        )
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint))
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    embedding = model.get_input_embeddings().weight.detach().float()

    rows: list[dict[str, Any]] = []
    words = sorted(lexicon.items())
    names = sorted(
        {
            (f["subject"], f["subject_names"][lang])
            for f in summary["facts"]
            if f["culture"].startswith(f"{lang}-")
        }
    )
    for what, pairs in (("words", words), ("names", names)):
        if pairs:
            en = word_vectors(embedding, tokenizer, [a for a, _ in pairs])
            native = word_vectors(embedding, tokenizer, [b for _, b in pairs])
            rows.append({"what": what, **alignment(en, native)})
    valued = [(w, kind) for kind, values in VALUE_SETS.items() for w in values if w in lexicon]
    labels = [kind for _, kind in valued]
    for side, vocab in (("en", [w for w, _ in valued]), (lang, [lexicon[w] for w, _ in valued])):
        vectors = word_vectors(embedding, tokenizer, vocab)
        rows.append(
            {"what": f"value-set structure ({side})", "n": len(vocab), **structure(vectors, labels)}
        )
    return rows


# --- Alignment metrics of the calibration: does a model place a word and its translation alike? ---
# Nearest-neighbour rank on raw embeddings reads "chance" for two spaces that are isomorphic but
# rotated (Schäfer et al. 2024 see cosines near 0.03 where transfer happens), so the metrics
# below also fit a map or look past the embeddings: Procrustes P@1 (an orthogonal map fitted on
# half of the lexicon, tested on the other half), parallel-sentence retrieval from a middle
# layer, and the swap test (does the model read the other language's tokens as English?).


def _unit_centred(x: torch.Tensor) -> torch.Tensor:
    x = torch.nn.functional.normalize(x.double(), dim=-1)
    return torch.nn.functional.normalize(x - x.mean(0), dim=-1)


def procrustes_p1(source: torch.Tensor, target: torch.Tensor, *, seed: int = 0) -> dict[str, Any]:
    """Row i of ``target`` translates row i of ``source``. An orthogonal map W (the SVD
    solution of min ||X W - Y||) is fitted on a seeded half of the rows; P@1 is the share of the
    other half whose mapped vector is nearest (cosine) to its own translation among that half.
    ``p1_raw`` is the same retrieval without the map (W = I)."""
    n = source.shape[0]
    if n < 4 or target.shape[0] != n:
        raise BridgelabError(f"procrustes_p1: need >= 4 paired rows, got {n} and {target.shape[0]}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    fit, test = perm[: n // 2], perm[n // 2 :]
    x, y = _unit_centred(source), _unit_centred(target)
    u, _, vt = torch.linalg.svd(x[fit].T @ y[fit])
    w = u @ vt
    out: dict[str, Any] = {"n_fit": len(fit), "n_test": len(test), "chance": 1 / len(test)}
    for name, mapped in (("p1", x[test] @ w), ("p1_raw", x[test])):
        sim = torch.nn.functional.normalize(mapped, dim=-1) @ y[test].T
        hits = sim.argmax(1) == torch.arange(len(test))
        out[name] = hits.double().mean().item()
        out[f"{name}_hits"] = hits.tolist()  # per test pair, for paired tests between models
    return out


@torch.no_grad()
def mean_pooled(model: Any, seqs: list[list[int]], layer: int) -> torch.Tensor:
    """Mean over tokens of the hidden state after ``layer`` transformer blocks, per sequence."""
    rows = []
    device = next(model.parameters()).device
    for ids in seqs:
        out = model(torch.tensor([ids], device=device), output_hidden_states=True)
        rows.append(out.hidden_states[layer][0].float().mean(0).cpu())
    return torch.stack(rows)


def sentence_retrieval(
    model: Any, tokenizer: Any, english: list[str], other: list[str], *, layer: int | None = None
) -> dict[str, Any]:
    """P@1 of retrieving each sentence's translation among all ``n`` by the cosine of
    mean-pooled middle-layer states (each language's cloud centred), both directions."""
    if len(english) != len(other) or len(english) < 2:
        raise BridgelabError("sentence_retrieval: need >= 2 aligned sentence pairs")
    if layer is None:
        layer = model.config.num_hidden_layers // 2
    enc = [tokenizer.encode(t, add_special_tokens=False) for t in (*english, *other)]
    pooled = mean_pooled(model, enc, layer)
    a, b = _unit_centred(pooled[: len(english)]), _unit_centred(pooled[len(english) :])
    sim = a @ b.T
    gold = torch.arange(len(english))
    hits = (sim.argmax(1) == gold).tolist(), (sim.argmax(0) == gold).tolist()
    return {
        "n": len(english),
        "layer": layer,
        "chance": 1 / len(english),
        "p1_en_to_x": sum(hits[0]) / len(english),
        "p1_x_to_en": sum(hits[1]) / len(english),
        "hits": [*hits[0], *hits[1]],  # per pair en->x, then per pair x->en
    }


@torch.no_grad()
def _next_token_loss(
    model: Any, inputs: torch.Tensor, targets: torch.Tensor, twins: torch.Tensor
) -> float:
    """Mean -log(p(target) + p(twin of target)): the model is asked for the right token in
    either language, so a model that answers a clone context in the clone is not penalised
    for its choice of language, only for the content (``twins[t] == t`` where t has none)."""
    logp = torch.log_softmax(model(inputs).logits.float()[:, :-1], dim=-1)
    tgt = targets[:, 1:]
    own = logp.gather(-1, tgt[..., None])[..., 0]
    twin = logp.gather(-1, twins[tgt][..., None])[..., 0]
    merged = torch.where(twins[tgt] == tgt, own, torch.logaddexp(own, twin))
    return -merged.mean().item()


def swap_test(
    model: Any,
    seqs: list[list[int]],
    id_map: dict[int, int],
    *,
    seed: int = 0,
    share: float = 0.5,
) -> dict[str, float]:
    """Next-token loss on ``seqs`` when a seeded ``share`` of the context's tokens are replaced
    by their twins (a code-mixed context).

    ``loss_en``: the sequences as they are; ``loss_swap``: the chosen positions replaced by
    their twins; ``loss_random``: the same positions replaced by wrong twins (a seeded
    permutation of the map). The targets never change, and each is scored as "this token or
    its twin" (see ``_next_token_loss``). ``score`` = (random - swap) / (random - en): 1 when the
    model reads the twins exactly as the originals, 0 when no better than wrong twins.

    Why a mixed context and not a whole swapped sentence: a model that learnt both languages
    separately predicts a wholly swapped sentence as well as the original (each language's own
    grammar), so it would score 1 without any shared representation; a context mixing the two
    token by token is read well only where the twins mean the same to the model.
    """
    if not id_map:
        raise BridgelabError("swap_test: the token map is empty")
    keys = sorted(id_map)
    rng = torch.Generator().manual_seed(seed)
    shuffled = [id_map[keys[i]] for i in torch.randperm(len(keys), generator=rng).tolist()]
    wrong = dict(zip(keys, shuffled))
    device = next(model.parameters()).device
    vocab = model.get_input_embeddings().weight.shape[0]
    twins = torch.arange(vocab, device=device)
    for a, b in id_map.items():
        twins[a], twins[b] = b, a
    totals = {"loss_en": 0.0, "loss_swap": 0.0, "loss_random": 0.0}
    for ids in seqs:
        target = torch.tensor([ids], device=device)
        swap = (torch.rand(len(ids), generator=rng) < share).tolist()
        for name, table in (("loss_en", {}), ("loss_swap", id_map), ("loss_random", wrong)):
            mixed = [table.get(i, i) if s else i for i, s in zip(ids, swap)]
            inputs = torch.tensor([mixed], device=device)
            totals[name] += _next_token_loss(model, inputs, target, twins) / len(seqs)
    gap = totals["loss_random"] - totals["loss_en"]
    score = (totals["loss_random"] - totals["loss_swap"]) / gap if gap > 1e-9 else float("nan")
    return {**totals, "score": score, "n": len(seqs)}


def heldout_pairs(world: str | Path, lang: str, n: int, *, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` English sentences of the world's neutral filler grammar and their ``lang``
    renderings, drawn with a seed of their own (``lang='en'`` gives each sentence twice).

    The world's corpora are not read: the sentences are rendered afresh from the lexicons that
    ``world.json``'s config determines, so they are new combinations of known words, not
    documents any run trained on (a repeat of a short training sentence is possible, and equally
    likely for every setting).
    """
    import random

    from bridgelab.synth.lexicon import Lexicon
    from bridgelab.synth.vocab import english_words
    from bridgelab.synth.world import filler_sentence

    summary_path = Path(world) / "world.json"
    if not summary_path.is_file():
        raise BridgelabError(f"{summary_path}: not found (is {world} a synthetic world?)")
    config = json.loads(summary_path.read_text(encoding="utf-8"))["config"]
    if lang != "en" and lang not in config["languages"]:
        raise BridgelabError(f"{summary_path}: no language {lang!r}")
    words = english_words()
    en = Lexicon("en", words, config["seed"])
    other = Lexicon(lang, words, config["seed"], clone=lang in config.get("clones", []))
    rng = random.Random(f"{seed}:heldout:{lang}")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _ in range(50 * n):
        template, slots = filler_sentence(rng)
        text = en.render(template, words=slots)
        if text not in seen:  # retrieval needs distinct sentences
            seen.add(text)
            pairs.append((text, other.render(template, words=slots)))
        if len(pairs) == n:
            break
    return pairs
