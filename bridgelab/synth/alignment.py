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
