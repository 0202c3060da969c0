"""SQuAD metric cases found by mutation testing (``scripts/mutation_test.py metrics``).

Each test pins an output that a surviving mutant of :mod:`spanqa.metrics` changed while the rest of the
suite still passed: what an error message names (the record, the file, the argument), the file encoding
whatever the locale, and the unreadable-file branch. Expected values are written out by hand.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import spanqa.metrics
from spanqa.errors import ConfigError, DataError
from spanqa.metrics import (
    MissingPredictionWarning,
    best_thresholds,
    evaluate,
    evaluate_v1,
    load_gold,
    load_na_probs,
)

GOLD = [{"id": "a", "answers": {"text": ["Paris"], "answer_start": [0]}}]


# --------------------------------------------------------------------------------------------------------
# Flat records: the message names the record and the field
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "a"}, "records: record 0 ('a'): missing key 'answers'"),
        (
            {"id": "a", "answers": [{"answer_start": 0}]},
            "records: record 0 ('a'), answer: missing key 'text'",
        ),
        (
            {"id": "a", "answers": {"answer_start": [0]}},
            "records: record 0 ('a'), answers: missing key 'text'",
        ),
        (
            {"id": "a", "answers": {"text": [3]}},
            "records: record 0 ('a'), answers: every answer text must be a string, got 3",
        ),
    ],
)
def test_record_errors_name_the_record_and_the_field(record: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError) as raised:
        load_gold([record])
    assert str(raised.value) == message


# --------------------------------------------------------------------------------------------------------
# Files: read as UTF-8 whatever the locale; unreadable and missing files named
# --------------------------------------------------------------------------------------------------------

CAFE_GOLD = {"data": [{"id": "q", "answers": {"text": ["café noir"], "answer_start": [0]}}]}


def test_gold_files_are_utf8_in_an_ascii_locale(tmp_path: Path) -> None:
    """Under ``LC_ALL=C`` without UTF-8 mode the locale encoding is ASCII: an answer "café noir" must still
    be read as written (a locale-encoded read fails, or on Windows' cp1252 silently reads "cafÃ© noir")."""
    path = tmp_path / "gold.json"
    path.write_bytes(json.dumps(CAFE_GOLD, ensure_ascii=False).encode("utf-8"))
    assert load_gold(path).questions[0].answers == ("café noir",)
    # The spanqa being tested (possibly not the installed one) in a fresh interpreter with an ASCII locale.
    package_root = str(Path(spanqa.metrics.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "LC_ALL": "C",
        "LANG": "C",
        "PYTHONUTF8": "0",
        "PYTHONCOERCECLOCALE": "0",
        "PYTHONPATH": package_root + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PYTHONIOENCODING": "utf-8",
    }
    script = (
        "import locale, sys\n"
        "print(locale.getpreferredencoding(False), flush=True)\n"
        "from spanqa.metrics import load_gold\n"
        "print(load_gold(sys.argv[1]).questions[0].answers[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, timeout=120, check=False
    )
    lines = done.stdout.decode("utf-8").splitlines()
    if lines and lines[0].lower() not in {"ansi_x3.4-1968", "ascii", "us-ascii"}:
        pytest.skip(f"LC_ALL=C gives the locale encoding {lines[0]} here, not ASCII")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert lines[1:] == ["café noir"]


def test_an_undecodable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gold.json"
    path.write_bytes(b'{"data": [{"id": "q", "answers": {"text": ["caf\xe9"]}}]}')  # latin-1, not UTF-8
    with pytest.raises(DataError) as raised:
        load_gold(path)
    assert str(raised.value).startswith(f"gold data file {str(path)!r} cannot be read: ")
    assert "utf-8" in str(raised.value)


def test_a_missing_no_answer_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(DataError) as raised:
        load_na_probs(path)
    assert str(raised.value) == f"no-answer probabilities file {str(path)!r} does not exist"


# --------------------------------------------------------------------------------------------------------
# Arguments: the message names the argument that is wrong
# --------------------------------------------------------------------------------------------------------


def test_best_thresholds_names_the_wrong_argument() -> None:
    with pytest.raises(DataError) as raised:
        best_thresholds(GOLD, {"a": 1}, {"a": 0.5})  # type: ignore[dict-item]
    assert str(raised.value).startswith("predictions: the prediction for 'a' must be a string")
    with pytest.raises(DataError) as raised:
        best_thresholds(GOLD, {"a": "Paris"}, {"a": "high"})  # type: ignore[dict-item]
    assert str(raised.value).startswith("na_probs: the no-answer probability of 'a' must be a number")
    with pytest.raises(DataError) as raised:
        best_thresholds(GOLD, {"a": "Paris"}, {})
    assert str(raised.value) == "na_probs: 1 answered questions have no no-answer probability ('a')"


def test_evaluate_v1_names_the_wrong_argument_and_the_fix() -> None:
    with pytest.raises(DataError) as raised:
        evaluate_v1(GOLD, {"a": None})  # type: ignore[dict-item]
    assert str(raised.value).startswith("predictions: the prediction for 'a' must be a string")
    unanswerable = [{"id": "u", "answers": {"text": []}}]
    with pytest.raises(DataError) as raised:
        evaluate_v1(unanswerable, {"u": ""})
    assert str(raised.value) == (
        "records: question 'u' (1 in all) has no gold answer; SQuAD v1.1 scoring needs one per question "
        "(score SQuAD 2.0 data with evaluate())"
    )


def test_evaluate_scores_after_the_checks() -> None:
    """The argument checks leave valid input alone: 'Paris' is right, so 100 everywhere."""
    assert evaluate(GOLD, {"a": "Paris"})["f1"] == 100.0
    assert evaluate_v1(GOLD, {"a": "the Paris!"}) == {"exact_match": 100.0, "f1": 100.0}


def test_evaluate_names_the_wrong_argument() -> None:
    with pytest.raises(DataError) as raised:
        evaluate(GOLD, {"a": 1})  # type: ignore[dict-item]
    assert str(raised.value) == "predictions: the prediction for 'a' must be a string, got int 1"
    with pytest.raises(DataError) as raised:
        evaluate(GOLD, {"a": "Paris"}, {"a": None})  # type: ignore[dict-item]
    assert str(raised.value) == "na_probs: the no-answer probability of 'a' must be a number, got None"
    with pytest.raises(DataError) as raised:
        evaluate(GOLD, {"a": "Paris"}, {})
    assert str(raised.value) == "na_probs: 1 answered questions have no no-answer probability ('a')"
    with pytest.raises(ConfigError) as config_raised:
        evaluate(GOLD, {"a": "Paris"}, na_prob_thresh=math.nan)
    assert str(config_raised.value) == "na_prob_thresh must be a number, got NaN"


@pytest.mark.parametrize(
    ("predictions", "message"),
    [
        (["Paris"], "predictions: predictions must map question ids to answer texts, got list"),
        (
            {"version": "v2.0", "data": []},
            "predictions: this is a SQuAD data file, not predictions (a JSON object mapping question ids "
            "to answer texts); give the data file first and the predictions second",
        ),
        ({1: "Paris"}, "predictions: prediction keys must be question id strings, got 1"),
        ({"a": ["Paris"]}, "predictions: the prediction for 'a' must be a string, got list ['Paris']"),
    ],
)
def test_prediction_errors_show_what_was_given(predictions: Any, message: str) -> None:
    with pytest.raises(DataError) as raised:
        evaluate(GOLD, predictions)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("na_probs", "message"),
    [
        ([0.5], "na_probs: no-answer probabilities must map question ids to numbers, got list"),
        ({2: 0.5}, "na_probs: no-answer probability keys must be question id strings, got 2"),
        ({"a": "0.5"}, "na_probs: the no-answer probability of 'a' must be a number, got '0.5'"),
    ],
)
def test_no_answer_probability_errors_show_what_was_given(na_probs: Any, message: str) -> None:
    with pytest.raises(DataError) as raised:
        evaluate(GOLD, {"a": "Paris"}, na_probs)
    assert str(raised.value) == message


def test_squad_dict_errors_name_the_question() -> None:
    squad = {"data": [{"paragraphs": [{"qas": ["not a question"]}]}]}
    with pytest.raises(DataError) as raised:
        load_gold(squad)
    assert (
        str(raised.value) == "SQuAD dict: article 0, paragraph 0, question 0: expected a JSON object, got str"
    )


def test_duplicate_ids_are_refused_with_the_reason() -> None:
    with pytest.raises(DataError) as raised:
        load_gold([*GOLD, *GOLD])
    assert str(raised.value) == (
        "records: question id 'a' occurs more than once; predictions are keyed by id, so each question "
        "needs a unique one"
    )


# --------------------------------------------------------------------------------------------------------
# Lists of ids: five shown, then "..."
# --------------------------------------------------------------------------------------------------------


def _gold(n: int) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "answers": {"text": ["x"]}} for i in range(n)]


