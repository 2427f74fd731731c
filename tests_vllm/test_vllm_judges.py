"""Real vLLM on CPU: `vllm serve` and the offline engine, read by bridgelab's judges.

The reference for every number is the same checkpoint run by transformers (the
``transformers`` judge), so a judgment agrees across the three backends when the model, the
prompt and the reading (one greedy token, p(Yes) against p(No)) are the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from conftest import HERE, Server
from tiny_qwen import answer_token_ids

from bridgelab.errors import BridgelabError
from bridgelab.retrieval.config import PROMPTS
from bridgelab.retrieval.judges import JudgeRequest, Judgment, get_judge, render_prompt
from bridgelab.retrieval.store import JudgmentStore

pytestmark = pytest.mark.vllm

TEMPLATE = PROMPTS["v1"]
P_TOL = 1e-4  # float32 on both sides; kernels differ (vLLM's CPU attention vs SDPA)
# The vllm judge does not pass a dtype, and vLLM's "auto" runs a float32 checkpoint in bfloat16
# on CPU; its p_yes then differs from float32 ones by bfloat16 rounding (up to 0.026 seen).
BF16_TOL = 0.05
REQUESTS_DONE = "vllm:request_success_total"


def post_json(url: str, payload: dict) -> dict:
    req = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="session")
def reference(tiny_model: Path, requests_: list[JudgeRequest]) -> list[Judgment]:
    torch.set_num_threads(1)
    judge = get_judge("transformers", model=str(tiny_model), template=TEMPLATE, device="cpu")
    return judge.judge(requests_)


@pytest.fixture(scope="session")
def openai_run(server: Server, requests_: list[JudgeRequest], tmp_path_factory) -> dict:
    """The openai judge over all requests, through a fresh judgment store."""
    store_path = tmp_path_factory.mktemp("store") / "judgments.sqlite"
    judge = get_judge("openai", model=server.model, template=TEMPLATE, base_url=server.base_url)
    calls: list[int] = []

    def ask(batch: list[JudgeRequest]) -> list[Judgment]:
        calls.append(len(batch))
        return judge.judge(batch)

    served_before = server.metric(REQUESTS_DONE)
    with JudgmentStore(store_path) as store:
        found = store.judge_all(judge.name, "v1", requests_, ask, batch_size=5)
    return {
        "name": judge.name,
        "store": store_path,
        "calls": calls,
        "served": server.metric(REQUESTS_DONE) - served_before,
        "judgments": [found[(r.probe_id, r.doc_id)] for r in requests_],
    }


def test_served_logprobs_match_transformers(server: Server, tiny_model: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    prompt = "Fact: The capital of Belo is Stonebridge.\nAnswer:"
    out = post_json(
        f"{server.base_url}/completions",
        {"model": server.model, "prompt": prompt, "max_tokens": 1, "temperature": 0, "logprobs": 3},
    )
    choice = out["choices"][0]
    served = choice["logprobs"]["top_logprobs"][0]

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    with torch.no_grad():
        logits = model(tok(prompt, return_tensors="pt").input_ids).logits[0, -1]
    top = torch.log_softmax(logits.float(), -1).topk(3)
    expected = {tok.decode([i]): v for v, i in zip(top.values.tolist(), top.indices.tolist())}

    assert choice["text"] == tok.decode([int(top.indices[0])])  # greedy = the argmax
    assert served.keys() == expected.keys()
    for token, logprob in expected.items():
        assert served[token] == pytest.approx(logprob, abs=P_TOL)


def test_tiny_model_answers_hold_the_top(tiny_model: Path, requests_: list[JudgeRequest]) -> None:
    """The premise of comparing p_yes across backends: the top-k readings see every answer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    answer_ids = set(answer_token_ids(tok))
    for r in requests_:
        ids = tok(render_prompt(TEMPLATE, r, 2000), return_tensors="pt").input_ids
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0, -1].float(), -1)
        assert set(logp.topk(len(answer_ids)).indices.tolist()) == answer_ids
        assert logp[sorted(answer_ids)].exp().sum() > 0.99


