"""Tests of ``spanqa score``: the official scripts' files in, their numbers and key names out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from spanqa.cli import main
from spanqa.metrics import evaluate, evaluate_v1

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data folder {DATA} is absent")
    return DATA


def _write(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


GOLD = {
    "version": "v2.0",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "The Denver Broncos beat the Carolina Panthers.",
                    "qas": [
                        {"id": "q1", "answers": [{"text": "Denver Broncos", "answer_start": 4}]},
                        {"id": "q2", "answers": [{"text": "Carolina Panthers", "answer_start": 28}]},
                        {"id": "q3", "answers": [], "is_impossible": True},
                    ],
                }
            ],
        }
    ],
}  # fmt: skip
PREDICTIONS = {"q1": "the Broncos", "q2": "Panthers", "q3": ""}
# exact: 0, 0, 1; f1: 2/3 (P 1, R 1/2), 2/3, 1
NA_PROBS = {"q1": 0.2, "q2": 0.7, "q3": 0.9}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "data": _write(tmp_path / "dev.json", GOLD),
        "predictions": _write(tmp_path / "pred.json", PREDICTIONS),
        "na_probs": _write(tmp_path / "na.json", NA_PROBS),
    }


def test_json_output_is_the_scripts(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["score", "--data", str(files["data"]), "--predictions", str(files["predictions"]),
         "--na-probs", str(files["na_probs"]), "--json"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0
    scores = json.loads(out)
    assert out == json.dumps(scores, indent=2) + "\n"  # json.dumps(..., indent=2), as the script prints
    assert list(scores) == [
        "exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1",
        "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh",
    ]  # fmt: skip
    assert scores["exact"] == 100.0 / 3
    assert scores["f1"] == 100.0 * (2 / 3 + 2 / 3 + 1) / 3
    assert scores["total"] == 3
    # start 1 (q3); q1 (0.2) +2/3 -> 5/3; q2 (0.7) +2/3 -> 7/3; q3 (0.9) predicts "" -> +0.
    assert scores["best_f1"] == 100.0 * (1 + 2 / 3 + 2 / 3) / 3
    assert scores["best_f1_thresh"] == 0.7
    assert scores["best_exact"] == 100.0 / 3 and scores["best_exact_thresh"] == 0.0


def test_table_output_and_out_file(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "eval.json"
    status = main(
        ["score", "--data", str(files["data"]), "--predictions", str(files["predictions"]),
         "--na-probs", str(files["na_probs"]), "--na-prob-thresh", "0.5", "--out-file", str(out_file)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0
    expected = evaluate(files["data"], PREDICTIONS, NA_PROBS, na_prob_thresh=0.5)
    assert json.loads(out_file.read_text(encoding="utf-8")) == expected
    lines = captured.out.splitlines()
    assert lines[0] == f"SQuAD v2.0 scores of {files['predictions']} on {files['data']}"
    assert lines[1].split() == ["exact", "f1", "total"]
    # q2 (0.7) and q3 (0.9) exceed 0.5: q2 scores 0, q3 (NoAns) 1; q1 keeps 0 / 2/3.
    assert lines[2].split() == ["all", "33.33", f"{100 * (2 / 3 + 1) / 3:.2f}", "3"]
    assert lines[3].split() == ["HasAns", "0.00", f"{100 * (2 / 3) / 2:.2f}", "2"]
    assert lines[4].split() == ["NoAns", "100.00", "100.00", "1"]
    assert lines[5].split()[:3] == ["best", "33.33", f"{expected['best_f1']:.2f}"]
    assert "f1 0.7" in lines[5]
    assert captured.err == ""


def test_squad_v1(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = shared_data / "xquad.en.json"
    gold = json.loads(data.read_text(encoding="utf-8"))
    qas = [qa for article in gold["data"] for p in article["paragraphs"] for qa in p["qas"]]
    predictions = {qa["id"]: qa["answers"][0]["text"] for qa in qas[:1000]}
    predictions.update({qa["id"]: "zzz qqq" for qa in qas[1000:1100]})  # the last 90 are missing
    pred_file = _write(tmp_path / "pred.json", predictions)

    assert main(["score", "--data", str(data), "--predictions", str(pred_file), "--squad-v1", "--json"]) == 0
    captured = capsys.readouterr()
    scores = json.loads(captured.out)
    assert list(scores) == ["exact_match", "f1"]
    assert scores["exact_match"] == 100.0 * 1000 / 1190
    assert scores == evaluate_v1(data, predictions | {qa["id"]: "" for qa in qas[1100:]})
    assert (
        f"90 of 1190 questions have no prediction in {pred_file} and score 0: {qas[1100]['id']}"
        in captured.err
    )

    assert main(["score", "--data", str(data), "--predictions", str(pred_file), "--squad-v1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("SQuAD v1.1 scores")
    assert table[1].split() == ["exact_match", f"{scores['exact_match']:.2f}"]


def test_gold_answers_score_100_on_real_squad_v2(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = shared_data / "squad-v2-dev-small.json"
    gold = json.loads(data.read_text(encoding="utf-8"))
    qas = [qa for article in gold["data"] for p in article["paragraphs"] for qa in p["qas"]]
    pred_file = _write(
        tmp_path / "pred.json", {qa["id"]: (qa["answers"] or [{"text": ""}])[0]["text"] for qa in qas}
    )
    assert main(["score", "--data", str(data), "--predictions", str(pred_file), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert (scores["exact"], scores["f1"], scores["total"]) == (100.0, 100.0, 1292)
    assert (scores["HasAns_total"], scores["NoAns_total"]) == (712, 580)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": "absent.json"}, r"gold data file '.*absent\.json' does not exist"),
        ({"predictions": "absent.json"}, r"predictions file '.*absent\.json' does not exist"),
        ({"predictions": "[1, 2]"}, r"predictions file '.*bad\.json': predictions must map question ids"),
        (
            {"predictions": '{"q1": 3}'},
            r"predictions file '.*bad\.json': the prediction for 'q1' must be a string",
        ),
        ({"predictions": "{not json"}, r"predictions file '.*bad\.json' is not valid JSON"),
        (
            {"na_probs": '{"q1": "high"}'},
            r"no-answer probabilities file '.*bad\.json': .* of 'q1' must be a number",
        ),
        ({"na_probs": '{"q1": 0.5}'}, r"2 answered questions have no no-answer probability \('q2', 'q3'\)"),
        (
            {"data": '{"data": [{"paragraphs": [{}]}]}'},
            r"gold data file '.*bad\.json': article 0, paragraph 0: missing key 'qas'",
        ),
    ],
)
def test_bad_input_is_a_data_error_naming_the_file(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    message: str,
) -> None:
    paths = dict(files)
    for key, value in change.items():
        if value.endswith(".json"):
            paths[key] = tmp_path / value
        else:
            paths[key] = tmp_path / "bad.json"
            paths[key].write_text(value, encoding="utf-8")
    status = main(
        ["score", "--data", str(paths["data"]), "--predictions", str(paths["predictions"]),
         "--na-probs", str(paths["na_probs"])]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("spanqa score: error: ")
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_incompatible_options_are_config_errors(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["score", "--data", str(files["data"]), "--predictions", str(files["predictions"])]
    assert main([*base, "--squad-v1", "--na-probs", str(files["na_probs"])]) == 2
    assert "--na-probs applies to SQuAD v2.0 scoring" in capsys.readouterr().err
    assert main([*base, "--na-prob-thresh", "nan"]) == 2
    assert "--na-prob-thresh must be a number" in capsys.readouterr().err
    # v1.1 on SQuAD 2.0 data: the unanswerable question is named.
    assert main([*base, "--squad-v1"]) == 2
    assert "question 'q3' (1 in all) has no gold answer" in capsys.readouterr().err


def test_the_official_scripts_command_line_works_word_for_word(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``evaluate-v2.0.py DATA PRED --na-prob-file F --out-file F --na-prob-thresh T`` and its short flags."""
    expected = evaluate(files["data"], PREDICTIONS, NA_PROBS, na_prob_thresh=0.5)
    for flags in (["--na-prob-file", "--out-file", "--na-prob-thresh"], ["-n", "-o", "-t"]):
        out = tmp_path / f"eval{flags[0]}.json"
        argv = ["score", str(files["data"]), str(files["predictions"]), flags[0], str(files["na_probs"])]
        assert main([*argv, flags[1], str(out), flags[2], "0.5"]) == 0
        assert json.loads(out.read_text()) == expected
    capsys.readouterr()
    assert main(["score", str(files["data"]), str(files["predictions"]), "--data", str(files["data"])]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["score", str(files["data"])]) == 2
    assert "predictions file is missing" in capsys.readouterr().err


def test_answered_questions_missing_from_na_probs_are_fine_when_unanswered(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A question without a prediction needs no no-answer probability (it crashed with a KeyError)."""
    predictions = _write(tmp_path / "partial.json", {"q1": "Denver Broncos"})
    na_probs = _write(tmp_path / "partial-na.json", {"q1": 0.1})
    assert main(["score", str(files["data"]), str(predictions), "-n", str(na_probs), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["exact"] == pytest.approx(100 / 3) and scores["total"] == 3


def test_a_data_file_given_as_predictions_is_named_in_one_short_line(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = shared_data / "squad-v2-dev-small.json"
    assert main(["score", str(data), str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 400, err[:1000]
    assert "this is a SQuAD data file, not predictions" in err