@pytest.mark.parametrize(
    ("n_absent", "listed"),
    [(5, "('q0', 'q1', 'q2', 'q3', 'q4')"), (6, "('q0', 'q1', 'q2', 'q3', 'q4', ...)")],
)
def test_missing_ids_are_listed_five_at_most(n_absent: int, listed: str) -> None:
    gold = [*_gold(n_absent), {"id": "last", "answers": {"text": ["x"]}}]
    with pytest.warns(MissingPredictionWarning) as warned:
        evaluate(gold, {"last": "x"})
    assert [str(w.message) for w in warned] == [
        f"{n_absent} of {n_absent + 1} questions of records have no prediction and score 0 {listed}"
    ]
    with pytest.raises(DataError) as raised:
        evaluate(gold, {f"q{i}": "x" for i in range(n_absent)} | {"last": "x"}, {"last": 0.0})
    assert (
        str(raised.value) == f"na_probs: {n_absent} answered questions have no no-answer probability {listed}"
    )


@pytest.mark.skipif(
    "MUTANT_UNDER_TEST" in os.environ, reason="under mutmut, its trampolines add stack frames"
)
def test_the_missing_prediction_warning_points_at_the_caller() -> None:
    with pytest.warns(MissingPredictionWarning) as warned:
        evaluate(_gold(2), {"q0": "x"})
    assert [Path(w.filename).resolve() for w in warned] == [Path(__file__).resolve()]


