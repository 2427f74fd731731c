"""End-to-end training on CPU: loss falls, HF export round-trips, SIGTERM + resume is exact,
2-rank ZeRO-2 over gloo matches 1 rank, CPT via init_from, finished runs are never redone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from bridgelab.contracts.runs import list_hf_checkpoints, read_export_info
from bridgelab.errors import RunFolderError
from bridgelab.pretrain.checkpoints import complete_ds_tags
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.pretrain.metrics import read_metrics
from bridgelab.pretrain.model import CausalLMLoss, build_model
from bridgelab.pretrain.synthetic import make_inputs

STEPS = 16


def _overrides(tok: Path, shards: Path, out: Path, *extra: str) -> list[str]:
    return [f"tokenizer={tok}", f"data.path={shards}", f"out_dir={out}", "device=cpu",
            "data.seq_len=32", f"train.steps={STEPS}", "train.global_batch_size=8",
            "train.micro_batch_size=4", "train.warmup_steps=2", "train.lr=0.003",
            "checkpoint.save_every=4", "checkpoint.keep_last=2", "checkpoint.hf_steps=[8]",
            "log.progress=false", "log.tensorboard=false", *extra]  # fmt: skip


def _subprocess_env() -> dict[str, str]:
    # one thread, as in the in-process reference run, so fp32 sums happen in the same order;
    # no rendezvous variables from this process's own (in-process) run
    launcher = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in launcher}
    return {**env, "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu", "HF_HUB_OFFLINE": "1"}


def _losses(run: Path) -> list[float]:
    return [row["loss"] for row in read_metrics(run)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("pretrain_train"), num_docs=400)


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """One uninterrupted single-process run, in this process."""
    from bridgelab.pretrain.trainer import run

    out = tmp_path_factory.mktemp("ref") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(PretrainConfig.load(None, _overrides(*data, out, "log.tensorboard=true")))
    finally:
        torch.set_num_threads(threads)
    return out


def test_loss_falls_and_metrics_are_logged(reference):
    rows = read_metrics(reference)
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    losses = [r["loss"] for r in rows]
    assert losses[0] > 5.3  # ~ln(251) before learning
    assert sum(losses[-3:]) / 3 < losses[0] - 0.4
    assert rows[0]["lr"] == pytest.approx(0.0015) and rows[1]["lr"] == pytest.approx(0.003)
    assert all(r["grad_norm"] > 0 and r["tokens_per_s"] > 0 for r in rows)
    assert rows[-1]["tokens"] == STEPS * 8 * 32
    assert (reference / "DONE").is_file() and any((reference / "tb").iterdir())
    assert (
        json.loads((reference / "ds_config.json").read_text())["gradient_accumulation_steps"] == 2
    )


def test_hf_export_reloads_with_the_same_logits(reference):
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    from bridgelab.contracts.tokenizer import tokenizer_info

    exports = list_hf_checkpoints(reference)
    assert [step for step, _ in exports] == [8, STEPS]
    final = exports[-1][1]
    assert read_export_info(final)["tokens"] == STEPS * 8 * 32
    reloaded = AutoModelForCausalLM.from_pretrained(final).eval()
    # the trained weights as DeepSpeed saved them in the resume state
    state = torch.load(complete_ds_tags(reference)[-1][1] / "mp_rank_00_model_states.pt",
                       weights_only=False)["module"]  # fmt: skip
    trained = CausalLMLoss(build_model("tiny", reloaded.config.vocab_size), 0)
    trained.load_state_dict(state)
    ids = torch.randint(0, 251, (2, 20))
    with torch.no_grad():
        torch.testing.assert_close(
            reloaded(ids).logits, trained.lm.eval()(ids).logits, rtol=0, atol=0
        )
    # the export carries the run's exact tokenizer.json (same canonical hash)
    assert tokenizer_info(final)["hash"] == read_export_info(final)["tokenizer_hash"]
    assert PreTrainedTokenizerFast.from_pretrained(final)("w1 w2")["input_ids"] == [2, 3]


def test_keep_last_resume_states(reference):
    assert [step for step, _ in complete_ds_tags(reference)] == [12, STEPS]


def test_finished_run_is_skipped_and_never_overwritten(data, reference):
    from bridgelab.pretrain.trainer import run

    before = (reference / "metrics.jsonl").stat().st_mtime_ns
    assert run(PretrainConfig.load(None, _overrides(*data, reference))) == reference
    assert (reference / "metrics.jsonl").stat().st_mtime_ns == before
    with pytest.raises(RunFolderError, match="finished run of another config"):
        run(PretrainConfig.load(None, _overrides(*data, reference, "seed=7")))


@pytest.mark.slow
def test_sigterm_then_resume_gives_identical_losses(data, reference, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "bridgelab.cli", "pretrain", *_overrides(*data, out)]
    proc = subprocess.Popen(cmd, env=_subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.time() + 120
    while len(_losses(out)) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 75, output  # saved and exited, asking to be run again
    stopped_at = complete_ds_tags(out)[-1][0]
    assert 3 <= stopped_at < STEPS and not (out / "DONE").exists()
    resumed = subprocess.run(
        cmd, env=_subprocess_env(), capture_output=True, text=True, timeout=180
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {out / 'ds' / f'step_{stopped_at:06d}'}" in resumed.stderr
    assert _losses(out) == _losses(reference)  # exactly, step for step


@pytest.mark.slow
def test_two_rank_zero2_matches_one_rank(data, reference, tmp_path):
    out = tmp_path / "run"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(port), "-m", "bridgelab.cli",
           "pretrain", *_overrides(*data, out, "deepspeed.zero_stage=2")]  # fmt: skip
    proc = subprocess.run(cmd, env=_subprocess_env(), capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((out / "ds_config.json").read_text())["gradient_accumulation_steps"] == 1
    assert _losses(out) == pytest.approx(_losses(reference), rel=1e-5)
    assert [s for s, _ in list_hf_checkpoints(out)] == [8, STEPS]


def test_init_from_starts_fresh_from_exported_weights(data, reference, tmp_path):
    from bridgelab.pretrain.trainer import run

    export = list_hf_checkpoints(reference)[-1][1]
    out = run(PretrainConfig.load(None, _overrides(*data, tmp_path / "cpt", f"init_from={export}",
                                                   "train.steps=4", "checkpoint.hf_steps=[]")))  # fmt: skip
    rows = read_metrics(out)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["lr"] == pytest.approx(0.0015)  # a fresh warmup, not the old schedule
    # starting from trained weights: the first loss is far below a fresh model's
    assert rows[0]["loss"] < _losses(reference)[0] - 0.3
    assert read_export_info(list_hf_checkpoints(out)[-1][1])["init_from"] == str(export)


def test_trace_step_command(reference, capsys):
    from bridgelab.cli import main

    assert main(["trace-step", str(reference), "3"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["position"] for r in rows] == list(range(8))
    assert all(r["step"] == 3 and r["doc_ids"] for r in rows)


def test_dry_run_of_the_paper_preset_prints_the_estimate(capsys):
    from bridgelab.cli import main

    repo = Path(__file__).resolve().parents[1]
    assert main(["pretrain", "-c", str(repo / "configs/pretrain/paper.yaml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "494,032,768 parameters" in out and "4,999,610,368 tokens" in out
    assert "10.9 GPU-hours at 45% MFU" in out
