"""Issue 15.2: corrupt token shards are caught by check-corpus, and by pretrain before any
run folder exists, with an error naming the shard and the offending offset."""

from __future__ import annotations

import json

import pytest

from bridgelab.cli import main as cli_main
from bridgelab.contracts.shards import TokenCorpus
from bridgelab.data.check import check_corpus
from bridgelab.data.prepare import run as run_prepare
from bridgelab.errors import DataError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.inputs import open_inputs
from bridgelab.pretrain.synthetic import make_inputs
from tests.test_data_prepare import _cfg
from tests.test_data_prepare import world as world  # noqa: F401  (the module fixture)


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="module")
def shards(world):  # noqa: F811
    return run_prepare(_cfg(world, out="shards_valid"))


def test_out_of_vocabulary_ids_fail_check_corpus_with_shard_and_offset(shards, tmp_path):
    bad = _copy(shards, tmp_path / "bad")
    path = bad / "shard_00001.bin"
    data = bytearray(path.read_bytes())
    data[6:8] = b"\xff\xff"  # token 3 of shard 1 becomes id 65535; the vocabulary has 300
    path.write_bytes(bytes(data))
    report = check_corpus(bad, progress=False)
    assert not report["ok"]
    assert report["out_of_vocab"][0] == {"shard": "shard_00001.bin", "offset": 3, "id": 65535}
    assert report["num_out_of_vocab"] == 1


def test_a_shard_overwritten_with_ff_bytes_fails_the_cli(shards, tmp_path, capsys):
    bad = _copy(shards, tmp_path / "bad")
    path = bad / "shard_00000.bin"
    path.write_bytes(b"\xff" * path.stat().st_size)
    assert cli_main(["check-corpus", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "token ids outside the vocabulary" in out and "shard_00000.bin" in out
    assert "OK" not in out.splitlines()[-1]


def test_odd_byte_length_is_a_clear_error_not_a_value_error(shards, tmp_path, capsys):
    bad = _copy(shards, tmp_path / "bad")
    path = bad / "shard_00002.bin"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match=r"shard_00002\.bin: \d+ bytes .* uint16 .* byte offset"):
        TokenCorpus(bad)
    assert cli_main(["check-corpus", str(bad)]) == 2
    assert "shard_00002.bin" in capsys.readouterr().err


def test_pretrain_refuses_corrupt_shards_before_creating_the_run_folder(tmp_path):
    tok, shards = make_inputs(tmp_path / "inputs", num_docs=60)
    path = shards / "shard_00000.bin"
    path.write_bytes(b"\xff" * path.stat().st_size)
    run = tmp_path / "run"
    cfg = PretrainConfig.load(None, [f"tokenizer={tok}", f"data.path={shards}",
                                     f"out_dir={run}", "data.seq_len=32", "train.steps=2",
                                     "train.warmup_steps=1"])  # fmt: skip
    with pytest.raises(DataError, match=r"shard_00000\.bin: token id 65535 at offset 0"):
        open_inputs(cfg)
    from bridgelab.pretrain.trainer import run as pretrain_run

    with pytest.raises(DataError, match="outside the vocabulary"):
        pretrain_run(cfg)
    assert not run.exists()
    manifest = json.loads((shards / "manifest.json").read_text())
    assert manifest["vocab_size"] < 65535
