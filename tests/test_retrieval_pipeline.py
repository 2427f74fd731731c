"""The frequency pipeline on the tiny synthetic world: true counts recovered, resumable, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridgelab.cli import main as cli_main
from bridgelab.errors import DataError, RunFolderError
from bridgelab.retrieval.config import FrequencyConfig
from bridgelab.retrieval.judges import LexicalJudge
from bridgelab.retrieval.pipeline import run

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from bridgelab.synth.config import SynthConfig
    from bridgelab.synth.output import run as synth_run

    out = tmp_path_factory.mktemp("world") / "tiny"
    return synth_run(SynthConfig.load(REPO / "configs/synth/tiny.yaml", [f"out_dir={out}"]))


def _cfg(world: Path, out: Path, *overrides: str) -> FrequencyConfig:
    return FrequencyConfig.load(None, [f"world={world}", f"out_dir={out}", *overrides])


@pytest.mark.slow
def test_pipeline_recovers_true_counts_on_the_tiny_world(world, tmp_path):
    # default retrievers: hybrid (MiniLM + BM25) for English, BM25 for the other scripts
    out = run(_cfg(world, tmp_path / "freq"))
    validation = {
        r["corpus"]: r for r in json.loads((out / "summary.json").read_text())["validation"]
    }
    assert set(validation) == {"en", "ko", "zh", "bo", "mn"}
    for corpus, row in validation.items():
        # stated tolerances: every planted document retrieved; the lexical judge never misses
        # a true document and is wrong on at most 1 in 10 of its Yes answers; counts off by
        # at most half an occurrence per probe on average
        assert row["recall_at_k"] == 1.0, corpus
        assert row["judge_recall"] == 1.0, corpus
        assert row["judge_precision"] >= 0.9, corpus
        assert row["count_mae"] <= 0.5, corpus
    assert validation["en"]["count_exact"] == 1.0  # English: subject known, counts exact
    density = (out / "density.csv").read_text().splitlines()
    assert density[0].startswith("culture,corpus,num_probes,occurrences,mean_occurrences,num_docs")
    assert (out / "density.png").stat().st_size > 0
    occ = [json.loads(line) for line in (out / "occurrences.jsonl").read_text().splitlines()]
    truth = {
        json.loads(x)["probe_id"]: json.loads(x)
        for x in (world / "ground_truth.jsonl").read_text().splitlines()
    }
    en_rows = [r for r in occ if r["corpus"] == "en"]
    assert en_rows and all(
        r["occurrences"] == truth[r["probe_id"]]["counts"]["en"] for r in en_rows
    )


class _Counter:
    def __init__(self, fail_after: int | None = None):
        self.calls = 0
        self.batches = 0
        self.fail_after = fail_after

    def __call__(self, judge_self, requests):
        if self.fail_after is not None and self.batches == self.fail_after:
            raise KeyboardInterrupt("killed")
        self.batches += 1
        self.calls += len(requests)
        return _REAL_JUDGE(judge_self, requests)


_REAL_JUDGE = LexicalJudge.judge


def _install(monkeypatch, counter: _Counter) -> None:
    monkeypatch.setattr(LexicalJudge, "judge", lambda self, requests: counter(self, requests))


def test_interrupted_run_resumes_without_judging_again(world, tmp_path, monkeypatch):
    overrides = ("retriever.kind=bm25", "judge.batch_size=16")
    killed = _Counter(fail_after=2)
    _install(monkeypatch, killed)
    with pytest.raises(KeyboardInterrupt):
        run(_cfg(world, tmp_path / "freq", *overrides))
    assert killed.calls == 32

    resumed = _Counter()
    _install(monkeypatch, resumed)
    out = run(_cfg(world, tmp_path / "freq", *overrides))
    total = json.loads((out / "summary.json").read_text())["num_judgments"]
    assert resumed.calls == total - 32 > 0

    again = _Counter()
    _install(monkeypatch, again)
    assert run(_cfg(world, tmp_path / "freq", *overrides)) == out  # complete: skipped
    with pytest.raises(RunFolderError, match="--force"):
        run(_cfg(world, tmp_path / "freq", *overrides, "retriever.k=5"))
    run(_cfg(world, tmp_path / "freq", *overrides, "retriever.k=5"), force=True)
    assert again.calls == 0  # k=5 docs are a subset of the k=50 ones already judged
    assert (tmp_path / "freq.old-1" / "DONE").is_file()


def test_instance_analysis_from_probe_results(world, tmp_path):
    probes = [json.loads(x) for x in (world / "probes" / "bo.en.jsonl").read_text().splitlines()]
    rows = []
    for n, item in enumerate(probes):
        for lang in ("en", "bo"):
            for step, correct in ((0, float(lang == "en" and n % 2 == 0)), (10, float(n % 2 == 0))):
                rows.append(
                    {
                        "run": "bo-bridge-s0",
                        "lang": lang,
                        "culture_lang": "bo",
                        "question_lang": lang,
                        "setting": "bridge",
                        "seed": 0,
                        "step": step,
                        "item_id": item["id"],
                        "correct": correct,
                    }
                )
    results = tmp_path / "items.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = run(_cfg(world, tmp_path / "freq", "retriever.kind=bm25", f"probe_results=[{results}]"))
    table = {r["direction"]: r for r in json.loads((out / "summary.json").read_text())["instances"]}
    assert table["en->bo"]["n_items"] == len(probes)
    assert table["en->bo"]["n_transferred"] == len(probes) // 2  # the even items
    assert table["bo->en"]["n_transferred"] == 0
    assert (out / "instances.md").is_file() and (out / "instances.png").is_file()


def test_cli_dry_run_and_bad_input(world, tmp_path, capsys):
    assert cli_main(["frequency", f"world={world}", f"out_dir={tmp_path / 'f'}", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "# plan" in printed and "corpus bo (bo)" in printed and "-> bm25 top-50" in printed
    assert not (tmp_path / "f").exists()

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "lang": "en", "text": "x", "source": "s"}\n{"id": \n')
    args = [
        "frequency",
        f"corpora={{en: {bad}}}",
        f"probes=[{world / 'probes' / 'bo.en.jsonl'}]",
        f"out_dir={tmp_path / 'g'}",
        "retriever.kind=bm25",
    ]
    assert cli_main(args) == 2
    assert f"{bad}:2: malformed JSON" in capsys.readouterr().err
    with pytest.raises(DataError, match="does not exist"):
        run(_cfg(world, tmp_path / "h", f"corpora={{en: {tmp_path / 'missing.jsonl'}}}"))


def test_every_retrieval_preset_loads():
    presets = sorted((REPO / "configs" / "retrieval").glob("*.yaml"))
    assert presets
    for path in presets:
        FrequencyConfig.load(path)
