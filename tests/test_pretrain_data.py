"""Data order, trace-step and the input checks that run before any training."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bridgelab.contracts.shards import TokenCorpus
from bridgelab.errors import ConfigError, DataError, RunFolderError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.data_order import StepOrder, load_batch
from bridgelab.pretrain.inputs import check_run_folder, open_inputs, run_config_hash
from bridgelab.pretrain.synthetic import make_inputs, make_shards, make_tokenizer, markov_texts
from bridgelab.pretrain.trace import trace_step


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("pretrain_data"), num_docs=120)


def _cfg(tok, shards, tmp_path, *extra):
    return PretrainConfig.load(None, [f"tokenizer={tok}", f"data.path={shards}",
                                      f"out_dir={tmp_path / 'run'}", "data.seq_len=32",
                                      "train.steps=10", "train.warmup_steps=1", *extra])  # fmt: skip


def test_order_is_a_pure_function_of_seed_and_step():
    a, b = StepOrder(50, 8, seed=3), StepOrder(50, 8, seed=3)
    assert np.array_equal(a.global_batch(4), b.global_batch(4))
    assert not np.array_equal(a.global_batch(4), StepOrder(50, 8, seed=4).global_batch(4))
    # the first epoch visits every window exactly once before any repeats
    first_epoch = np.concatenate([a.global_batch(s) for s in range(1, 8)])[:50]
    assert sorted(first_epoch.tolist()) == list(range(50))


@pytest.mark.parametrize("world, micro", [(1, 8), (2, 2), (4, 1), (2, 4)])
def test_ranks_split_the_same_global_batch(world, micro):
    order = StepOrder(50, 8, seed=0)
    for step in (1, 7, 13):
        parts = [mb for r in range(world) for mb in order.rank_batches(step, r, world, micro)]
        assert all(len(mb) == micro for mb in parts)
        assert np.array_equal(np.concatenate(parts), order.global_batch(step))


def test_batches_are_shifted_windows(inputs):
    corpus = TokenCorpus(inputs[1])
    x, y = load_batch(corpus, np.array([0, 5]), 32)
    assert x.shape == y.shape == (2, 32)
    assert np.array_equal(x[1, 1:].numpy(), y[1, :-1].numpy())
    assert np.array_equal(y[1].numpy(), corpus.window(5, 32)[1:])


def test_trace_step_lists_the_documents_of_each_sequence(inputs, tmp_path):
    cfg = _cfg(*inputs, tmp_path)
    (tmp_path / "run").mkdir()
    cfg.dump(tmp_path / "run" / "config.yaml")
    rows = trace_step(tmp_path / "run", 3)
    corpus = TokenCorpus(inputs[1])
    assert [r["window"] for r in rows] == StepOrder(corpus.num_windows(32), 8, 0).global_batch(
        3
    ).tolist()
    for row in rows:
        covered = [d for d in corpus.docs if d.start < row["end"] and d.end > row["start"]]
        assert row["doc_ids"] == [d.id for d in covered] and row["doc_ids"]
    with pytest.raises(DataError, match="step 11"):
        trace_step(tmp_path / "run", 11)


def test_inputs_are_checked(inputs, tmp_path):
    tok, shards = inputs
    info = open_inputs(_cfg(tok, shards, tmp_path))
    assert info.vocab_size == 256  # 251 words + EOS rounded up to a multiple of 64
    with pytest.raises(DataError, match="too little data"):
        open_inputs(_cfg(tok, shards, tmp_path, "train.steps=1000"))
    with pytest.raises(ConfigError, match="model.vocab_size"):
        open_inputs(_cfg(tok, shards, tmp_path, "model.vocab_size=100"))


def test_shards_from_another_tokenizer_are_refused(inputs, tmp_path):
    other = make_tokenizer(tmp_path / "other_tok", num_words=40)
    other_shards = make_shards(tmp_path / "other_shards", other, markov_texts(50, 40, seed=1))
    with pytest.raises(DataError, match="shards were written with tokenizer"):
        open_inputs(_cfg(inputs[0], other_shards, tmp_path))


def test_init_from_with_another_architecture_is_refused(inputs, tmp_path):
    fake = tmp_path / "ckpt"
    fake.mkdir()
    (fake / "config.json").write_text(json.dumps({"hidden_size": 896, "num_hidden_layers": 24}))
    with pytest.raises(ConfigError, match="hidden_size=896"):
        open_inputs(_cfg(*inputs, tmp_path, f"init_from={fake}"))
    with pytest.raises(DataError, match="not an HF checkpoint"):
        open_inputs(_cfg(*inputs, tmp_path, f"init_from={tmp_path / 'missing'}"))


def test_run_folder_guards(inputs, tmp_path):
    cfg = _cfg(*inputs, tmp_path)
    run = tmp_path / "run"
    assert check_run_folder(cfg, run_config_hash(cfg), force=False) == "new"
    run.mkdir()
    (run / "notes.txt").write_text("someone else's files")
    with pytest.raises(RunFolderError, match="holds no bridgelab run"):
        check_run_folder(cfg, run_config_hash(cfg), force=False)
    (run / "run.json").write_text(json.dumps({"config_hash": "0" * 16}))
    with pytest.raises(RunFolderError, match="unfinished run of another config"):
        check_run_folder(cfg, run_config_hash(cfg), force=False)
    (run / "run.json").write_text(json.dumps({"config_hash": run_config_hash(cfg)}))
    assert check_run_folder(cfg, run_config_hash(cfg), force=False) == "continue"
    (run / "DONE").write_text("{}")
    assert check_run_folder(cfg, run_config_hash(cfg), force=False) == "skip"
    # logging and checkpoint settings may change; the seed may not
    relogged = _cfg(*inputs, tmp_path, "log.every=5", "checkpoint.save_every=3")
    assert run_config_hash(relogged) == run_config_hash(cfg)
    reseeded = _cfg(*inputs, tmp_path, "seed=1")
    with pytest.raises(RunFolderError, match="finished run of another config"):
        check_run_folder(reseeded, run_config_hash(reseeded), force=False)
    assert check_run_folder(reseeded, run_config_hash(reseeded), force=True) == "new"
