"""Multiple-choice probe sets (`kind: mc`): CLIcK-, KMMLU- and BLEnD-like layouts through a
field mapping, the blank convention, errors that name file, line and field, and lint-probes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from bridgelab.cli import main as cli_main
from bridgelab.config import config_hash
from bridgelab.contracts.probe_sets import _BLANK_RE, check_aligned
from bridgelab.errors import ConfigError, DataError
from bridgelab.probes.config import ProbeConfig, ProbeSetConfig
from bridgelab.probes.lint import BLANK_RE, lint
from bridgelab.probes.units import load_sets

# CLIcK's layout: id, paragraph, question, choices (a list), answer (the option's text)
CLICK = [
    {"id": "click-1", "paragraph": "", "question": "한국의 수도는?", "choices": ["서울", "부산", "대구", "광주"], "answer": "서울"},  # noqa: E501
    {"id": "click-2", "paragraph": "", "question": "설날에 먹는 음식은 ___ 이다.", "choices": ["떡국", "송편", "냉면", "팥죽"], "answer": "떡국"},  # noqa: E501
]  # fmt: skip
# KMMLU's layout: question, A, B, C, D, answer (1-4)
KMMLU = [
    ["question", "A", "B", "C", "D", "answer", "Category"],
    ["조선을 세운 사람은?", "이성계", "왕건", "주몽", "온조", "1", "history"],
    ["한글을 만든 왕은?", "태조", "세종", "정조", "영조", "2", "history"],
]


def _sc(path: Path, fields: dict, **kw) -> ProbeSetConfig:
    data = {"kind": "mc", "path": str(path), "langs": ["ko"], "question_langs": ["native"],
            "fields": fields, **kw}  # fmt: skip
    return ProbeSetConfig.from_dict(data)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_click_layout_options_as_a_list_answer_as_text(tmp_path):
    path = _jsonl(tmp_path / "click.jsonl", CLICK)
    s = _sc(path, {"options": ["choices"], "answer_is": "text", "id": "id"}).load("ko", "ko")
    assert s.name == "mc.click:ko.ko" and s.culture_lang == "ko" and s.question_lang == "ko"
    first, second = s.items
    # no blank: " ___" appended (the paper's convention); a question with a blank is kept
    assert first.question == "한국의 수도는? ___" and second.question == CLICK[1]["question"]
    assert first.options == ("서울", "부산", "대구", "광주") and first.answer == "서울"
    assert first.id == "click-1" and first.culture == "Korean" and first.lang == "ko"
    assert not lint(s.items).issues  # no no_blank defect left for the scorers' policy


def test_kmmlu_layout_option_columns_answer_as_one_based_index(tmp_path):
    path = _csv(tmp_path / "kmmlu.csv", KMMLU)
    fields = {"options": ["A", "B", "C", "D"], "answer_is": "index", "index_base": 1}
    s = _sc(path, fields, name="kmmlu_history", culture="Korean history").load("ko", "ko")
    assert [it.answer for it in s.items] == ["이성계", "세종"]
    assert [it.id for it in s.items] == ["kmmlu_history-0000", "kmmlu_history-0001"]
    assert s.items[1].options == ("태조", "세종", "정조", "영조")
    assert {it.culture for it in s.items} == {"Korean history"}


def test_letter_answers_mapping_options_and_a_language_column_pair_by_id(tmp_path):
    """BLEnD-like: choices as a JSON letter->text mapping, answers as letters, English and
    native rows in one file, paired by an id column."""
    rows = [
        {"MCQID": "q1", "lang": "en", "prompt": "Koreans eat ___ on New Year.",
         "choices": json.dumps({"A": "tteokguk", "B": "pizza", "C": "sushi", "D": "tacos"}),
         "answer_idx": "A", "country": "South Korea"},
        {"MCQID": "q1", "lang": "ko", "prompt": "한국인은 설날에 ___ 을 먹는다.",
         "choices": json.dumps({"A": "떡국", "B": "피자", "C": "초밥", "D": "타코"}, ensure_ascii=False),
         "answer_idx": "(a)", "country": "South Korea"},
    ]  # fmt: skip
    path = tmp_path / "blend.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    fields = {"question": "prompt", "options": ["choices"], "answer": "answer_idx",
              "answer_is": "letter", "language": "lang", "id": "MCQID", "culture": "country"}  # fmt: skip
    sc = _sc(path, fields, question_langs=["en", "native"])
    en, ko = sc.load("ko", "en"), sc.load("ko", "ko")
    assert en.items[0].answer == "tteokguk" and ko.items[0].answer == "떡국"
    assert en.items[0].culture == "South Korea" and ko.items[0].lang == "ko"
    check_aligned(ko, en)
    cfg = ProbeConfig.from_dict({"probe_sets": [sc.to_dict()]})
    assert [s.name for s in load_sets(cfg)] == ["mc.blend:ko.en", "mc.blend:ko.ko"]


def test_parquet_with_zero_based_index(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "set.parquet"
    table = pa.table({"q": ["The capital is ___."], "opts": [["Seoul", "Busan"]], "gold": [1]})
    pq.write_table(table, path)
    fields = {"question": "q", "options": ["opts"], "answer": "gold", "answer_is": "index"}
    (it,) = _sc(path, fields).load("ko", "ko").items
    assert it.answer == "Busan" and it.options == ("Seoul", "Busan")


def test_keep_leaves_the_blank_missing_for_the_linter(tmp_path):
    path = _jsonl(tmp_path / "click.jsonl", CLICK)
    fields = {"options": ["choices"], "no_blank": "keep"}
    s = _sc(path, fields).load("ko", "ko")
    assert s.items[0].question == "한국의 수도는?"
    assert [i.kind for i in lint(s.items).issues if i.item_id == s.items[0].id] == ["no_blank"]


def test_appended_blank_scores_as_the_append_policy_and_paper_exact_can_rank():
    from bridgelab.probes.scoring import context_before_blank, fill_sentence

    assert _BLANK_RE.pattern == BLANK_RE.pattern  # the loader's blank is the linter's
    q = "한국의 수도는?"
    appended = f"{q} ___"
    assert fill_sentence(appended, "서울") == fill_sentence(q, "서울")  # paper, loglik: same
    assert context_before_blank(appended) == context_before_blank(q)
    # paper_exact (exact=True) scores a question without a blank unchanged: every option ties
    assert fill_sentence(q, "서울", exact=True) == q
    assert fill_sentence(appended, "서울", exact=True) == f"{q} 서울"


@pytest.mark.parametrize(
    "name, content, fields, message",
    [
        ("click.jsonl", CLICK[0] | {"answer": None}, {"options": ["choices"]},
         r"click.jsonl:2: missing field 'answer' \(fields.answer; columns: id, paragraph"),
        ("click.jsonl", {k: v for k, v in CLICK[0].items() if k != "choices"},
         {"options": ["choices"]}, r"click.jsonl:2: missing field 'choices' \(fields.options"),
        ("kmmlu.csv", None, {"options": ["A", "B", "C", "D", "E"], "answer_is": "index"},
         r"kmmlu.csv:2: missing field 'E' \(fields.options\)"),
        ("kmmlu.csv", None, {"options": ["A", "B", "C", "D"], "answer_is": "index"},
         r"kmmlu.csv:3: field 'answer' \(fields.answer\) = '4' is not an option index 0..3"),
        ("kmmlu.csv", None, {"options": ["A", "B", "C", "D"], "answer_is": "letter"},
         r"kmmlu.csv:2: .*'1' is not one of the option letters A, B, C, D"),
        ("click.jsonl", CLICK[0] | {"choices": "서울, 부산"}, {"options": ["choices"]},
         r"click.jsonl:2: field 'choices' \(fields.options\) is text but not a JSON list"),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_field(tmp_path, name, content, fields, message):
    if name.endswith(".csv"):
        rows = [r[:] for r in KMMLU]
        rows[2][5] = "4"  # 1-based "4" read as 0-based: out of range for the second row
        path = _csv(tmp_path / name, rows)
        if fields.get("answer_is") == "letter":
            path = _csv(tmp_path / name, KMMLU)
    else:
        path = _jsonl(tmp_path / name, [CLICK[1], content])
    with pytest.raises(DataError, match=message):
        _sc(path, fields).load("ko", "ko")


def test_language_column_without_matching_rows_lists_the_values(tmp_path):
    path = _jsonl(tmp_path / "x.jsonl", [CLICK[0] | {"lang": "kor"}])
    sc = _sc(path, {"options": ["choices"], "language": "lang"})
    with pytest.raises(DataError, match=r"x.jsonl: no row has lang = 'ko' \(values: kor\)"):
        sc.load("ko", "ko")


def test_config_checks():
    with pytest.raises(ConfigError, match="langs: an mc set is one culture's"):
        ProbeSetConfig.from_dict({"kind": "mc", "path": "a.csv", "langs": ["ko", "zh"]})
    with pytest.raises(ConfigError, match="several languages from one mc file need"):
        ProbeSetConfig.from_dict({"kind": "mc", "path": "a.csv", "langs": ["ko"]})
    with pytest.raises(ConfigError, match="path: an mc table must end in"):
        ProbeSetConfig.from_dict(
            {"kind": "mc", "path": "a.xlsx", "langs": ["ko"], "question_langs": ["native"]}
        )
    with pytest.raises(ConfigError, match="fields.answer_is"):
        ProbeSetConfig.from_dict(
            {"kind": "mc", "path": "a.csv", "langs": ["ko"], "fields": {"answer_is": "number"}}
        )


def test_sets_of_other_kinds_keep_their_config_hash():
    """The mc keys are left out of other kinds' sets, so every probe run made before them keeps
    its config hash (a changed hash would refuse the finished folder as "another config")."""
    repo = Path(__file__).resolve().parents[1]
    cfg = ProbeConfig.load(repo / "configs" / "probes" / "demo.yaml")
    for entry in cfg.to_dict()["probe_sets"]:
        assert set(entry) == {"kind", "path", "langs", "question_langs"}
    again = ProbeConfig.from_dict(cfg.to_dict())
    assert again == cfg and config_hash(again) == config_hash(cfg)
    mc = ProbeConfig.from_dict(
        {"probe_sets": [{"kind": "mc", "path": "a.csv", "langs": ["ko"], "question_langs": ["en"]}]}
    )
    assert "fields" in mc.to_dict()["probe_sets"][0]


def test_lint_probes_lints_the_sets_of_a_probe_config(tmp_path, capsys):
    rows = [r[:] for r in KMMLU]
    rows[2][3] = rows[2][2]  # a duplicate option: a defect
    path = _csv(tmp_path / "kmmlu.csv", rows)
    config = tmp_path / "probes.yaml"
    sets = [{"kind": "mc", "path": str(path), "langs": ["ko"], "question_langs": ["native"],
             "fields": {"options": ["A", "B", "C", "D"], "answer_is": "index", "index_base": 1}}]  # fmt: skip
    config.write_text(yaml.safe_dump({"probe_sets": sets}, allow_unicode=True), "utf-8")
    assert cli_main(["lint-probes", "--config", str(config), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "mc.kmmlu:ko.ko" in out and "duplicate_options" in out and "1 sets, 1 defects" in out
    # overrides after --config, as in every config stage: the first row alone is clean
    rows[2][3] = "정조"
    _csv(path, rows)
    assert cli_main(["lint-probes", "-c", str(config), "--strict"]) == 0
    assert cli_main(["lint-probes", "-c", str(config), "probe_sets=[]"]) == 0
    assert "0 sets" in capsys.readouterr().out.splitlines()[-1]
    # a folder of such tables, given as a PATH, is listed as skipped with the hint
    assert cli_main(["lint-probes", str(tmp_path), "--strict"]) == 1
    assert "lint it with --config: kind mc" in capsys.readouterr().out


def test_probe_scores_mc_sets_end_to_end(tmp_path):
    """`bridgelab probe` scores an mc set like any other (paper_exact included: the appended
    blank lets it rank the options instead of tying them all)."""
    from bridgelab.probes import evaluate
    from tests.test_probes_scoring import build_checkpoint

    click = _jsonl(tmp_path / "click.jsonl", CLICK)
    kmmlu = _csv(tmp_path / "kmmlu.csv", KMMLU)
    ckpt = build_checkpoint(tmp_path / "ckpt", 0)
    data = {
        "out_dir": str(tmp_path / "probes"), "device": "cpu", "null_model": False,
        "scorers": ["paper", "paper_exact", "loglik"],
        "checkpoints": [{"path": str(ckpt), "run": "base", "setting": "base", "step": 0}],
        "probe_sets": [
            {"kind": "mc", "path": str(click), "langs": ["ko"], "question_langs": ["native"],
             "fields": {"options": ["choices"], "id": "id"}},
            {"kind": "mc", "path": str(kmmlu), "langs": ["ko"], "question_langs": ["native"],
             "fields": {"options": ["A", "B", "C", "D"], "answer_is": "index", "index_base": 1}},
        ],
    }  # fmt: skip
    out = evaluate.run(ProbeConfig.from_dict(data))
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["probe_set"] for r in rows} == {"mc.click:ko.ko", "mc.kmmlu:ko.ko"}
    assert len(rows) == (2 + 2) * 3 and not any(r["flags"] for r in rows)
    assert {r["item_id"] for r in rows} >= {"click-1", "kmmlu-0000"}

    def exact_scores(rows: list[dict]) -> list[float]:
        (row,) = [r for r in rows if r["scorer"] == "paper_exact" and r["item_id"] == "click-1"]
        return row["scores"]

    assert len(set(exact_scores(rows))) > 1  # click-1 had no blank: with it appended, ranked
    data["out_dir"], data["scorers"] = str(tmp_path / "kept"), ["paper_exact"]
    data["probe_sets"] = data["probe_sets"][:1]
    data["probe_sets"][0]["fields"]["no_blank"] = "keep"
    out = evaluate.run(ProbeConfig.from_dict(data))
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(set(exact_scores(rows))) == 1  # kept without a blank: every option ties