# --------------------------------------------------------------------------------------------------------
# The no-answer threshold of evaluate()
# --------------------------------------------------------------------------------------------------------


def test_the_default_no_answer_threshold_is_one() -> None:
    """As ``evaluate-v2.0.py --na-prob-thresh 1.0``: a value of 1.5 (a null-score difference, say) makes
    the question predicted unanswerable, so the right answer 'Paris' scores 0."""
    scores = evaluate(GOLD, {"a": "Paris"}, {"a": 1.5})
    assert (scores["exact"], scores["f1"]) == (0.0, 0.0)
    assert evaluate(GOLD, {"a": "Paris"}, {"a": 1.0})["exact"] == 100.0  # not greater: answered


def test_the_threshold_applies_after_an_unanswered_question() -> None:
    gold = [
        {"id": "missing", "answers": {"text": ["x"]}},
        {"id": "has", "answers": {"text": ["Paris"]}},
        {"id": "none", "answers": {"text": []}},
    ]
    with pytest.warns(MissingPredictionWarning):
        scores = evaluate(
            gold, {"has": "Paris", "none": "Rome"}, {"has": 0.9, "none": 0.9}, na_prob_thresh=0.5
        )
    # 'missing' scores 0; 'has' is made null (wrong: 0); 'none' is made null (right: 1).
    assert scores["exact"] == 100.0 / 3
    assert scores["HasAns_exact"] == 0.0
    assert scores["NoAns_exact"] == 100.0


# --------------------------------------------------------------------------------------------------------
# Where the gold data came from: GoldSet.source, and the malformed-structure messages
# --------------------------------------------------------------------------------------------------------


def test_each_kind_of_gold_source_is_named(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"data": GOLD}), encoding="utf-8")
    assert load_gold(path).source == f"gold data file {str(path)!r}"
    assert load_gold({"data": GOLD}).source == "SQuAD dict"
    assert load_gold(GOLD).source == "records"


@pytest.mark.parametrize(
    ("gold", "message"),
    [
        ([3], "records: entry 0: expected a JSON object, got int"),
        ([{"id": 1.5, "answers": []}], "records: record 0: 'id' must be a string or an integer, got 1.5"),
        (
            [{"id": "a", "answers": ["Paris"]}],
            "records: record 0 ('a'), answer: expected a JSON object, got str",
        ),
        (
            {"data": [{"paragraphs": [{"qas": [{"id": "q"}]}]}]},
            "SQuAD dict: question 'q': missing key 'answers'",
        ),
        (42, "gold data must be a path, a SQuAD dict, or flat records, got int"),
    ],
)
def test_malformed_gold_is_named_where_it_is_wrong(gold: Any, message: str) -> None:
    with pytest.raises(DataError) as raised:
        load_gold(gold)
    assert str(raised.value) == message


def test_a_gold_file_without_data_is_named(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"version": "v2.0"}), encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_gold(path)
    assert str(raised.value) == f"gold data file {str(path)!r}: missing key 'data'"
