"""The one compute estimate of a pretraining or CPT run: parameters, tokens, FLOPs, GPU-hours and
disk, from its config alone (the tokenizer's vocabulary where it is built already).

`bridgelab pretrain --dry-run` prints it for one run, `bridgelab grid --dry-run` for one run of
the grid, and `bridgelab study --dry-run` adds up the runs of a study (bridgelab.study.estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridgelab.contracts.tokenizer import tokenizer_vocab
from bridgelab.pretrain.config import PretrainConfig

# Before the tokenizer exists: Qwen2.5's vocabulary for the paper preset, a small BPE's otherwise
PAPER_VOCAB, SMALL_VOCAB = 151_665, 8000


@dataclass(frozen=True)
class Estimate:
    vocab: int  # the model's (padded) vocabulary
    vocab_note: str  # where the tokenizer's size came from
    parameters: int
    non_embedding: int
    flops_per_token: float
    tokens: int
    gpu_hours: float  # at the config's estimate.mfu of estimate.peak_tflops
    disk_bytes: float

    @property
    def flops(self) -> float:
        return self.flops_per_token * self.tokens


def estimate(cfg: PretrainConfig) -> Estimate:
    """Disk counts the token shards (uint32 beyond 65,536 tokens; at least one pass over the
    tokens the run trains on), HF exports (fp32 safetensors) and DeepSpeed resume states (~16
    bytes per parameter: weights, fp32 master copy, two Adam moments) kept at once."""
    from bridgelab.pretrain.model import (
        flops_per_token,
        model_vocab_size,
        parameter_counts,
        qwen2_config,
    )

    tok_vocab = tokenizer_vocab(cfg.tokenizer)
    note = str(cfg.tokenizer)
    if tok_vocab is None:
        tok_vocab = PAPER_VOCAB if cfg.model.preset == "qwen2.5-0.5b" else SMALL_VOCAB
        note = f"tokenizer not built yet; assuming {tok_vocab:,} tokens"
    mconfig = qwen2_config(cfg.model, model_vocab_size(tok_vocab, cfg.model))
    counts = parameter_counts(mconfig)
    fpt = flops_per_token(mconfig, cfg.data.seq_len)
    t, est = cfg.train, cfg.estimate
    tokens = t.steps * t.global_batch_size * cfg.data.seq_len
    hours = fpt * tokens / (est.peak_tflops * 1e12 * est.mfu) / 3600
    token_bytes = 2 if mconfig.vocab_size <= 65_536 else 4
    exports = len(cfg.checkpoint.hf_steps) + int(cfg.checkpoint.hf_final)
    disk = tokens / cfg.data.max_epochs * token_bytes + counts["total"] * (
        4 * exports + 16 * cfg.checkpoint.keep_last
    )
    return Estimate(mconfig.vocab_size, note, counts["total"], counts["non_embedding"], fpt,
                    tokens, hours, disk)  # fmt: skip
