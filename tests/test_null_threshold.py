"""The null threshold spanqa tunes, saves and applies reproduces the best score it reports.

The reference here is independent of :mod:`spanqa.decode.threshold`: every candidate is tried by applying
"null iff null_score_diff > threshold" question by question, in plain Python, and scoring the texts with
the official-script implementation :func:`spanqa.metrics.evaluate`. Found as a new user: on a dev set whose
differences were all negative, tuning reported the all-null F1 at threshold 0.0, which predicts no null.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from model_factory import save_tiny_qa_model
from spanqa import QAFineTuner
from spanqa.cli import main
from spanqa.decode import DecodingConfig, NullThreshold, Prediction, SpanDecoder, tune_null_threshold
from spanqa.errors import ConfigError, DataError
from spanqa.features import EvalFeatures
from spanqa.metrics import evaluate
from spanqa.models import DECODING_CONFIG_FILE
from spanqa.plugins import make_plugin_manager
from spanqa.report import threshold_curve

PM = make_plugin_manager(load_entrypoints=False)


def prediction(example_id: str, best: str, diff: float | None) -> Prediction:
    return Prediction(example_id, "", None, None, 0.0, 0.5, True, diff, 0.0, 0.5, best)


def record(example_id: str, answers: list[str]) -> dict[str, Any]:
    return {
        "id": example_id,
        "context": "x",
        "question": "?",
        "answers": {"text": answers, "answer_start": [0] * len(answers)},
        "is_impossible": not answers,
    }


def scores_at(
    records: list[dict[str, Any]], predictions: dict[str, Prediction], threshold: float
) -> tuple[float, float]:
    """(EM, F1) predicting with ``threshold``, by the rule applied in plain Python and the official scorer."""
    texts = {}
    for key, p in predictions.items():
        assert p.null_score_diff is not None
        texts[key] = "" if p.null_score_diff > threshold else p.best_span_text
    metrics = evaluate(records, texts)
    return metrics["exact"], metrics["f1"]


def reference_best(records: list[dict[str, Any]], predictions: dict[str, Prediction]) -> tuple[float, float]:
    """The best (EM, F1) over thresholds just below and above every difference, and beyond all of them:
    each question scored once per outcome by the official scorer, then the rule applied per threshold."""
    outcomes = {}
    for item in records:
        key = item["id"]
        span = evaluate([item], {key: predictions[key].best_span_text})
        null = evaluate([item], {key: ""})
        outcomes[key] = ((span["exact"], span["f1"]), (null["exact"], null["f1"]))
    diffs = sorted({float(p.null_score_diff or 0.0) for p in predictions.values()} - {np.inf, -np.inf})
    best_exact = best_f1 = -1.0
    for threshold in [-1e9, 1e9] + [d + e for d in diffs for e in (-1e-7, 1e-7)]:
        exact = f1 = 0.0
        for key, (span, null) in outcomes.items():
            diff = predictions[key].null_score_diff
            assert diff is not None
            em_i, f1_i = null if diff > threshold else span
            exact += em_i
            f1 += f1_i
        best_exact, best_f1 = max(best_exact, exact / len(records)), max(best_f1, f1 / len(records))
    return best_exact, best_f1


def check(records: list[dict[str, Any]], predictions: dict[str, Prediction]) -> NullThreshold:
    tuned = tune_null_threshold(predictions, records)
    best_exact, best_f1 = reference_best(records, predictions)
    assert tuned.best_f1 == pytest.approx(best_f1) and tuned.best_exact == pytest.approx(best_exact)
    assert scores_at(records, predictions, tuned.best_f1_thresh)[1] == pytest.approx(tuned.best_f1)
    assert scores_at(records, predictions, tuned.best_exact_thresh)[0] == pytest.approx(tuned.best_exact)
    # Applied through the decoder (the saved config's way), the same F1.
    config = tuned.apply(DecodingConfig.squad_v2(plugin_manager=PM))
    applied = SpanDecoder(config, plugin_manager=PM).apply_null_threshold(predictions)
    metrics = evaluate(records, {key: p.text for key, p in applied.items()})
    assert metrics["f1"] == pytest.approx(tuned.best_f1)
    return tuned


def test_hand_computed_case() -> None:
    records = [record("a", ["Paris"]), record("b", []), record("c", ["blue sky"]), record("d", [])]
    predictions = {
        "a": prediction("a", "Paris", -3.0),
        "b": prediction("b", "London", 1.0),
        "c": prediction("c", "blue sky", 0.5),
        "d": prediction("d", "Rome", 2.0),
    }
    tuned = check(records, predictions)
    # Sorted differences -3, 0.5, 1, 2: between 0.5 and 1 'a' and 'c' answer, 'b' and 'd' are null.
    assert tuned == NullThreshold(
        best_f1_thresh=0.75, best_exact_thresh=0.75, best_f1=100.0, best_exact=100.0
    )


def test_all_negative_differences_keep_the_all_null_score() -> None:
    """The reported case: every difference negative and all-null best; 0.0 would predict no null at all."""
    records = [record("a", []), record("b", []), record("c", ["Paris"])]
    predictions = {
        "a": prediction("a", "London", -2.0),
        "b": prediction("b", "Rome", -1.0),
        "c": prediction("c", "Lyon", -0.5),
    }
    tuned = check(records, predictions)
    assert tuned.best_f1 == pytest.approx(200 / 3)
    assert tuned.best_f1_thresh < -2.0  # below every difference: every question null
    assert scores_at(records, predictions, 0.0)[1] == 0.0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_random_differences_with_ties_and_infinities(sign: float) -> None:
    rng = np.random.default_rng(7 if sign > 0 else 8)
    records, predictions = [], {}
    for i in range(60):
        answers = [] if rng.random() < 0.4 else ["alpha beta"]
        best = ["alpha beta", "alpha", "gamma"][int(rng.integers(3))]
        diff = sign * abs(float(np.round(rng.normal(2.0, 2.0), 1)))  # rounded: ties on purpose
        if i == 5:
            diff = np.inf  # no span at all: always null
        records.append(record(f"q{i}", answers))
        predictions[f"q{i}"] = prediction(f"q{i}", best, diff)
    check(records, predictions)


def test_tied_differences_switch_together() -> None:
    records = [record("a", ["x"]), record("b", []), record("c", ["y"])]
    predictions = {k: prediction(k, "x", 1.0) for k in "abc"}
    tuned = check(records, predictions)
    assert tuned.best_f1 == pytest.approx(100 / 3)  # all null (b right) or all 'x' (a right): a tie
    assert tuned.best_f1_thresh < 1.0  # the lowest threshold on a tie, as the official script


def test_errors_name_the_problem() -> None:
    records = [record("a", ["x"]), record("b", [])]
    with pytest.raises(ConfigError, match="has no null_score_diff"):
        tune_null_threshold(
            {k: attrs.evolve(prediction(k, "x", 0.0), null_score_diff=None) for k in "ab"}, records
        )
    with pytest.raises(DataError, match="needs a prediction for every gold question"):
        tune_null_threshold({"a": prediction("a", "x", 0.0)}, records)


def test_real_logits(data_dir: Path) -> None:
    from spanqa.data import load_records

    logits = np.load(data_dir / "xquad-en-minilm-logits.npz")
    records = load_records(data_dir / "xquad.en.json").records
    for item in records[::3]:
        item["answers"] = {"text": [], "answer_start": []}
        item["is_impossible"] = True
    contexts = {item["id"]: item["context"] for item in records}
    features = EvalFeatures.from_offsets(logits["offset_mapping"], list(logits["example_id"]), contexts)
    decoder = SpanDecoder(DecodingConfig.squad_v2(plugin_manager=PM), plugin_manager=PM)
    predictions = decoder.decode(logits["start_logits"], logits["end_logits"], features)
    records = [dict(item) for item in records]
    tuned = check(records, predictions)
    curve = threshold_curve(records, predictions, chosen=tuned.best_f1_thresh)
    assert curve is not None and curve.at(tuned.best_f1_thresh)[1] == pytest.approx(tuned.best_f1)
    assert curve.best_f1_threshold == tuned.best_f1_thresh
    # Shifted so every difference is negative (the demo model's case on SQuAD 2.0): still reproduced.
    largest = max(float(p.null_score_diff or 0.0) for p in predictions.values())
    shifted = {
        k: attrs.evolve(p, null_score_diff=float(p.null_score_diff or 0.0) - largest - 1)
        for k, p in predictions.items()
    }
    check(records, shifted)


def test_api_and_cli_save_the_same_threshold_and_answers(
    tokenizer_dirs: dict[str, Path], data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spanqa.data import load_records, write_squad

    dev = tmp_path / "dev.json"
    write_squad(load_records(data_dir / "squad-v2-dev-small.json").records[:40], dev)
    model = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "model", seed=3)
    window = {"max_seq_length": 96, "doc_stride": 24, "max_question_tokens": 24}
    flags = [x for k, v in window.items() for x in (f"--{k}", str(v))]

    predictions_file = tmp_path / "pred.json"
    argv = ["evaluate", "--model", str(model), "--data", str(dev), "--save_threshold", "--no_progress"]
    assert main([*argv, "--predictions_file", str(predictions_file), "--json", *flags]) == 0
    cli = json.loads(capsys.readouterr().out)
    saved = DecodingConfig.load(model / DECODING_CONFIG_FILE).null_threshold

    from spanqa.finetune import TrainingConfig

    config = TrainingConfig(
        output_dir=str(tmp_path / "out"), max_length=96, stride=24, max_question_tokens=24, progress=False
    )
    tuner = QAFineTuner(model, config=config, decoding=DecodingConfig.squad_v2())
    result = tuner.evaluate(dev)
    assert result.decoding.null_threshold == saved == cli["metrics"]["best_f1_thresh"]
    assert result.metrics["f1"] == pytest.approx(result.metrics["best_f1"])
    assert {k: p.text for k, p in result.predictions.items()} == json.loads(predictions_file.read_text())
