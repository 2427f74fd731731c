"""Model presets (transformers Qwen2), parameter/FLOP counts and the chunked language-model loss.

The model itself is ``transformers.Qwen2ForCausalLM``; this module only chooses its shape and
wraps it with a loss that never holds the full ``tokens x vocab`` logits: at the paper's scale
(151,936-entry vocabulary) a 32x2048 micro-batch would need ~20 GB of bf16 logits alone.
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import Qwen2Config, Qwen2ForCausalLM

from bridgelab.errors import ConfigError
from bridgelab.pretrain.config import ModelConfig

# hidden, layers, heads, kv heads, intermediate, rope theta, max positions
PRESETS: dict[str, dict[str, Any]] = {
    # ~100K parameters with a ~500-token vocabulary: CPU tests
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=128, rope_theta=10000.0,
                 max_position_embeddings=4096),
    # ~1-3M parameters: `make demo` on two CPU cores
    "demo": dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=384, rope_theta=10000.0,
                 max_position_embeddings=4096),
    # ~20M non-embedding parameters: a GPU smoke test of the full pipeline
    "small": dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8,
                  num_key_value_heads=2, intermediate_size=1536, rope_theta=1e6,
                  max_position_embeddings=32768),
    # the paper's model: Qwen2.5-0.5B's exact architecture
    "qwen2.5-0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2, intermediate_size=4864, rope_theta=1e6,
                         max_position_embeddings=32768),
}  # fmt: skip

_OVERRIDES = {
    "hidden_size": "hidden_size",
    "num_layers": "num_hidden_layers",
    "num_heads": "num_attention_heads",
    "num_kv_heads": "num_key_value_heads",
    "intermediate_size": "intermediate_size",
    "rope_theta": "rope_theta",
}


def model_vocab_size(tokenizer_vocab: int, cfg: ModelConfig) -> int:
    """The embedding rows: the configured size, or the tokenizer's rounded up to a multiple."""
    if cfg.vocab_size is not None:
        if cfg.vocab_size < tokenizer_vocab:
            raise ConfigError(
                f"model.vocab_size: {cfg.vocab_size} is smaller than the tokenizer's "
                f"vocabulary ({tokenizer_vocab})"
            )
        return cfg.vocab_size
    m = cfg.vocab_multiple
    return int(math.ceil(tokenizer_vocab / m) * m)


def resolve_attention(name: str, dtype: str = "fp32") -> str:
    """``auto``: FlashAttention-2 where it can run (CUDA, installed, bf16), else SDPA."""
    if name != "auto":
        return name
    flash = importlib.util.find_spec("flash_attn") is not None
    if flash and dtype == "bf16" and torch.cuda.is_available():
        return "flash_attention_2"
    return "sdpa"


def qwen2_config(
    cfg: ModelConfig | str, vocab_size: int, *, eos_id: int | None = None
) -> Qwen2Config:
    """The transformers config of a preset (plus overrides) with ``vocab_size`` embedding rows."""
    mcfg = ModelConfig(preset=cfg) if isinstance(cfg, str) else cfg
    if mcfg.preset not in PRESETS:
        raise ConfigError(
            f"model.preset: unknown preset {mcfg.preset!r} (known: {', '.join(PRESETS)})"
        )
    shape = dict(PRESETS[mcfg.preset])
    for ours, theirs in _OVERRIDES.items():
        value = getattr(mcfg, ours)
        if value is not None:
            shape[theirs] = value
    if shape["hidden_size"] % shape["num_attention_heads"]:
        raise ConfigError("model.hidden_size: must be a multiple of model.num_heads")
    if shape["num_attention_heads"] % shape["num_key_value_heads"]:
        raise ConfigError("model.num_heads: must be a multiple of model.num_kv_heads")
    return Qwen2Config(
        vocab_size=vocab_size,
        tie_word_embeddings=True,
        hidden_act="silu",
        rms_norm_eps=1e-6,
        initializer_range=0.02,
        use_sliding_window=False,
        attention_dropout=0.0,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        **shape,
    )


def build_model(
    cfg_or_preset: ModelConfig | str,
    vocab_size: int,
    *,
    eos_id: int | None = None,
    dtype: str = "fp32",
) -> Qwen2ForCausalLM:
    """A freshly initialised Qwen2ForCausalLM (seed torch before calling for reproducibility).

    Qwen2's attention projections carry a bias on q, k and v (and none on o), as in Qwen2.5.
    """
    mcfg = ModelConfig(preset=cfg_or_preset) if isinstance(cfg_or_preset, str) else cfg_or_preset
    config = qwen2_config(mcfg, vocab_size, eos_id=eos_id)
    config._attn_implementation = resolve_attention(mcfg.attn_implementation, dtype)
    model = Qwen2ForCausalLM(config)
    if mcfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    return model


