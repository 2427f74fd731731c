"""Run the offline ``vllm`` judge over requests read from JSON, through the judgment store.

vLLM's offline engine starts worker processes that re-import the main module, so it must be
created under ``if __name__ == "__main__"``; the tests therefore run this file as a subprocess.
As in the frequency pipeline, the judge (and with it the engine) is built only when the store
lacks answers, so a resumed run that finds everything stored starts no engine at all.

Usage: python offline_judge.py MODEL REQUESTS.json STORE.sqlite OUT.json
OUT.json = {"built": bool, "asked": [batch sizes], "dtype": the engine's dtype or null,
"judgments": [{probe_id, doc_id, label, p_yes, raw}, ...] in request order}.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from bridgelab.retrieval.config import PROMPTS
from bridgelab.retrieval.judges import Judge, JudgeRequest, Judgment, get_judge
from bridgelab.retrieval.store import JudgmentStore

PROMPT_VERSION = "v1"
MAX_MODEL_LEN = 1024


def main(model: str, requests_path: Path, store_path: Path, out_path: Path) -> None:
    requests = [JudgeRequest(**r) for r in json.loads(requests_path.read_text(encoding="utf-8"))]
    built: list[Judge] = []
    asked: list[int] = []

    def ask(batch: list[JudgeRequest]) -> list[Judgment]:
        if not built:
            built.append(
                get_judge(
                    "vllm",
                    model=model,
                    template=PROMPTS[PROMPT_VERSION],
                    max_model_len=MAX_MODEL_LEN,
                )
            )
        asked.append(len(batch))
        return built[0].judge(batch)

    with JudgmentStore(store_path) as store:
        found = store.judge_all(f"vllm:{model}", PROMPT_VERSION, requests, ask, batch_size=8)
    judgments = [asdict(found[(r.probe_id, r.doc_id)]) for r in requests]
    # VLLMJudge leaves dtype at "auto", which vLLM resolves per platform: worth recording
    dtype = str(built[0].llm.model_config.dtype) if built else None
    out = {"built": bool(built), "asked": asked, "dtype": dtype, "judgments": judgments}
    out_path.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
