"""The pretraining config (``PretrainConfig``): one schema for pretraining and CPT.

Continued pretraining is this same stage with ``init_from`` set to an HF export (weights only;
fresh optimizer and schedule), which is not the same as ``resume`` (continue an interrupted run
exactly, from the DeepSpeed state in ``<out_dir>/ds``).

Micro-batch guidance for the ``qwen2.5-0.5b`` preset on one 80 GB GPU (bf16, ZeRO-1, SDPA,
chunked loss): ``micro_batch_size: 16`` at ``seq_len: 2048`` fits with room to spare; 32 fits
with ``model.gradient_checkpointing: true``. Without the chunked loss the full logits of a
32x2048 micro-batch alone take ~20 GB in bf16 (plus their fp32 softmax).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional

from bridgelab.config import Config, param
from bridgelab.errors import ConfigError


@dataclass
class DataConfig(Config):
    path: str = param("", help="token shard folder written by `bridgelab prepare` (manifest.json)")
    seq_len: int = param(128, help="tokens per training sequence (windows hold seq_len + 1)")
    max_epochs: int = param(
        1,
        help="how many passes over the windows the requested steps may take; more steps than "
        "max_epochs x windows / global_batch_size is an error (too little data)",
    )


@dataclass
class ModelConfig(Config):
    preset: str = param("tiny", help="architecture preset: tiny, demo, small, qwen2.5-0.5b")
    hidden_size: Optional[int] = param(None, help="override the preset's hidden size")
    num_layers: Optional[int] = param(None, help="override the preset's number of layers")
    num_heads: Optional[int] = param(None, help="override the preset's attention heads")
    num_kv_heads: Optional[int] = param(None, help="override the preset's key/value heads")
    intermediate_size: Optional[int] = param(None, help="override the preset's MLP width")
    rope_theta: Optional[float] = param(None, help="override the preset's RoPE base")
    vocab_size: Optional[int] = param(
        None, help="model vocabulary; null = tokenizer vocabulary rounded up to vocab_multiple"
    )
    vocab_multiple: int = param(64, help="round the tokenizer vocabulary up to a multiple of this")
    attn_implementation: Literal["auto", "sdpa", "eager", "flash_attention_2"] = param(
        "auto", help="attention kernel; auto = flash_attention_2 when installed on CUDA, else sdpa"
    )
    loss_chunk_size: int = param(
        4096,
        help="tokens per chunk of the cross-entropy over the tied embedding, so full logits "
        "are never materialised; 0 = plain loss over full logits",
    )
    loss: Literal["auto", "fused", "checkpointed"] = param(
        "auto",
        help="fused: LM head + cross-entropy with gradients computed chunk by chunk in the "
        "forward (bridgelab.pretrain.loss; faster, needs the whole head weight on each rank); "
        "checkpointed: chunks recomputed in the backward; auto = fused unless ZeRO-3",
    )
    gradient_checkpointing: bool = param(False, help="recompute activations in the backward pass")
    compile: bool = param(
        False,
        help="torch.compile the model in place (nn.Module.compile, so the state dict and the "
        "exports keep their keys); the first steps then include the compilation",
    )


@dataclass
class TrainConfig(Config):
    steps: int = param(100, help="optimizer steps")
    global_batch_size: int = param(8, help="sequences per optimizer step, over all ranks")
    micro_batch_size: int = param(8, help="sequences per rank per forward/backward")
    lr: float = param(1e-3, help="peak learning rate")
    min_lr: float = param(1e-4, help="learning rate at the end of the cosine decay")
    warmup_steps: int = param(10, help="linear warmup steps from 0 to lr")
    weight_decay: float = param(0.1, help="AdamW weight decay (not applied to norms and biases)")
    embedding_lr_mult: float = param(
        1.0,
        help="learning rate of the token embeddings (input, and output when untied) as a "
        "multiple of lr, in a parameter group of their own: CPT on a new script can let the "
        "new rows move fast while the body stays near the pretrained model",
    )
    beta1: float = param(0.9, help="AdamW beta1")
    beta2: float = param(0.95, help="AdamW beta2")
    eps: float = param(1e-8, help="AdamW epsilon")
    grad_clip: float = param(1.0, help="clip the global gradient norm to this; 0 = off")
    fused_optimizer: bool = param(
        False,
        help="torch's fused AdamW kernel (same update, ~1.07x per demo step on CPU); off by "
        "default because a run resumed under DeepSpeed then drifts from the uninterrupted one "
        "by ~1e-7 (docs/pretrain.md)",
    )
    dtype: Literal["fp32", "bf16"] = param("fp32", help="training precision (bf16 needs a GPU)")


@dataclass
class DeepSpeedConfig(Config):
    zero_stage: int = param(0, help="ZeRO stage 0-3")
    extra: dict[str, Any] = param(
        {}, help="keys merged last into the generated DeepSpeed JSON (expert use)"
    )


@dataclass
class CheckpointConfig(Config):
    save_every: int = param(100, help="write the DeepSpeed resume state every N steps; 0 = never")
    keep_last: int = param(2, help="keep this many resume states (older ones are deleted)")
    hf_steps: list[int] = param([], help="steps at which to export an HF checkpoint")
    hf_final: bool = param(True, help="also export an HF checkpoint at the last step")
    save_final: bool = param(
        True,
        help="write a resume state at the last step; false for runs nobody continues (a "
        "throughput measurement, a short CPT run), whose final state is a large write",
    )


@dataclass
class LogConfig(Config):
    every: int = param(1, help="log metrics every N steps")
    tensorboard: bool = param(True, help="also write TensorBoard events to <out_dir>/tb")
    wandb_project: Optional[str] = param(None, help="Weights & Biases project; null = off")
    progress: bool = param(True, help="show a progress bar with ETA on rank 0")


@dataclass
class EstimateConfig(Config):
    """Assumptions behind the GPU-hours estimate that --dry-run prints."""

    peak_tflops: float = param(989.0, help="peak bf16 dense TFLOP/s per GPU (H100 SXM: 989)")
    mfu: float = param(0.45, help="assumed model FLOPs utilisation")


@dataclass
class PretrainConfig(Config):
    out_dir: str = param("runs/pretrain", help="run folder (config, metrics, checkpoints)")
    seed: int = param(0, help="seeds initialisation, data order and dropout")
    tokenizer: str = param("", help="tokenizer folder (HF files + bridgelab_tokenizer.json)")
    init_from: Optional[str] = param(
        None, help="HF checkpoint folder to start from (CPT: weights only, fresh optimizer)"
    )
    resume: str = param(
        "auto", help="auto = latest complete resume state in out_dir, never, or a ds/ tag path"
    )
    device: Literal["auto", "cpu", "cuda"] = param("auto", help="auto = cuda when available")
    threads: int = param(
        0,
        help="torch threads on CPU; 0 = auto: OMP_NUM_THREADS when set, else the cores this "
        "process may use minus the 1-minute load average (at least 1)",
    )
    data: DataConfig = param(DataConfig(), help="training data")
    model: ModelConfig = param(ModelConfig(), help="architecture")
    train: TrainConfig = param(TrainConfig(), help="optimisation")
    deepspeed: DeepSpeedConfig = param(DeepSpeedConfig(), help="DeepSpeed engine")
    checkpoint: CheckpointConfig = param(CheckpointConfig(), help="checkpoints and exports")
    log: LogConfig = param(LogConfig(), help="metrics and progress")
    estimate: EstimateConfig = param(EstimateConfig(), help="GPU-hours estimate (dry run)")

    def validate(self) -> None:
        super().validate()
        t = self.train
        positive = {
            "train.steps": t.steps,
            "train.global_batch_size": t.global_batch_size,
            "train.micro_batch_size": t.micro_batch_size,
            "data.seq_len": self.data.seq_len,
            "data.max_epochs": self.data.max_epochs,
            "log.every": self.log.every,
        }
        for key, value in positive.items():
            if value <= 0:
                raise ConfigError(f"{key}: must be positive, got {value}")
        if t.global_batch_size % t.micro_batch_size:
            raise ConfigError(
                f"train.global_batch_size: {t.global_batch_size} is not a multiple of "
                f"train.micro_batch_size {t.micro_batch_size}"
            )
        if t.embedding_lr_mult <= 0:
            raise ConfigError(
                f"train.embedding_lr_mult: must be positive, got {t.embedding_lr_mult}"
            )
        if not 0 <= t.min_lr <= t.lr:
            raise ConfigError(f"train.min_lr: must lie in [0, train.lr], got {t.min_lr}")
        if not 0 <= t.warmup_steps <= t.steps:
            raise ConfigError(
                f"train.warmup_steps: must lie in [0, train.steps], got {t.warmup_steps}"
            )
        if self.deepspeed.zero_stage not in (0, 1, 2, 3):
            raise ConfigError(f"deepspeed.zero_stage: must be 0-3, got {self.deepspeed.zero_stage}")
        if self.checkpoint.keep_last < 1:
            raise ConfigError("checkpoint.keep_last: must be at least 1")
        if self.checkpoint.save_every < 0:
            raise ConfigError("checkpoint.save_every: must be >= 0")
        bad = [s for s in self.checkpoint.hf_steps if not 1 <= s <= t.steps]
        if bad:
            raise ConfigError(f"checkpoint.hf_steps: {bad} outside [1, train.steps={t.steps}]")
        if self.model.loss_chunk_size < 0:
            raise ConfigError("model.loss_chunk_size: must be >= 0")
        if self.model.loss == "fused" and self.deepspeed.zero_stage == 3:
            raise ConfigError(
                "model.loss: fused needs the whole LM head on each rank; use checkpointed (or "
                "auto) with deepspeed.zero_stage 3"
            )
        if self.threads < 0:
            raise ConfigError(f"threads: must be >= 0, got {self.threads}")
        if not self.resume:
            raise ConfigError("resume: must be auto, never or a path")

    def fused_loss(self) -> bool:
        """Whether the trainer uses the fused head + loss (``model.loss``, resolved)."""
        if self.model.loss == "auto":
            return self.deepspeed.zero_stage < 3 and self.model.loss_chunk_size > 0
        return self.model.loss == "fused"

    def grad_accum_steps(self, world_size: int) -> int:
        """Micro-batches per rank per step: global / (micro x world size), exactly."""
        per_step = self.train.micro_batch_size * world_size
        if self.train.global_batch_size % per_step:
            raise ConfigError(
                f"train.global_batch_size: {self.train.global_batch_size} is not divisible by "
                f"micro_batch_size x world_size = {self.train.micro_batch_size} x {world_size}"
            )
        return self.train.global_batch_size // per_step


__all__ = [
    "PretrainConfig",
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "DeepSpeedConfig",
    "CheckpointConfig",
    "LogConfig",
    "EstimateConfig",
]