def parameter_counts(config: Qwen2Config) -> dict[str, int]:
    """Total, embedding and non-embedding parameters (tied embeddings counted once)."""
    h, i, n_layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    head_dim = h // config.num_attention_heads
    kv = config.num_key_value_heads * head_dim
    attn = h * h + h + 2 * (h * kv + kv) + h * h  # q (+bias), k, v (+bias), o (no bias)
    mlp = 3 * h * i
    per_layer = attn + mlp + 2 * h  # two RMSNorm weights
    embedding = config.vocab_size * h
    non_embedding = n_layers * per_layer + h  # final norm
    head = 0 if config.tie_word_embeddings else embedding
    return {
        "total": embedding + non_embedding + head,
        "embedding": embedding,
        "non_embedding": non_embedding,
    }


def flops_per_token(config: Qwen2Config, seq_len: int) -> float:
    """Training FLOPs per token: 6 x matmul parameters (LM head included) + attention scores.

    The PaLM appendix-B estimate: 6N for the forward and backward matmuls, plus 12 * layers *
    hidden * seq_len for QK^T and AV. The embedding lookup costs nothing; the tied LM head does.
    """
    counts = parameter_counts(config)
    matmul_params = counts["non_embedding"] + config.vocab_size * config.hidden_size
    attention = 12 * config.num_hidden_layers * config.hidden_size * seq_len
    return float(6 * matmul_params + attention)


def _chunk_loss(hidden: torch.Tensor, head: nn.Module, targets: torch.Tensor) -> torch.Tensor:
    logits = head(hidden).float()
    return F.cross_entropy(logits, targets, reduction="sum", ignore_index=-100)


def chunked_cross_entropy(
    hidden: torch.Tensor, head: nn.Module, targets: torch.Tensor, chunk_size: int
) -> torch.Tensor:
    """Mean next-token cross-entropy, computing ``chunk_size`` tokens' logits at a time.

    Each chunk runs under activation checkpointing, so its logits are freed after the forward
    and recomputed in the backward: peak memory holds one chunk's logits, not all of them.
    """
    flat_hidden = hidden.reshape(-1, hidden.shape[-1])
    flat_targets = targets.reshape(-1)
    count = (flat_targets != -100).sum().clamp(min=1)
    if flat_targets.numel() <= chunk_size:
        # one chunk: its logits coexist with every activation either way, so checkpointing
        # would add a recompute without lowering the peak
        return _chunk_loss(flat_hidden, head, flat_targets) / count
    total = flat_hidden.new_zeros((), dtype=torch.float32)
    for start in range(0, flat_targets.numel(), chunk_size):
        stop = start + chunk_size
        total = total + checkpoint(
            _chunk_loss,
            flat_hidden[start:stop],
            head,
            flat_targets[start:stop],
            use_reentrant=False,
        )
    return total / count


class CausalLMLoss(nn.Module):
    """Wraps a Qwen2ForCausalLM so that ``forward(inputs, targets)`` returns the mean loss.

    This is the module DeepSpeed drives; ``.lm`` is the plain transformers model that is
    exported with ``save_pretrained``.
    """

    def __init__(
        self, lm: Qwen2ForCausalLM, loss_chunk_size: int, fused: bool = False,
        compiled_loss: bool = False,
    ):  # fmt: skip
        super().__init__()
        self.lm = lm
        self.loss_chunk_size = loss_chunk_size
        self.fused = fused and loss_chunk_size > 0
        self.compiled_loss = compiled_loss

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.loss_chunk_size <= 0:
            logits = self.lm(input_ids=inputs, use_cache=False).logits
            return F.cross_entropy(
                logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100
            )
        hidden = self.lm.model(input_ids=inputs, use_cache=False).last_hidden_state
        if self.fused:
            from bridgelab.pretrain.loss import fused_linear_cross_entropy

            return fused_linear_cross_entropy(
                hidden,
                self.lm.lm_head.weight,
                targets,
                self.loss_chunk_size,
                compiled=self.compiled_loss,
            )
        return chunked_cross_entropy(hidden, self.lm.lm_head, targets, self.loss_chunk_size)
