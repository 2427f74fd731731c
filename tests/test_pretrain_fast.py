"""Issue 16's trainer speed-ups keep the math: the fused head + loss, the compiled body, threads."""

from __future__ import annotations

import pytest
import torch

from bridgelab.errors import ConfigError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.loss import fused_linear_cross_entropy
from bridgelab.pretrain.model import CausalLMLoss, build_model
from bridgelab.utils import threads


@pytest.mark.parametrize("chunk", [7, 64, 4096])  # 7 does not divide 51; 4096: one chunk
def test_fused_loss_equals_plain_loss_and_gradient(chunk):
    torch.manual_seed(0)
    model = build_model("tiny", 320).double()
    inputs = torch.randint(0, 320, (3, 17))
    targets = torch.randint(0, 320, (3, 17))
    targets[0, :5] = -100  # ignored positions count in neither loss
    plain, fused = CausalLMLoss(model, 0), CausalLMLoss(model, chunk, fused=True)
    loss_plain = plain(inputs, targets)
    grads_plain = torch.autograd.grad(loss_plain, list(model.parameters()))
    loss_fused = fused(inputs, targets)
    grads_fused = torch.autograd.grad(loss_fused, list(model.parameters()))
    # every path takes the logits to float32 (as the plain loss does): agreement is to float32
    # rounding of the softmax, not to float64's
    assert loss_fused.item() == pytest.approx(loss_plain.item(), rel=1e-7)
    for a, b in zip(grads_plain, grads_fused):  # the tied embedding's two gradients included
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_fused_loss_scales_with_the_upstream_gradient_and_skips_grads_in_eval():
    torch.manual_seed(1)
    hidden = torch.randn(10, 8, requires_grad=True)
    weight = torch.randn(50, 8, requires_grad=True)
    targets = torch.randint(0, 50, (10,))
    (3.0 * fused_linear_cross_entropy(hidden, weight, targets, 4)).backward()
    g_fused = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    (3.0 * torch.nn.functional.cross_entropy(hidden @ weight.t(), targets)).backward()
    torch.testing.assert_close(g_fused[0], hidden.grad)
    torch.testing.assert_close(g_fused[1], weight.grad)
    with torch.no_grad():  # evaluation: the same loss, no autograd function, no stored grads
        loss = fused_linear_cross_entropy(hidden, weight, targets, 4)
    assert loss.grad_fn is None
    assert loss.item() == pytest.approx(
        torch.nn.functional.cross_entropy(hidden @ weight.t(), targets).item(), rel=1e-6
    )


def test_fused_loss_in_bf16_accumulates_the_weight_gradient_in_fp32():
    torch.manual_seed(2)
    hidden = torch.randn(64, 16).bfloat16().requires_grad_()
    weight = torch.randn(40, 16).bfloat16().requires_grad_()
    targets = torch.randint(0, 40, (64,))
    fused_linear_cross_entropy(hidden, weight, targets, 8).backward()
    assert weight.grad.dtype == torch.bfloat16 and hidden.grad.dtype == torch.bfloat16
    ref_w = weight.detach().float().requires_grad_()
    torch.nn.functional.cross_entropy(hidden.detach().float() @ ref_w.t(), targets).backward()
    torch.testing.assert_close(weight.grad.float(), ref_w.grad, rtol=0.05, atol=2e-3)


def test_loss_choice_follows_zero_stage():
    assert PretrainConfig.load(None, []).fused_loss()
    assert not PretrainConfig.load(None, ["deepspeed.zero_stage=3"]).fused_loss()
    assert not PretrainConfig.load(None, ["model.loss=checkpointed"]).fused_loss()
    assert not PretrainConfig.load(None, ["model.loss_chunk_size=0"]).fused_loss()
    with pytest.raises(ConfigError, match="model.loss: fused needs"):
        PretrainConfig.load(None, ["model.loss=fused", "deepspeed.zero_stage=3"])
    with pytest.raises(ConfigError, match="threads"):
        PretrainConfig.load(None, ["threads=-1"])


def test_thread_count_from_config_env_or_free_cores(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.choose_threads(3) == (3, "configured")
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 0.0, 0.0))
    assert threads.choose_threads(0) == (3, "free cores")  # 4 cores, ~1 busy
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert threads.choose_threads(0) == (1, "free cores")  # never below one
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert threads.choose_threads(0) == (4, "free cores")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.choose_threads(0) == (2, "OMP_NUM_THREADS")


@pytest.mark.slow
def test_compiled_elementwise_part_equals_the_eager_one():
    from bridgelab.pretrain import loss as L

    torch.manual_seed(3)
    logits = torch.randn(12, 30)
    targets = torch.randint(0, 30, (12,))
    targets[2] = -100
    eager = L._loss_and_dlogits_inplace(logits.clone(), targets, torch.float32)
    functional = L._loss_and_dlogits(logits, targets, torch.float32)  # what torch.compile traces
    torch.testing.assert_close(eager[0], functional[0])
    torch.testing.assert_close(eager[1], functional[1])
    assert eager[1][2].abs().sum() == 0  # an ignored target contributes no gradient
    compiled = L._elementwise(True)(logits, targets, torch.float32)
    torch.testing.assert_close(compiled[1], eager[1], rtol=1e-5, atol=1e-7)
