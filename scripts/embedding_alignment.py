"""Are a CPT checkpoint's native-word embeddings near their English translations?

A diagnostic for the synthetic world (docs/demo_tuning.md): transfer through the model's weights
needs the target language's words and names to land near their English counterparts. For every
lexicon word (and every fact subject's transliterated name) of one language, the word's mean
input-embedding over its mid-sentence tokens is compared, after centring each language's cloud,
with every English word's by cosine; `top1` is how often the translation is the nearest English
word (chance: 1/n). Run it on a bridge run and its no-bridge twin:

    python scripts/embedding_alignment.py runs/demo/world \
        runs/demo/cpt/runs/ko-bridge-s0/hf/step_000200 runs/demo/tokenizer ko
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def word_vectors(embedding: torch.Tensor, tokenizer, words: list[str]) -> torch.Tensor:
    """Mean embedding of each word's tokens as it appears after another word and a space."""
    head = tokenizer.encode("a")
    rows = []
    for word in words:
        ids = tokenizer.encode("a " + word)
        rows.append(embedding[ids[len(head) :] if ids[: len(head)] == head else ids].mean(0))
    vectors = torch.stack(rows)
    return torch.nn.functional.normalize(vectors - vectors.mean(0), dim=-1)


def alignment(embedding, tokenizer, pairs: list[tuple[str, str]]) -> dict[str, float]:
    english = word_vectors(embedding, tokenizer, [a for a, _ in pairs])
    native = word_vectors(embedding, tokenizer, [b for _, b in pairs])
    sim = native @ english.T
    n = len(pairs)
    return {
        "n": n,
        "top1": (sim.argmax(1) == torch.arange(n)).float().mean().item(),
        "chance": 1 / n,
        "cos_translation": sim.diag().mean().item(),
        "cos_other": ((sim.sum() - sim.diag().sum()) / (n * n - n)).item(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("world", type=Path, help="synthetic world folder (world.json)")
    parser.add_argument("checkpoint", type=Path, help="HF checkpoint folder")
    parser.add_argument("tokenizer", type=Path, help="tokenizer folder")
    parser.add_argument("lang", help="target language (ko, zh, bo, mn)")
    args = parser.parse_args()
    world = json.loads((args.world / "world.json").read_text(encoding="utf-8"))
    if args.lang not in world["lexicons"]:
        parser.error(f"{args.world}/world.json has no language {args.lang!r}")
    model = AutoModelForCausalLM.from_pretrained(str(args.checkpoint))
    tokenizer = AutoTokenizer.from_pretrained(str(args.tokenizer))
    embedding = model.get_input_embeddings().weight.detach()
    words = sorted(world["lexicons"][args.lang].items())
    names = sorted(
        (f["subject"], f["subject_names"][args.lang])
        for f in world["facts"]
        if f["culture"].startswith(f"{args.lang}-")
    )
    for label, pairs in (("words", words), ("names", names)):
        print(json.dumps({"what": label, **alignment(embedding, tokenizer, pairs)}))


if __name__ == "__main__":
    main()
