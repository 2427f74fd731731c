"""LLM judges: a local transformers model, vLLM offline inference, an OpenAI-compatible server.

All three ask for one next token and compare the probability of "Yes" with that of "No"
(summed over the spellings that are single tokens: "Yes", " Yes", "yes", " yes"), so the answer
never depends on sampling or on parsing free text. The prompt puts the fact before the
document, so the 50 requests of one probe share a prefix that vLLM's prefix cache reuses;
requests arrive grouped by probe.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import urllib.error
import urllib.request
from typing import Any

from tqdm import tqdm

from bridgelab.errors import BridgelabError, ConfigError
from bridgelab.retrieval.judges import JudgeRequest, Judgment, is_yes_no, render_prompt

log = logging.getLogger(__name__)
SPELLINGS = {"yes": ("Yes", " Yes", "yes", " yes"), "no": ("No", " No", "no", " no")}


def answer_token_ids(tokenizer: Any) -> tuple[list[int], list[int]]:
    """Ids of the single-token spellings of Yes and of No in ``tokenizer``."""
    ids: dict[str, list[int]] = {}
    for word, spellings in SPELLINGS.items():
        found = []
        for s in spellings:
            enc = tokenizer.encode(s, add_special_tokens=False)
            if len(enc) == 1 and enc[0] not in found:
                found.append(enc[0])
        if not found:
            raise ConfigError(f"judge.model: its tokenizer has no single token for '{word}'")
        ids[word] = found
    if set(ids["yes"]) & set(ids["no"]):
        raise ConfigError("judge.model: its tokenizer maps Yes and No to the same token")
    return ids["yes"], ids["no"]


def decide(logp_yes: float, logp_no: float) -> tuple[bool, float]:
    """(label, p_yes normalised over the two answers) from the two log-probabilities."""
    if logp_yes == -math.inf and logp_no == -math.inf:
        return False, 0.5
    diff = max(min(logp_no - logp_yes, 700.0), -700.0)
    p_yes = 1.0 / (1.0 + math.exp(diff))
    return p_yes > 0.5, p_yes


def logsumexp(values: list[float]) -> float:
    top = max(values, default=-math.inf)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))


class TransformersJudge:
    """A local causal LM (HF folder or name), batched with left padding."""

    def __init__(
        self,
        model: str,
        template: str,
        batch_size: int = 8,
        max_doc_chars: int = 2000,
        device: str | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = f"transformers:{model}"
        self.template, self.batch_size, self.max_doc_chars = template, batch_size, max_doc_chars
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model).to(self.device).eval()
        self.yes_ids, self.no_ids = answer_token_ids(self.tokenizer)

    def next_token_logprobs(self, prompts: list[str]):
        """Log-probabilities of the token after each prompt, shape (len(prompts), vocab)."""
        import torch

        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        # left padding: positions must count real tokens only, or padded rows shift
        positions = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        with torch.no_grad():
            logits = self.model(**enc, position_ids=positions).logits[:, -1].float()
        return torch.log_softmax(logits, dim=-1)

    def judge(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out = []
        for i in range(0, len(requests), self.batch_size):
            batch = requests[i : i + self.batch_size]
            prompts = [render_prompt(self.template, r, self.max_doc_chars) for r in batch]
            logp = self.next_token_logprobs(prompts)
            ly = logp[:, self.yes_ids].logsumexp(-1).tolist()
            ln = logp[:, self.no_ids].logsumexp(-1).tolist()
            for r, a, b in zip(batch, ly, ln):
                label, p = decide(a, b)
                out.append(Judgment(r.probe_id, r.doc_id, label, p, "Yes" if label else "No"))
        return out


class VLLMJudge:
    """vLLM offline inference: one token, constrained to the Yes/No ids, with log-probabilities."""

    def __init__(
        self,
        model: str,
        template: str,
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        max_doc_chars: int = 2000,
        batch_size: int = 256,
    ):
        from vllm import LLM, SamplingParams

        self.name = f"vllm:{model}"
        self.template, self.max_doc_chars, self.batch_size = template, max_doc_chars, batch_size
        self.llm = LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
            enable_prefix_caching=True,
        )
        self.yes_ids, self.no_ids = answer_token_ids(self.llm.get_tokenizer())
        allowed = self.yes_ids + self.no_ids
        # greedy decoding restricted to the answer ids gives the label; the returned
        # log-probabilities are the model's top ones (vLLM's default max_logprobs is 20) plus
        # the chosen token, so both answers' values are there unless one is far down the list,
        # in which case p_yes is 0 or 1
        self.params = SamplingParams(
            max_tokens=1, temperature=0.0, logprobs=max(20, len(allowed)), allowed_token_ids=allowed
        )

    def judge(self, requests: list[JudgeRequest]) -> list[Judgment]:
        prompts = [render_prompt(self.template, r, self.max_doc_chars) for r in requests]
        outputs = self.llm.generate(prompts, self.params, use_tqdm=len(prompts) > 1)
        result = []
        for r, output in zip(requests, outputs):
            completion = output.outputs[0]
            top = completion.logprobs[0] if completion.logprobs else {}
            ly = logsumexp([top[i].logprob for i in self.yes_ids if i in top])
            ln = logsumexp([top[i].logprob for i in self.no_ids if i in top])
            if ly == ln == -math.inf:  # no log-probabilities came back: read the text
                result.append(
                    Judgment(
                        r.probe_id,
                        r.doc_id,
                        is_yes_no(completion.text) == "yes",
                        None,
                        completion.text,
                    )
                )
                continue
            label, p = decide(ly, ln)
            result.append(Judgment(r.probe_id, r.doc_id, label, p, completion.text))
        return result


class OpenAIJudge:
    """The ``/completions`` endpoint of an OpenAI-compatible server (e.g. ``vllm serve``).

    Plain HTTP through ``urllib`` (no client library needed); the prompts of a batch go in one
    request, and ``top_logprobs`` of the first token give p(Yes) and p(No).
    """

    def __init__(
        self,
        model: str,
        template: str,
        base_url: str,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        max_doc_chars: int = 2000,
        batch_size: int = 32,
        logprobs: int = 20,
        retries: int = 3,
    ):
        self.name = f"openai:{model}"
        self.model, self.template, self.max_doc_chars = model, template, max_doc_chars
        self.url = base_url.rstrip("/") + "/completions"
        self.api_key = os.environ.get(api_key_env, "EMPTY")
        self.timeout_s, self.batch_size, self.logprobs, self.retries = (
            timeout_s,
            batch_size,
            logprobs,
            retries,
        )

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"}
        for attempt in range(1, self.retries + 1):
            req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:300]
                if exc.code < 500 or attempt == self.retries:
                    raise BridgelabError(
                        f"judge endpoint {self.url}: HTTP {exc.code}: {detail}"
                    ) from None
            except (urllib.error.URLError, TimeoutError) as exc:
                if attempt == self.retries:
                    raise BridgelabError(f"judge endpoint {self.url}: {exc}") from None
            log.warning("judge endpoint %s failed (attempt %d); retrying", self.url, attempt)
            time.sleep(2**attempt)
        raise AssertionError("unreachable")

    def judge(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out: list[Judgment] = []
        batches = range(0, len(requests), self.batch_size)
        for i in tqdm(batches, desc="judge", disable=len(batches) < 2):
            batch = requests[i : i + self.batch_size]
            payload = {
                "model": self.model,
                "prompt": [render_prompt(self.template, r, self.max_doc_chars) for r in batch],
                "max_tokens": 1,
                "temperature": 0.0,
                "logprobs": self.logprobs,
            }
            choices = sorted(self._post(payload).get("choices", []), key=lambda c: c["index"])
            if len(choices) != len(batch):
                raise BridgelabError(
                    f"judge endpoint {self.url}: {len(choices)} answers for {len(batch)} prompts"
                )
            for r, choice in zip(batch, choices):
                out.append(self._judgment(r, choice))
        return out

    @staticmethod
    def _judgment(r: JudgeRequest, choice: dict[str, Any]) -> Judgment:
        text = choice.get("text", "")
        top = ((choice.get("logprobs") or {}).get("top_logprobs") or [{}])[0] or {}
        groups: dict[str, list[float]] = {"yes": [], "no": []}
        for token, lp in top.items():
            word = is_yes_no(token)
            if word:
                groups[word].append(lp)
        if groups["yes"] or groups["no"]:
            label, p = decide(logsumexp(groups["yes"]), logsumexp(groups["no"]))
            return Judgment(r.probe_id, r.doc_id, label, p, text)
        # neither answer among the top tokens: fall back on the generated text
        return Judgment(r.probe_id, r.doc_id, is_yes_no(text) == "yes", None, text)
