"""The judgment store: one SQLite file keyed by (judge, prompt version, probe id, document id).

Judgments are committed batch by batch, so a killed judge run loses at most the batch in
flight; the next run asks only for the keys the store lacks. The prompt version is part of the
key, so a changed prompt never reuses answers given to the old one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm import tqdm

from bridgelab.errors import DataError
from bridgelab.retrieval.judges import JudgeRequest, Judgment

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    judge TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    probe_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    label INTEGER NOT NULL,
    p_yes REAL,
    raw TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (judge, prompt_version, probe_id, doc_id)
)
"""


class JudgmentStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(SCHEMA)
            self.db.commit()
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.path}: not a usable judgment store ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> JudgmentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, judge: str, prompt_version: str, keys: Iterable[tuple[str, str]]) -> dict:
        """{(probe_id, doc_id): Judgment} for the keys already judged."""
        wanted = set(keys)
        rows = self.db.execute(
            "SELECT probe_id, doc_id, label, p_yes, raw FROM judgments "
            "WHERE judge = ? AND prompt_version = ?",
            (judge, prompt_version),
        )
        return {
            (p, d): Judgment(p, d, bool(label), p_yes, raw or "")
            for p, d, label, p_yes, raw in rows
            if (p, d) in wanted
        }

    def put(self, judge: str, prompt_version: str, judgments: Iterable[Judgment]) -> None:
        now = time.time()
        self.db.executemany(
            "INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (judge, prompt_version, j.probe_id, j.doc_id, int(j.label), j.p_yes, j.raw, now)
                for j in judgments
            ],
        )
        self.db.commit()

    def count(self, judge: str | None = None, prompt_version: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM judgments WHERE 1=1", []
        if judge is not None:
            sql, args = sql + " AND judge = ?", [*args, judge]
        if prompt_version is not None:
            sql, args = sql + " AND prompt_version = ?", [*args, prompt_version]
        return int(self.db.execute(sql, args).fetchone()[0])

    def judge_all(
        self,
        judge_name: str,
        prompt_version: str,
        requests: list[JudgeRequest],
        ask: Callable[[list[JudgeRequest]], list[Judgment]],
        batch_size: int,
    ) -> dict[tuple[str, str], Judgment]:
        """Judgments for every request: stored ones reused, the rest asked and stored per batch."""
        keys = [(r.probe_id, r.doc_id) for r in requests]
        done = self.get(judge_name, prompt_version, keys)
        todo = [r for r in requests if (r.probe_id, r.doc_id) not in done]
        # a resumed (or re-run) judge stage says how much of the work the store already holds
        log.info(
            "judge %s, prompt %s: %d of %d judgments already stored in %s; %d to ask",
            judge_name, prompt_version, len(done), len(set(keys)), self.path,
            len({(r.probe_id, r.doc_id) for r in todo}),
        )  # fmt: skip
        batches = range(0, len(todo), batch_size)
        for i in tqdm(batches, desc=f"judge {judge_name}", disable=not todo):
            batch = todo[i : i + batch_size]
            answers = ask(batch)
            if len(answers) != len(batch):
                raise DataError(f"judge {judge_name} answered {len(answers)} of {len(batch)}")
            self.put(judge_name, prompt_version, answers)
            done.update({(j.probe_id, j.doc_id): j for j in answers})
        return done
