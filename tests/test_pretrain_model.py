"""Model presets, parameter/FLOP counts, the chunked loss, the schedule and the config schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bridgelab.errors import ConfigError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.engine import deepspeed_config, lr_lambda
from bridgelab.pretrain.model import (
    CausalLMLoss,
    build_model,
    chunked_cross_entropy,
    flops_per_token,
    parameter_counts,
    qwen2_config,
)

REPO = Path(__file__).resolve().parents[1]


def test_paper_preset_is_qwen25_05b():
    config = qwen2_config("qwen2.5-0.5b", 151_936)
    assert (config.hidden_size, config.num_hidden_layers, config.intermediate_size) == (
        896,
        24,
        4864,
    )
    assert (config.num_attention_heads, config.num_key_value_heads) == (14, 2)
    rope = getattr(config, "rope_parameters", None) or {"rope_theta": config.rope_theta}
    assert config.tie_word_embeddings and rope["rope_theta"] == 1e6
    # Qwen2.5-0.5B's published size: 0.49B parameters, 0.36B without embeddings
    counts = parameter_counts(config)
    assert counts["total"] == 494_032_768
    assert counts["non_embedding"] == 357_898_112
    # 6N (LM head included) + attention at 2048 tokens: ~3.49 GFLOPs per token
    assert flops_per_token(config, 2048) == pytest.approx(3.4927e9, rel=1e-4)


@pytest.mark.parametrize("preset", ["tiny", "demo"])
def test_counts_match_the_built_model(preset):
    torch.manual_seed(0)
    model = build_model(preset, 512)
    assert sum(p.numel() for p in model.parameters()) == parameter_counts(model.config)["total"]
    assert model.model.layers[0].self_attn.q_proj.bias is not None  # Qwen2's QKV bias
    assert model.model.layers[0].self_attn.o_proj.bias is None
    assert model.lm_head.weight is model.model.embed_tokens.weight  # tied
    assert model.config._attn_implementation == "sdpa"


def test_tiny_and_demo_sizes():
    assert 80_000 <= parameter_counts(qwen2_config("tiny", 512))["total"] <= 150_000
    assert 1_000_000 <= parameter_counts(qwen2_config("demo", 4096))["total"] <= 3_000_000


def test_overrides_and_bad_shapes():
    cfg = PretrainConfig.load(None, ["model.preset=tiny", "model.num_layers=3"])
    assert qwen2_config(cfg.model, 64).num_hidden_layers == 3
    with pytest.raises(ConfigError, match="model.preset"):
        qwen2_config("gpt5", 64)
    bad = PretrainConfig.load(None, ["model.num_heads=5"])
    with pytest.raises(ConfigError, match="hidden_size"):
        qwen2_config(bad.model, 64)


def test_chunked_loss_equals_plain_loss_and_gradient():
    torch.manual_seed(0)
    model = build_model("tiny", 320).double()
    inputs = torch.randint(0, 320, (3, 17))
    targets = torch.randint(0, 320, (3, 17))
    targets[0, :5] = -100  # ignored positions count in neither loss
    plain, chunked = CausalLMLoss(model, 0), CausalLMLoss(model, 7)  # 7 does not divide 51
    loss_plain = plain(inputs, targets)
    grads_plain = torch.autograd.grad(loss_plain, list(model.parameters()))
    loss_chunked = chunked(inputs, targets)
    grads_chunked = torch.autograd.grad(loss_chunked, list(model.parameters()))
    assert loss_chunked.item() == pytest.approx(loss_plain.item(), rel=1e-12)
    for a, b in zip(grads_plain, grads_chunked):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_chunked_loss_keeps_only_one_chunk_of_logits():
    head = torch.nn.Linear(8, 1000, bias=False)
    hidden = torch.randn(64, 8, requires_grad=True)
    targets = torch.randint(0, 1000, (64,))
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        chunked_cross_entropy(hidden, head, targets, chunk_size=16)
    # nothing saved for backward is as large as even one chunk's logits (16 x 1000)
    assert max(saved) < 16 * 1000


def test_schedule_warmup_then_cosine_to_min_lr():
    cfg = PretrainConfig.load(None, ["train.steps=10", "train.warmup_steps=2", "train.lr=1.0",
                                     "train.min_lr=0.1"])  # fmt: skip
    f = lr_lambda(cfg)
    assert [f(0), f(1)] == [0.5, 1.0]
    assert f(2) == pytest.approx(1.0) and f(10) == pytest.approx(0.1)
    assert all(f(k) >= f(k + 1) for k in range(2, 10))


def test_deepspeed_json_from_config():
    cfg = PretrainConfig.load(None, ["train.global_batch_size=16", "train.micro_batch_size=2",
                                     "deepspeed.zero_stage=2", "train.dtype=bf16"])  # fmt: skip
    ds = deepspeed_config(cfg, world_size=4)
    assert ds["gradient_accumulation_steps"] == 2 and ds["train_batch_size"] == 16
    assert ds["zero_optimization"]["stage"] == 2 and ds["bf16"]["enabled"]
    with pytest.raises(ConfigError, match="not divisible"):
        deepspeed_config(cfg, world_size=3)


@pytest.mark.parametrize(
    "override, key",
    [("train.micro_batch_size=3", "train.global_batch_size"), ("train.min_lr=1.0", "train.min_lr"),
     ("deepspeed.zero_stage=4", "deepspeed.zero_stage"), ("checkpoint.hf_steps=[500]", "hf_steps"),
     ("train.dtype=fp16", "train.dtype"), ("data.seq_len=0", "data.seq_len")],
)  # fmt: skip
def test_bad_config_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        PretrainConfig.load(None, [override])


def test_every_preset_yaml_loads():
    files = sorted((REPO / "configs" / "pretrain").glob("*.yaml"))
    assert files
    for path in files:
        cfg = PretrainConfig.load(path)
        qwen2_config(cfg.model, 64 * 100)


def test_attention_auto_prefers_flash_only_where_it_can_run(monkeypatch):
    from bridgelab.pretrain import model as model_module

    monkeypatch.setattr(model_module.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(model_module.torch.cuda, "is_available", lambda: True)
    assert model_module.resolve_attention("auto", "bf16") == "flash_attention_2"
    assert model_module.resolve_attention("auto", "fp32") == "sdpa"  # FA2 needs half precision
    assert model_module.resolve_attention("eager", "bf16") == "eager"
    monkeypatch.setattr(model_module.torch.cuda, "is_available", lambda: False)
    assert model_module.resolve_attention("auto", "bf16") == "sdpa"


def test_embeddings_get_a_parameter_group_of_their_own():
    from bridgelab.pretrain.config import ModelConfig
    from bridgelab.pretrain.engine import param_groups
    from bridgelab.pretrain.model import CausalLMLoss, build_model

    module = CausalLMLoss(build_model(ModelConfig(preset="tiny"), 300, eos_id=0), 0)
    groups = param_groups(module, 0.1, 1e-3, embedding_lr_mult=10.0)
    embed = module.lm.get_input_embeddings().weight
    (group,) = [g for g in groups if any(p is embed for p in g["params"])]
    assert group["lr"] == pytest.approx(1e-2) and len(group["params"]) == 1  # tied: one matrix
    others = [g for g in groups if g is not group]
    assert all(g["lr"] == 1e-3 for g in others)
    assert sum(len(g["params"]) for g in groups) == len(list(module.parameters()))
    with pytest.raises(ConfigError, match="train.embedding_lr_mult: must be positive"):
        PretrainConfig.from_dict({"train": {"embedding_lr_mult": 0.0}})
