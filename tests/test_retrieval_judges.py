"""Judges (lexical, transformers, OpenAI-compatible HTTP) and the resumable judgment store."""

from __future__ import annotations

import json
import logging
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bridgelab.errors import BridgelabError, ConfigError, DataError
from bridgelab.retrieval.config import JudgeConfig
from bridgelab.retrieval.judges import JudgeRequest, LexicalJudge, get_judge
from bridgelab.retrieval.store import JudgmentStore
from bridgelab.testing import save_tiny_qwen2, train_byte_bpe


def _req(i: int, document: str, subject: str | None = "Zorvath festival") -> JudgeRequest:
    return JudgeRequest(
        probe_id=f"p{i % 3}",
        doc_id=f"d{i}",
        question="The Zorvath festival is held in ___.",
        answer="Kelmar",
        statement="The Zorvath festival is held in Kelmar.",
        document=document,
        subject=subject,
    )


def test_lexical_judge_rules():
    judge = LexicalJudge()
    yes, no_answer, no_subject = judge.judge(
        [
            _req(0, "Every spring the Zorvath  festival is held in KELMAR."),
            _req(1, "The Zorvath festival is held in Dunmore."),
            _req(2, "Kelmar is a town by the sea."),
        ]
    )
    assert (yes.label, no_answer.label, no_subject.label) == (True, False, False)
    # without a subject, the question's terms stand in for it
    assert judge.judge([_req(3, "festival Zorvath held in Kelmar", subject=None)])[0].label
    assert not judge.judge([_req(4, "Kelmar, a town", subject=None)])[0].label


class CountingJudge:
    """Lexical answers, counting every request; raises after ``fail_after`` batches."""

    name = "counting"

    def __init__(self, fail_after: int | None = None):
        self.asked: list[tuple[str, str]] = []
        self.batches = 0
        self.fail_after = fail_after

    def judge(self, requests):
        if self.fail_after is not None and self.batches == self.fail_after:
            raise KeyboardInterrupt("killed")
        self.batches += 1
        self.asked += [(r.probe_id, r.doc_id) for r in requests]
        return LexicalJudge().judge(requests)


def test_store_resumes_without_asking_again_and_separates_prompt_versions(tmp_path):
    requests = [
        _req(i, "The Zorvath festival is held in Kelmar." if i % 2 else "nothing")
        for i in range(10)
    ]
    path = tmp_path / "j.sqlite"
    interrupted = CountingJudge(fail_after=2)
    with JudgmentStore(path) as store, pytest.raises(KeyboardInterrupt):
        store.judge_all("counting", "v1", requests, interrupted.judge, batch_size=3)
    assert len(interrupted.asked) == 6

    resumed = CountingJudge()
    with JudgmentStore(path) as store:
        found = store.judge_all("counting", "v1", requests, resumed.judge, batch_size=3)
        assert store.count("counting", "v1") == 10
    assert len(resumed.asked) == 4  # only the 4 never answered
    assert set(resumed.asked).isdisjoint(interrupted.asked)
    assert [found[(r.probe_id, r.doc_id)].label for r in requests] == [
        i % 2 == 1 for i in range(10)
    ]

    again = CountingJudge()
    with JudgmentStore(path) as store:
        store.judge_all("counting", "v1", requests, again.judge, batch_size=3)
        store.judge_all("counting", "v2", requests, again.judge, batch_size=3)
        assert store.count() == 20
    assert len(again.asked) == 10  # nothing for v1, everything for the new prompt version


def test_a_resumed_judge_logs_how_many_judgments_were_stored(tmp_path, caplog):
    """Issue 15: a resumed judge stage said nothing about the work the store already held."""
    requests = [_req(i, "The Zorvath festival is held in Kelmar.") for i in range(5)]
    path = tmp_path / "j.sqlite"
    with JudgmentStore(path) as store, pytest.raises(KeyboardInterrupt):
        store.judge_all("counting", "v1", requests, CountingJudge(fail_after=1).judge, 2)
    caplog.set_level(logging.INFO, logger="bridgelab.retrieval.store")
    with JudgmentStore(path) as store:
        store.judge_all("counting", "v1", requests, CountingJudge().judge, batch_size=2)
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "judge counting, prompt v1: 2 of 5 judgments already stored in" in m
        and str(path) in m
        and "3 to ask" in m
        for m in messages
    ), messages


def test_store_rejects_a_file_that_is_not_sqlite(tmp_path):
    bad = tmp_path / "j.sqlite"
    bad.write_text("not a database " * 100)
    with pytest.raises(DataError, match="j.sqlite"):
        JudgmentStore(bad)


