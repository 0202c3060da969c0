"""The evaluation report: its numbers (threshold curve, calibration, lengths), its files, and
``spanqa evaluate --report``.

The numbers are checked against hand-computed values on tiny inputs and against the official-script
threshold search on real MiniLM logits (XQuAD-en, a third of the questions made unanswerable); the pictures
are checked to be real PNGs (they were looked at while writing this module) and the error page to
highlight the right characters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_factory import save_tiny_qa_model
from spanqa.cli import main
from spanqa.data import load_records, write_squad
from spanqa.decode import DecodingConfig, Prediction, SpanDecoder, tune_null_threshold
from spanqa.errors import ConfigError, DataError
from spanqa.features import EvalFeatures
from spanqa.metrics import evaluate
from spanqa.plugins import make_plugin_manager
from spanqa.report import (
    QuestionScores,
    answer_lengths,
    calibration_table,
    question_scores,
    threshold_curve,
    write_report,
)

PM = make_plugin_manager(load_entrypoints=False)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _record(example_id: str, context: str, answers: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "id": example_id,
        "title": "t",
        "context": context,
        "question": f"question {example_id}?",
        "answers": {"text": [t for t, _ in answers], "answer_start": [s for _, s in answers]},
        "is_impossible": not answers,
    }


def _prediction(
    example_id: str, context: str, span: tuple[int, int] | None, diff: float | None, best: str = ""
) -> Prediction:
    text = "" if span is None else context[span[0] : span[1]]
    return Prediction(
        example_id=example_id,
        text=text,
        start=None if span is None else span[0],
        end=None if span is None else span[1],
        score=1.0,
        probability=0.5,
        is_null=span is None and diff is not None,
        null_score_diff=diff,
        best_span_text=best or text,
    )


CONTEXT = "The cat sat on the mat in Paris."


@pytest.fixture()
def small_v2() -> tuple[list[dict[str, Any]], dict[str, Prediction]]:
    """Three questions: two answerable, one not, with null-score diffs -1, 0 and 2."""
    records = [
        _record("a", CONTEXT, [("the mat", 15)]),
        _record("b", CONTEXT, [("Paris", 26)]),
        _record("c", CONTEXT, []),
    ]
    predictions = {
        "a": _prediction("a", CONTEXT, (15, 22), -1.0),  # right span
        "b": _prediction("b", CONTEXT, (19, 31), 0.0),  # "mat in Paris": F1 0.5 vs "Paris"
        "c": _prediction("c", CONTEXT, None, 2.0, best="cat"),  # null predicted, best span "cat"
    }
    return records, predictions


def test_threshold_curve_matches_hand_computed_scores(
    small_v2: tuple[list[dict[str, Any]], dict[str, Prediction]],
) -> None:
    records, predictions = small_v2
    curve = threshold_curve(records, predictions, chosen=1.0)
    assert curve is not None
    # Below -1 everything is null (only c right); from -1 a answers; from 0 b answers (F1 0.5); from 2 c
    # answers "cat" and loses its point. The candidates lie 1.0 beyond the ends and halfway between.
    np.testing.assert_allclose(curve.thresholds, [-2.0, -0.5, 1.0, 3.0])
    np.testing.assert_allclose(curve.differences, [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(curve.exact, np.array([1, 2, 2, 1]) * 100 / 3)
    np.testing.assert_allclose(curve.f1, np.array([1, 2, 2.5, 1.5]) * 100 / 3)
    assert curve.best_f1_threshold == 1.0
    assert curve.at(1.0) == pytest.approx((200 / 3, 250 / 3))
    assert curve.at(0.0) == pytest.approx((200 / 3, 250 / 3))  # a difference equal to t keeps its span
    assert curve.at(-5.0) == pytest.approx((100 / 3, 100 / 3))


def test_threshold_curve_is_none_without_null_scores() -> None:
    records = [_record("a", CONTEXT, [("the mat", 15)])]
    assert threshold_curve(records, {"a": _prediction("a", CONTEXT, (15, 22), None)}) is None


def test_calibration_table_bins_probabilities_against_exact_match() -> None:
    scores = QuestionScores(
        exact=np.array([1.0, 0.0, 1.0, 1.0]),
        f1=np.array([1.0, 0.2, 1.0, 1.0]),
        probability=np.array([0.05, 0.15, 0.95, 1.0]),
    )
    table = calibration_table(scores, bins=10)
    assert table.count.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table.accuracy[0] == 1.0 and table.accuracy[1] == 0.0 and np.isnan(table.accuracy[5])
    assert table.mean_probability[9] == pytest.approx(0.975)
    # |0.05 - 1| + |0.15 - 0| + 2 * |0.975 - 1|, over 4 questions
    assert table.expected_calibration_error == pytest.approx((0.95 + 0.15 + 0.05) / 4)
    with pytest.raises(ConfigError, match="bins"):
        calibration_table(scores, bins=0)


def test_answer_lengths_count_words_and_null_as_zero(
    small_v2: tuple[list[dict[str, Any]], dict[str, Prediction]],
) -> None:
    records, predictions = small_v2
    gold, predicted = answer_lengths(records, predictions)
    assert gold.tolist() == [2, 1]  # the unanswerable question has no gold length
    assert predicted.tolist() == [2, 3, 0]


def test_a_record_without_prediction_is_named(
    small_v2: tuple[list[dict[str, Any]], dict[str, Prediction]], tmp_path: Path
) -> None:
    records, predictions = small_v2
    del predictions["b"]
    with pytest.raises(DataError, match="'b'"):
        question_scores(records, predictions)
    with pytest.raises(DataError, match="'b'"):
        write_report(tmp_path / "r", records, predictions)


def test_write_report_writes_every_file_and_highlights_spans(
    small_v2: tuple[list[dict[str, Any]], dict[str, Prediction]], tmp_path: Path
) -> None:
    records, predictions = small_v2
    records[1]["context"] = records[1]["context"].replace("cat", "<b>")  # must be escaped, same length
    predictions["b"] = _prediction("b", records[1]["context"], (19, 31), 0.0)
    files = write_report(tmp_path / "report", records, predictions, metrics={"f1": 50.0}, null_threshold=1.0)
    for picture in (files.null_threshold_plot, files.answer_lengths_plot, files.calibration_plot):
        assert picture is not None and picture.read_bytes().startswith(PNG_MAGIC)
    summary = json.loads(files.metrics.read_text())
    assert summary["metrics"] == {"f1": 50.0}
    assert summary["questions"] == 3 and summary["errors"] == 1  # only b is not exact
    assert summary["null_threshold"] == 1.0 and summary["best_f1_threshold_on_curve"] == 1.0
    page = files.errors_page.read_text(encoding="utf-8")
    assert 'id="b"' in page and 'id="a"' not in page and 'id="c"' not in page
    assert "&lt;b&gt;" in page and "<b>" not in page.split('id="b"')[1].split("context")[1]
    # gold "Paris" lies inside the predicted "mat in Paris": "mat in " predicted only, "Paris" both
    assert '<mark class="pred">mat in </mark><mark class="both">Paris</mark>' in page


def test_write_report_without_null_scores_skips_the_threshold_plot(tmp_path: Path) -> None:
    records = [_record("a", CONTEXT, [("the mat", 15)]), _record("b", CONTEXT, [("Paris", 26)])]
    predictions = {
        "a": _prediction("a", CONTEXT, (4, 7), None),
        "b": _prediction("b", CONTEXT, (26, 31), None),
    }
    files = write_report(tmp_path, records, predictions, max_errors=0)
    assert files.null_threshold_plot is None and not (tmp_path / "null_threshold.png").exists()
    page = files.errors_page.read_text(encoding="utf-8")
    assert "1 of 2 questions not answered exactly; the 0 worst are shown (1 omitted)" in page
    with pytest.raises(ConfigError, match="max_errors"):
        write_report(tmp_path, records, predictions, max_errors=-1)


def test_missing_matplotlib_is_a_clear_config_error(
    small_v2: tuple[list[dict[str, Any]], dict[str, Prediction]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, predictions = small_v2
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an absent package looks like to import
    with pytest.raises(ConfigError, match=r"spanqa\[report\]"):
        write_report(tmp_path / "r", records, predictions)
    assert not (tmp_path / "r").exists()


def test_real_logits_curve_agrees_with_the_official_threshold_search(data_dir: Path, tmp_path: Path) -> None:
    logits = np.load(data_dir / "xquad-en-minilm-logits.npz")
    records = load_records(data_dir / "xquad.en.json").records
    for record in records[::3]:
        record["answers"] = {"text": [], "answer_start": []}
        record["is_impossible"] = True
    contexts = {record["id"]: record["context"] for record in records}
    features = EvalFeatures.from_offsets(logits["offset_mapping"], list(logits["example_id"]), contexts)
    decoder = SpanDecoder(DecodingConfig.squad_v2(plugin_manager=PM), plugin_manager=PM)
    predictions = decoder.decode(logits["start_logits"], logits["end_logits"], features)
    tuned = tune_null_threshold(predictions, records)
    config = DecodingConfig.squad_v2(plugin_manager=PM).with_null_threshold(tuned.best_f1_thresh)
    predictions = SpanDecoder(config, plugin_manager=PM).apply_null_threshold(predictions)
    metrics = evaluate(records, {key: p.text for key, p in predictions.items()})

    curve = threshold_curve(records, predictions, chosen=tuned.best_f1_thresh)
    assert curve is not None
    assert curve.f1.max() == pytest.approx(tuned.best_f1)
    assert curve.exact.max() == pytest.approx(tuned.best_exact)
    assert curve.best_f1_threshold == pytest.approx(tuned.best_f1_thresh)
    assert curve.at(tuned.best_f1_thresh) == pytest.approx((metrics["exact"], metrics["f1"]))

    files = write_report(tmp_path, records, predictions, metrics=metrics, null_threshold=tuned.best_f1_thresh)
    summary = json.loads(files.metrics.read_text())
    scores = question_scores(records, predictions)
    assert summary["errors"] == int((scores.exact < 1).sum())
    assert 100 * scores.exact.mean() == pytest.approx(metrics["exact"])
    assert 100 * scores.f1.mean() == pytest.approx(metrics["f1"])
    assert files.errors_page.read_text(encoding="utf-8").count('<div class="entry"') == 200


def test_evaluate_command_writes_the_report(
    tokenizer_dirs: dict[str, Path], data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "tiny")
    dev = tmp_path / "dev.json"
    write_squad(load_records(data_dir / "squad-v2-dev-small.json").records[:24], dev)
    small = ["--max_seq_length", "96", "--doc_stride", "24", "--max_question_tokens", "24", "--no_progress"]
    report = tmp_path / "report"
    args = ["evaluate", "--model", str(model), "--data", str(dev), "--report", str(report), *small]
    assert main([*args, "--report_max_errors", "5"]) == 0
    assert f"report written to {report}" in capsys.readouterr().out
    names = {"metrics.json", "null_threshold.png", "answer_lengths.png", "calibration.png", "errors.html"}
    assert names <= {path.name for path in report.iterdir()}
    summary = json.loads((report / "metrics.json").read_text())
    assert summary["questions"] == 24 and summary["metrics"]["total"] == 24
    assert (report / "errors.html").read_text(encoding="utf-8").count('<div class="entry"') <= 5

    assert main([*args, "--report_max_errors", "-1"]) == 2
    assert "--report_max_errors must be >= 0" in capsys.readouterr().err
