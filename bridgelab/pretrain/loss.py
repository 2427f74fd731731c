"""Fused linear cross-entropy: the LM head and the loss in one pass over token chunks.

The plain loss materialises ``tokens x vocab`` logits, runs log-softmax over them, then in the
backward reads them again for the softmax gradient and twice more for the head's two matmuls.
Here each chunk of tokens computes its logits, its loss and, at once, the gradient of the loss
with respect to its logits (``softmax - onehot``), turns that into the gradients of the hidden
states and of the head's weight, and drops the logits. The backward only scales the stored
gradients. A chunk's logits stay in cache (512 tokens x 4,032 entries is 8 MB), there is no
recompute (unlike the checkpointed loss of ``model.chunked_cross_entropy``) and no separate
log-softmax backward: on the demo model this removes ~40% of the head-plus-loss time (profile in
benchmarks/results/profile_pretrain_*.md). The math is the same cross-entropy; only the order of
floating-point sums differs (tests compare loss and gradients with the plain loss).

It reads the head's weight directly, so it needs the whole weight on this rank: the trainer
uses it for ZeRO stages 0-2 and the checkpointed loss under ZeRO-3 (``resolve_loss``).
"""

from __future__ import annotations

import torch


def _loss_and_dlogits(
    logits: torch.Tensor, targets: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy of a chunk's logits and its gradient ``softmax - onehot`` (ignored
    targets: zero rows). Pure elementwise work: ``torch.compile`` fuses it into one or two
    loops over the chunk (``compiled=True``)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    valid = targets != -100
    safe = targets.clamp(min=0)
    loss = -(logp.gather(1, safe[:, None]).squeeze(1) * valid).sum()
    onehot = torch.nn.functional.one_hot(safe, logits.shape[-1]).to(logp.dtype)
    return loss, ((logp.exp() - onehot) * valid[:, None]).to(dtype)


def _loss_and_dlogits_inplace(
    logits: torch.Tensor, targets: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same without compilation: the softmax made in place from the log-softmax, the
    one-hot subtracted by indexing (no chunk-sized one-hot tensor)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    valid = targets != -100
    safe = targets.clamp(min=0)
    loss = -(logp.gather(1, safe[:, None]).squeeze(1) * valid).sum()
    probs = logp.exp_()
    probs[torch.arange(len(safe), device=probs.device), safe] -= 1.0
    return loss, probs.mul_(valid[:, None]).to(dtype)


_compiled_loss_and_dlogits = None


def _elementwise(compiled: bool):
    global _compiled_loss_and_dlogits
    if not compiled:
        return _loss_and_dlogits_inplace
    if _compiled_loss_and_dlogits is None:
        _compiled_loss_and_dlogits = torch.compile(_loss_and_dlogits, dynamic=False)
    return _compiled_loss_and_dlogits


def _chunk(
    hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, want_grads: bool,
    compiled: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:  # fmt: skip
    """Summed loss of one chunk and, if wanted, d(loss)/d(logits) in the weight's dtype."""
    logits = hidden @ weight.t()
    if not want_grads:
        logp = torch.log_softmax(logits.float(), dim=-1)
        valid = targets != -100
        picked = logp.gather(1, targets.clamp(min=0)[:, None]).squeeze(1)
        return -(picked * valid).sum(), None
    return _elementwise(compiled)(logits, targets, weight.dtype)


class _FusedLinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk_size, compiled):  # noqa: D102
        loss = torch.zeros((), dtype=torch.float32, device=hidden.device)
        grad_hidden = torch.empty_like(hidden)
        # accumulate the weight's gradient in fp32 even for a bf16 model: it sums over chunks
        grad_weight = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device)
        for start in range(0, hidden.shape[0], chunk_size):
            h = hidden[start : start + chunk_size]
            part, dlogits = _chunk(h, weight, targets[start : start + chunk_size], True, compiled)
            loss += part
            grad_hidden[start : start + chunk_size] = dlogits @ weight
            if weight.dtype == torch.float32:
                grad_weight.addmm_(dlogits.t(), h)
            else:
                grad_weight += (dlogits.t() @ h).float()
        ctx.save_for_backward(grad_hidden, grad_weight)
        ctx.weight_dtype = weight.dtype
        return loss

    @staticmethod
    def backward(ctx, grad_loss):  # noqa: D102
        grad_hidden, grad_weight = ctx.saved_tensors
        return (grad_hidden * grad_loss.to(grad_hidden.dtype),
                (grad_weight * grad_loss).to(ctx.weight_dtype), None, None, None)  # fmt: skip


def fused_linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    chunk_size: int = 512,
    compiled: bool = False,
) -> torch.Tensor:
    """Mean next-token cross-entropy of ``hidden @ weight.T`` against ``targets`` (-100 ignored),
    ``chunk_size`` tokens at a time, with the gradients computed in the forward pass."""
    flat_hidden = hidden.reshape(-1, hidden.shape[-1])
    flat_targets = targets.reshape(-1)
    count = (flat_targets != -100).sum().clamp(min=1)
    if torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        total = _FusedLinearCrossEntropy.apply(
            flat_hidden, weight, flat_targets, chunk_size, compiled
        )
    else:  # evaluation: the loss alone, no gradients to precompute
        total = sum(
            _chunk(flat_hidden[s : s + chunk_size], weight, flat_targets[s : s + chunk_size],
                   False)[0]
            for s in range(0, flat_targets.numel(), chunk_size)
        )  # fmt: skip
    return total / count