def check_judgments(judgments: list[Judgment], requests_: list[JudgeRequest]) -> None:
    assert [(j.probe_id, j.doc_id) for j in judgments] == [
        (r.probe_id, r.doc_id) for r in requests_
    ]
    for j in judgments:
        assert isinstance(j.label, bool)
        assert j.p_yes is not None and 0.0 < j.p_yes < 1.0
        assert j.label == (j.p_yes > 0.5)
        assert j.raw.strip() in ("Yes", "No")
    # the seeded model answers both ways on these prompts: the reading is not a constant
    assert {j.label for j in judgments} == {True, False}


def test_openai_judge_against_vllm_serve(
    openai_run: dict, requests_: list[JudgeRequest], reference: list[Judgment]
) -> None:
    judgments = openai_run["judgments"]
    check_judgments(judgments, requests_)
    assert openai_run["calls"] == [5, 5, 2]
    assert openai_run["served"] == len(requests_)  # one engine request per prompt
    for got, ref in zip(judgments, reference):
        assert got.label == ref.label, (got, ref)
        assert got.p_yes == pytest.approx(ref.p_yes, abs=P_TOL)
    with JudgmentStore(openai_run["store"]) as store:
        assert store.count(openai_run["name"], "v1") == len(requests_)
        stored = store.get(openai_run["name"], "v1", [(r.probe_id, r.doc_id) for r in requests_])
    assert [stored[(j.probe_id, j.doc_id)] for j in judgments] == judgments


def test_openai_judge_resume_asks_nothing(
    server: Server, openai_run: dict, requests_: list[JudgeRequest]
) -> None:
    judge = get_judge("openai", model=server.model, template=TEMPLATE, base_url=server.base_url)
    calls: list[int] = []

    def ask(batch: list[JudgeRequest]) -> list[Judgment]:
        calls.append(len(batch))
        return judge.judge(batch)

    served_before = server.metric(REQUESTS_DONE)
    with JudgmentStore(openai_run["store"]) as store:
        found = store.judge_all(judge.name, "v1", requests_, ask, batch_size=5)
    assert calls == []
    assert server.metric(REQUESTS_DONE) == served_before
    assert [found[(r.probe_id, r.doc_id)] for r in requests_] == openai_run["judgments"]


def test_openai_judge_unknown_model_names_the_endpoint(
    server: Server, requests_: list[JudgeRequest]
) -> None:
    judge = get_judge("openai", model="no-such-model", template=TEMPLATE, base_url=server.base_url)
    with pytest.raises(BridgelabError, match=r"/v1/completions: HTTP 404"):
        judge.judge(requests_[:1])


def run_offline(model: Path, requests_path: Path, store: Path, out: Path) -> dict:
    cmd = [sys.executable, str(HERE / "offline_judge.py"), str(model), str(requests_path)]
    proc = subprocess.run([*cmd, str(store), str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_offline_vllm_judge_matches_server_and_resumes(
    tiny_model: Path, openai_run: dict, requests_: list[JudgeRequest], tmp_path: Path
) -> None:
    requests_path = tmp_path / "requests.json"
    requests_path.write_text(json.dumps([asdict(r) for r in requests_]), encoding="utf-8")
    store = openai_run["store"]  # the same SQLite file: the judge name keeps them apart

    first = run_offline(tiny_model, requests_path, store, tmp_path / "first.json")
    assert first["built"] and first["asked"] == [8, 4]
    judgments = [Judgment(**j) for j in first["judgments"]]
    check_judgments(judgments, requests_)
    tol = P_TOL if first["dtype"] == "torch.float32" else BF16_TOL
    assert first["dtype"] in ("torch.float32", "torch.bfloat16")
    for got, served in zip(judgments, openai_run["judgments"]):
        assert got.label == served.label, (got, served)
        assert got.p_yes == pytest.approx(served.p_yes, abs=tol)
    with JudgmentStore(store) as s:
        assert s.count(f"vllm:{tiny_model}", "v1") == len(requests_)
        assert s.count(openai_run["name"], "v1") == len(requests_)

    second = run_offline(tiny_model, requests_path, store, tmp_path / "second.json")
    assert not second["built"] and second["asked"] == []  # resumed: no engine, no call
    assert second["judgments"] == first["judgments"]