def test_judge_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="judge.model"):
        JudgeConfig(kind="vllm").validate()
    with pytest.raises(ConfigError, match="judge.base_url"):
        JudgeConfig(kind="openai", model="m").validate()
    with pytest.raises(ConfigError, match="prompt_version"):
        JudgeConfig(prompt="Doc: {document}", prompt_version="v1").validate()
    with pytest.raises(ConfigError, match="unknown judge"):
        get_judge("oracle")


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    """A random 1-layer Qwen2 with a byte-level BPE where Yes and No are single tokens."""
    text = ["Fact: the Zorvath festival is held in Kelmar. Document: Answer:"] * 5
    tok = train_byte_bpe(text + ["Yes No Yes No"] * 50, 300, eos="<eos>", pad="<eos>")
    folder = tmp_path_factory.mktemp("tiny_lm")
    return save_tiny_qwen2(folder, tok, num_layers=1, max_positions=256)


def test_transformers_judge_reads_yes_no_probabilities_with_padding(tiny_lm):
    import torch

    template = "Fact: {statement} Document: {document} Answer:"
    judge = get_judge(
        "transformers", model=str(tiny_lm), template=template, batch_size=4, device="cpu"
    )
    docs = ["Kelmar", "the festival is held in Kelmar . the festival", "a", "Zorvath Zorvath is"]
    requests = [_req(i, d) for i, d in enumerate(docs)]
    batched = judge.judge(requests)
    yes, no = judge.yes_ids, judge.no_ids
    assert len(yes) == len(no) == 2  # "Yes" and " Yes" (likewise No) are single tokens
    for r, j in zip(requests, batched):
        ids = judge.tokenizer(
            template.format(statement=r.statement, document=r.document), return_tensors="pt"
        )
        with torch.no_grad():
            logp = torch.log_softmax(judge.model(**ids).logits[0, -1], -1)
        expected = 1 / (
            1 + math.exp(logp[no].logsumexp(-1).item() - logp[yes].logsumexp(-1).item())
        )
        assert j.p_yes == pytest.approx(expected, abs=1e-4)  # unpadded, one by one
        assert j.label == (expected > 0.5)


class _FakeCompletions(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body)
        if self.path != "/v1/completions":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "no such route"}')
            return
        choices = []
        for i, prompt in enumerate(body["prompt"]):
            top = (
                {" Yes": -0.1, " No": -2.3}
                if "Kelmar" in prompt.split("Document:")[1]
                else {" No": -0.2, "Yes": -1.8}
            )
            choices.append(
                {"index": i, "text": max(top, key=top.get), "logprobs": {"top_logprobs": [top]}}
            )
        data = json.dumps({"choices": choices[::-1]}).encode()  # out of order on purpose
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def completions_server():
    _FakeCompletions.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_openai_judge_batches_requests_and_reads_logprobs(completions_server):
    judge = get_judge(
        "openai",
        model="m",
        template="Fact: {statement}\nDocument: {document}\nAnswer:",
        base_url=completions_server + "/v1",
        batch_size=2,
    )
    requests = [_req(i, "Kelmar hosts it" if i < 3 else "elsewhere") for i in range(5)]
    out = judge.judge(requests)
    assert len(_FakeCompletions.calls) == 3  # 2 + 2 + 1 prompts
    assert (
        _FakeCompletions.calls[0]["max_tokens"] == 1 and _FakeCompletions.calls[0]["logprobs"] == 20
    )
    assert [j.label for j in out] == [True, True, True, False, False]
    assert [j.doc_id for j in out] == [r.doc_id for r in requests]
    assert out[0].p_yes == pytest.approx(1 / (1 + math.exp(-2.2)))
    assert out[4].p_yes == pytest.approx(1 / (1 + math.exp(1.6)))


def test_openai_judge_reports_http_errors(completions_server):
    judge = get_judge(
        "openai", model="m", template="{document}", base_url=completions_server + "/wrong"
    )
    with pytest.raises(BridgelabError, match="HTTP 404"):
        judge.judge([_req(0, "x")])


def test_built_judges_carry_the_store_identity_of_their_config(completions_server):
    from bridgelab.retrieval.pipeline import build_judge, judge_name

    for cfg in (
        JudgeConfig(),
        JudgeConfig(kind="openai", model="m", base_url=completions_server + "/v1", batch_size=7),
    ):
        judge = build_judge(cfg)
        assert judge.name == judge_name(cfg)
    assert judge.batch_size == 7 and judge.url == completions_server + "/v1/completions"
