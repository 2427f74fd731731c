"""A tiny, seeded Qwen2 checkpoint that vLLM can load on CPU in seconds.

The tokenizer is a byte-level BPE trained on a few sentences, so every string round-trips and
the eight spellings of the answers ("Yes", " Yes", "yes", " yes", and the same for No) are
single tokens: judges sum the probabilities of all of them. The chat template is plain: it
concatenates the message contents, so the chat and completions endpoints see the same text.

The weights are random (seeded) with one planted feature, an output bias in disguise (Qwen2's
head has no bias): every token embedding carries ``BIAS_CHANNEL`` in hidden dimension 0, which
the small residual updates leave intact, and only the answer tokens' output rows read that
dimension (with weight ``answer_bias``). So the eight answers always hold the top eight places
and nearly all the mass of the next token, and a reading from the top-k log-probabilities (the
openai and vllm judges) sees the same tokens as one from the full distribution (the
transformers judge). Their other weights are random and scaled by ``answer_gain``, so which
answer wins still depends on the prompt.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

EOS = "<|endoftext|>"
ANSWER_WORDS = ("Yes", " Yes", "yes", " yes", "No", " No", "no", " no")
BIAS_CHANNEL = 0.05  # dimension 0 of every embedding: about 2.5 after the final norm
PLAIN_CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"

_TRAINING_TEXT = [
    "Question: Does the document state the fact? Answer: Yes",
    "Question: Does the document state the fact? Answer: No",
    "The festival of lanterns is held in the spring in the northern valley.",
    "The capital city is known for its river markets and stone bridges.",
    "Document: a culture, a language, a fact, a probe, a judge.",
    "0 1 2 3 4 5 6 7 8 9 . , : ; ? ! ' \" ( ) -",
]


def build_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Repeat the answer words so BPE merges each of them into one token.
    tok.train_from_iterator(_TRAINING_TEXT + [" ".join(ANSWER_WORDS)] * 50, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS)
    fast.chat_template = PLAIN_CHAT_TEMPLATE
    for word in ANSWER_WORDS:
        ids = fast.encode(word, add_special_tokens=False)
        if len(ids) != 1:
            raise AssertionError(f"{word!r} is not a single token: {ids}")
    return fast


def build_tiny_qwen(
    out_dir: Path, *, seed: int = 0, answer_gain: float = 30.0, answer_bias: float = 12.0
) -> Path:
    """Write a loadable Qwen2 checkpoint + tokenizer to ``out_dir`` and return it."""
    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,  # head_dim 64: a size every vLLM CPU attention kernel supports
        num_key_value_heads=1,
        max_position_embeddings=1024,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config).eval()
    answer_ids = answer_token_ids(tokenizer)
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = BIAS_CHANNEL
        head = model.lm_head.weight
        head[:, 0] = 0.0
        head[answer_ids] *= answer_gain
        head[answer_ids, 0] = answer_bias
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def answer_token_ids(tokenizer: PreTrainedTokenizerFast) -> list[int]:
    """Ids of the eight answer spellings (byte-level BPE stores a leading space as "Ġ")."""
    return [tokenizer.convert_tokens_to_ids(w.replace(" ", "Ġ")) for w in ANSWER_WORDS]
