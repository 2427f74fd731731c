"""GPU smoke test (marker `gpu`; skipped without CUDA): a tiny pretraining run in bf16 on the GPU
through the same trainer and DeepSpeed engine as the cluster; its loss falls, and its HF export
loads on the GPU and predicts the training text far better than chance. `make test` on a GPU machine runs it; docs/gpu.md's prepared
check measures the 0.5B preset's throughput."""

from __future__ import annotations

import math

import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
]


def test_bf16_training_on_the_gpu_learns_and_exports(tmp_path):
    from bridgelab.contracts.runs import list_hf_checkpoints
    from bridgelab.contracts.shards import TokenCorpus
    from bridgelab.pretrain.config import PretrainConfig
    from bridgelab.pretrain.metrics import read_metrics
    from bridgelab.pretrain.synthetic import make_inputs
    from bridgelab.pretrain.trainer import run
    from bridgelab.probes.models import load_model

    tok, shards = make_inputs(tmp_path / "inputs", num_docs=1000)
    out = tmp_path / "run"
    run(PretrainConfig.load(None, [
        f"tokenizer={tok}", f"data.path={shards}", f"out_dir={out}", "device=cuda",
        "train.dtype=bf16", "data.seq_len=64", "train.steps=30", "data.max_epochs=4", "train.global_batch_size=16",
        "train.micro_batch_size=16", "train.warmup_steps=3", "train.lr=0.003",
        "checkpoint.save_every=30", "log.progress=false", "log.tensorboard=false",
    ]))  # fmt: skip
    losses = [row["loss"] for row in read_metrics(out)]
    assert len(losses) == 30 and all(loss == loss for loss in losses)  # no NaN
    assert sum(losses[-5:]) / 5 < losses[0] - 0.5
    # the export loads on the GPU and predicts held-in text far better than chance (ln 251)
    export = list_hf_checkpoints(out)[-1][1]
    model = load_model(export, dtype="float32", device="cuda")
    assert next(model.parameters()).is_cuda
    corpus = TokenCorpus(shards)
    batch = torch.stack([torch.from_numpy(corpus.window(i, 64).astype("int64")) for i in range(8)])
    with torch.no_grad():
        loss = model(input_ids=batch.cuda(), labels=batch.cuda()).loss.item()
    assert loss < math.log(251) - 0.5
