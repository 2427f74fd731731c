"""Tiny seeded tokenizers and Qwen2 checkpoints for tests and benchmarks (no hub, no weights).

Real causal-LM weights cannot be downloaded here, so tests build what they score: a byte-level
BPE trained on the test's own texts, and a randomly initialised transformers ``Qwen2ForCausalLM``
saved HF-style, loadable by the same code that loads real checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def train_byte_bpe(
    texts: Iterable[str], vocab_size: int, *, eos: str = "<|endoftext|>", pad: str | None = None
) -> Any:
    """A byte-level BPE (``PreTrainedTokenizerFast``) with ``eos`` as its only special token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[eos],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer)
    extra = {"pad_token": pad} if pad else {}
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, **extra)


def save_tiny_qwen2(
    folder: str | Path,
    tokenizer: Any,
    *,
    seed: int = 0,
    hidden_size: int = 32,
    intermediate_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    max_positions: int = 128,
) -> Path:
    """Save a seeded, randomly initialised Qwen2 (tied embeddings) and ``tokenizer`` to ``folder``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Path(folder)
