"""The prepared GPU check (scripts/device/, docs/gpu.md).

The smoke test runs `check.sh --smoke`, every phase at tiny scale on CPU, with the interpreter
of a stand-in for the H200 image (.venv-device: its transformers and tokenizers versions, the
carried wheels installed offline as on the device). `make test-device` builds that environment
and runs this file; elsewhere the smoke test skips and says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridgelab.study.runner import STAGES, StudyConfig, resolve_stage, selected_stages

# stages the device study leaves out: `count` needs tokengrams, whose `datasets` dependency chain
# is not carried to the bare H200 image (scripts/device/requirements.txt); `dose` needs a world
# with a dose design, and gpu_mini's world is the ordinary demo world
NOT_ON_DEVICE = {"count", "dose"}
DEVICE_STAGES = [s.name for s in STAGES if s.name not in NOT_ON_DEVICE]

REPO = Path(__file__).resolve().parents[1]
DEVICE = REPO / "scripts" / "device"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"device_{name}", DEVICE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _load("check")
wheels = _load("wheels")


def test_gpu_mini_study_resolves_at_both_scales():
    """Every stage config of gpu_mini.yaml resolves, as written (GPU) and with the smoke's
    overrides (CPU, tiny), so a schema change elsewhere fails here, not on the device."""
    for overrides in ([], check.SMOKE_STUDY):
        cfg = StudyConfig.load(REPO / "configs/study/gpu_mini.yaml", ["out_dir=/x", *overrides])
        resolved = {s.name: resolve_stage(cfg, s) for s in selected_stages(cfg)}
        # every stage of the study, in its order
        assert list(resolved) == DEVICE_STAGES
        pre, grid = resolved["pretrain"], resolved["grid"]
        smoke = bool(overrides)
        assert pre.device == ("cpu" if smoke else "cuda")
        assert pre.train.dtype == ("fp32" if smoke else "bf16")
        assert pre.model.preset == ("tiny" if smoke else "small")
        assert pre.deepspeed.zero_stage == 1
        assert grid.languages == ["ko", "zh", "bo", "mn"]
        assert grid.settings == ["bridge", "nobridge"]
        assert f"device={pre.device}" in grid.pretrain_overrides
        # nothing in the device study needs a model download or faiss
        freq = resolved["frequency"]
        assert freq.retriever.kind == freq.retriever.kind_non_english == "bm25"
        assert freq.judge.kind == "lexical"


def test_phase_timeout_stops_the_whole_process_group(tmp_path):
    started = time.time()
    # the shell's child `sleep` must die with it, or the phase would leave work running
    cmd = ["bash", "-c", f"sleep 60 & echo $! > {tmp_path}/child; wait"]
    result = check.Phase("slow", cmd, 1.5, tmp_path / "slow.log").run()
    assert result["status"] == "timeout"
    assert time.time() - started < 30
    child = int((tmp_path / "child").read_text())
    # gone, or a zombie waiting for init to reap it (then it no longer runs)
    for _ in range(50):
        stat = Path(f"/proc/{child}/stat")
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            state = "gone"
        if state in ("gone", "Z", "X"):
            break
        time.sleep(0.1)
    assert state in ("gone", "Z", "X"), f"the phase's child {child} still runs ({state})"
    failed = check.Phase("bad", ["bash", "-c", "echo boom; exit 3"], 10, tmp_path / "b.log").run()
    assert failed["status"] == "failed" and failed["rc"] == 3 and "boom" in failed["log_tail"]


def test_outputs_stay_within_the_device_tools_file_limit(tmp_path):
    study = tmp_path / "study"
    png = study / "report" / "png"
    png.mkdir(parents=True)
    for name in [*check.MAIN_PNGS, "curves_ko.png", "curves_zh.png", "instances.png"]:
        (png / name).write_bytes(b"\x89PNG")
    out = tmp_path / "out"
    out.mkdir()
    report = {"mode": "smoke", "started": "2026-01-01T00:00:00+00:00", "seconds": 1.0,
              "phases": {"env": {"status": "timeout", "seconds": 1, "budget_s": 1}}}  # fmt: skip
    check.write_outputs(report, out, tmp_path, study)
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= check.MAX_FILES
    assert {"device_check.json", "device_check.md", "device_check.log"} <= set(files)
    md = (out / "device_check.md").read_text()
    assert "| env | timeout |" in md and "## Row for docs/gpu.md" in md


def test_carried_wheels_are_pinned_and_the_image_list_is_read():
    pins = wheels.pinned(DEVICE / "requirements.txt")
    assert "deepspeed" in pins and "bm25s" in pins and "pydantic-core" in pins
    image = wheels.image_packages(DEVICE / "image_packages.txt")
    # deepspeed's requirements that the device image provides (so they are not carried)
    assert {"torch", "transformers", "einops", "msgpack", "ninja", "psutil", "py-cpuinfo"} <= image
    assert not set(pins) & {"torch", "transformers", "tokenizers"}


def _device_python() -> Path:
    path = Path(os.environ.get("BRIDGELAB_DEVICE_PYTHON", REPO / ".venv-device/bin/python"))
    if not path.exists():
        pytest.skip(f"no device-like environment at {path}: `make test-device` builds it")
    return path


@pytest.mark.slow
def test_smoke_runs_every_phase_on_cpu(tmp_path):
    py = _device_python()
    version = subprocess.run([str(py), "-c", "import sys; print(sys.version_info[1])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    wheel_dir = REPO / f".whl-cp3{version}"
    if not list(wheel_dir.glob("*.whl")):
        pytest.skip(f"no wheels in {wheel_dir}: scripts/device/venv.sh fetches them")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RANK", "WORLD_SIZE",
                                                             "LOCAL_RANK", "MASTER_ADDR",
                                                             "MASTER_PORT")}  # fmt: skip
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        ["bash", str(DEVICE / "check.sh"), "--smoke", "--python", str(py), "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    sys.stdout.write(proc.stdout[-6000:])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads((out / "device_check.json").read_text())
    assert {n: p["status"] for n, p in report["phases"].items()} == {
        "env": "ok", "throughput": "ok", "study": "ok", "compile": "ok"}  # fmt: skip
    env_info = report["env"]
    # the stand-in's versions, and the carried wheels installed offline (not a local install)
    assert env_info["transformers"] == "5.17.0"
    assert env_info["tokenizers"].startswith("0.23.")
    assert env_info["deepspeed"] == wheels.pinned(DEVICE / "requirements.txt")["deepspeed"]
    assert "bridgelab-device." in env_info["deepspeed_file"]
    for key in ("throughput", "throughput_compile"):
        tp = report[key]
        assert tp["tokens_per_s"] > 0 and tp["timed_steps"] == 5 and tp["zero_stage"] == 1
        # the micro-batch is split into checkpointed loss chunks, as on the GPU
        assert tp["tokens_per_step"] > tp["loss_chunk_size"]
    assert report["throughput_compile"]["compile"] is True
    stages = report["study"]["status_file"]["stages"]
    assert list(stages) == DEVICE_STAGES
    assert all(s["status"] == "done" for s in stages.values())
    headline = report["study"]["headline"]
    langs = {r["culture"] for r in headline["transfer"]}
    assert langs == {"ko", "zh", "bo", "mn"}
    files = list(out.iterdir())
    assert len(files) <= check.MAX_FILES
    assert all(f.stat().st_size <= 16 * 2**20 for f in files)
    assert (out / "transfer_curves.png").is_file()
    assert "## Row for docs/gpu.md" in (out / "device_check.md").read_text()


def test_compile_switch_compiles_in_place_and_keeps_state_dict_keys(tmp_path):
    """model.compile must not rename parameters (torch.compile(module) would prefix every key
    with `_orig_mod.`, breaking resume states and exports)."""
    from bridgelab.pretrain.inputs import open_inputs
    from bridgelab.pretrain.synthetic import make_inputs
    from bridgelab.pretrain.throughput import throughput_config
    from bridgelab.pretrain.trainer import _init_model

    make_inputs(tmp_path / "data", num_docs=50)
    modules = {}
    for compiled in (False, True):
        cfg = throughput_config(tmp_path, preset="tiny", seq_len=32, micro_batch_size=2,
                                grad_accum=1, steps=2, dtype="fp32", zero_stage=1, device="cpu",
                                compile=compiled, peak_tflops=989.0, vocab_size=None)  # fmt: skip
        assert cfg.model.compile is compiled and cfg.checkpoint.save_final is False
        modules[compiled] = _init_model(cfg, open_inputs(cfg))
    assert modules[True].lm.model._compiled_call_impl is not None  # the body, in place
    assert modules[False].lm.model._compiled_call_impl is None
    assert list(modules[True].state_dict()) == list(modules[False].state_dict())
