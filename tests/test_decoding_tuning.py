"""Decoding chosen on held-out questions (issue #21): the split, the grid, the choice, and that the reported
data is never tuned on; with tiny real models, scored independently of the tuning code."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from model_factory import save_tiny_qa_model
from spanqa import ConfigError
from spanqa.cli import main
from spanqa.data import load_records, split_by_context
from spanqa.decode import DecodingConfig, DecodingGrid, SpanDecoder
from spanqa.finetune import MIN_TUNING_QUESTIONS, QAFineTuner, TrainingConfig
from spanqa.inference import predict_records
from spanqa.metrics import evaluate as squad_evaluate
from spanqa.models import DECODING_CONFIG_FILE, DECODING_TUNING_FILE, UntrainedHeadWarning
from spanqa.reader import Reader

WINDOW = {"max_length": 128, "stride": 32, "max_question_tokens": 40}


def _config(tmp_path: Path, **overrides: Any) -> TrainingConfig:
    options: dict[str, Any] = {
        "output_dir": str(tmp_path / "run"),
        "num_train_epochs": 1.0,
        "learning_rate": 5e-3,
        "per_device_train_batch_size": 16,
        "per_device_eval_batch_size": 32,
        "logging_steps": 50,
        "progress": False,
        **WINDOW,
    }
    options.update(overrides)
    return TrainingConfig(**options)


@pytest.fixture(scope="module")
def xquad_records(data_dir: Path) -> list[Any]:
    return load_records(data_dir / "xquad.en.json").records


@pytest.fixture(scope="module")
def tiny_model(tokenizer_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path_factory.mktemp("tiny") / "m")


def _tuner(model: Path, tmp_path: Path, **kwargs: Any) -> QAFineTuner:
    config = kwargs.pop("config", None) or _config(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return QAFineTuner(model, config=config, **kwargs)


def _independent_scores(
    tuner: QAFineTuner, config: DecodingConfig, records: list[Any]
) -> tuple[float, float]:
    """EM/F1 of one decoding on ``records``: its own forward pass, scored by spanqa.metrics."""
    predictions = predict_records(tuner.model, tuner.aligner, SpanDecoder(config), records, batch_size=32)
    metrics = squad_evaluate(records, {key: p.text for key, p in predictions.items()})
    return float(metrics["exact"]), float(metrics["f1"])


def test_split_by_context_keeps_every_context_on_one_side(xquad_records: list[Any]) -> None:
    records = xquad_records[:300]
    kept, held = split_by_context(records, 60, seed=3)
    assert len(held) >= 60 and len(kept) + len(held) == len(records)
    assert not {r["context"] for r in kept} & {r["context"] for r in held}
    ids = [r["id"] for r in records]
    assert [r["id"] for r in kept] == [i for i in ids if i in {r["id"] for r in kept}]  # order kept
    assert split_by_context(records, 60, seed=3) == (kept, held)
    assert split_by_context(records, 60, seed=4)[1] != held


def test_grid_starts_with_the_base_decoding_and_a_given_value_fixes_its_dimension() -> None:
    base = DecodingConfig.squad_v1(max_answer_length=30)
    configs = DecodingGrid().configs(base)
    assert len(configs) == 24 and configs[0] == base
    assert {c.max_answer_length for c in configs} == {10, 15, 20, 30, 40, 50}
    fixed = DecodingGrid(max_answer_lengths=(7,), same_text=(True,)).configs(base)
    assert [(c.max_answer_length, "same-text" in c.strategies) for c in fixed] == [(7, True), (7, True)]
    assert {"null-relative" in c.strategies for c in fixed} == {False, True}
    with pytest.raises(ConfigError, match="max_answer_lengths"):
        DecodingGrid(max_answer_lengths=(0,))


def test_training_holds_out_whole_contexts_and_keeps_the_decoding_that_scores_best_there(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    train, reported = xquad_records[:300], xquad_records[300:360]
    tuner = _tuner(
        tiny_model, tmp_path, train_data=train, eval_data=reported, config=_config(tmp_path, tuning_size=300)
    )
    assert tuner.tuning_data is not None and tuner.train_data is not None
    held, kept = tuner.tuning_data.records, tuner.train_data.records
    assert len(held) >= MIN_TUNING_QUESTIONS and len(held) + len(kept) == 300
    assert not {r["context"] for r in held} & {r["context"] for r in kept}
    assert not {r["id"] for r in held} & {r["id"] for r in reported}

    tuner.train()
    choice = tuner.decoding_choice
    assert choice is not None and tuner.decoding == choice.decoding
    assert choice.questions == len(held) and "held-out training questions" in choice.source
    assert len(choice.scores) == 24
    # Every score of the grid, recomputed with its own forward pass and the metrics; the choice is the best.
    for score in choice.scores:
        assert _independent_scores(tuner, score.decoding, held) == pytest.approx((score.exact, score.f1))
    best_f1 = max(score.f1 for score in choice.scores)
    assert choice.best.f1 == best_f1
    assert choice.best is next(
        s
        for s in choice.scores
        if s.f1 == best_f1 and s.exact == max(t.exact for t in choice.scores if t.f1 == best_f1)
    )
    assert "<- chosen" in choice.format()

    # Reporting never tunes: the decoding is the same before and after evaluating on the reported set.
    tuner.evaluate()
    assert tuner.decoding == choice.decoding
    saved = tuner.save(tmp_path / "saved")
    assert DecodingConfig.load(saved / DECODING_CONFIG_FILE) == choice.decoding
    assert json.loads((saved / DECODING_TUNING_FILE).read_text())["chosen"] == choice.best.to_dict()
    assert Reader.from_pretrained(saved, progress=False, **WINDOW).decoding == choice.decoding


def test_a_tuned_threshold_is_kept_when_squad2_data_is_reported(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    def squad2(records: list[Any]) -> list[Any]:
        return [
            {**r, "answers": {"text": [], "answer_start": []}, "is_impossible": True} if i % 3 == 0 else r
            for i, r in enumerate(records)
        ]

    tuner = _tuner(tiny_model, tmp_path, train_data=squad2(xquad_records[:100]), decoding_grid=None)
    tuner.train()
    assert tuner.tuned_on is None and tuner.tuning_skipped == "decoding_grid is None"
    tuner.decoding = DecodingConfig.squad_v2()
    choice = tuner.tune_decoding(squad2(xquad_records[100:160]), grid=DecodingGrid(max_answer_lengths=(30,)))
    assert choice.decoding.null_threshold is not None and tuner.tuned_on == choice.source
    reported = squad2(xquad_records[160:220])
    tuner.evaluate(reported)
    assert tuner.decoding == choice.decoding  # the threshold tuned on the tuning questions stays
    saved = tuner.save(tmp_path / "saved")
    reloaded = QAFineTuner.load(saved, config=_config(tmp_path))
    assert reloaded.tuned_on == choice.source
    reloaded.evaluate(reported)
    assert reloaded.decoding == choice.decoding  # also when the saved model is evaluated later
    (saved / DECODING_TUNING_FILE).unlink()
    untuned = QAFineTuner.load(saved, config=_config(tmp_path))
    assert untuned.tuned_on is None
    untuned.decoding = choice.decoding.with_null_threshold(123.0)
    untuned.evaluate(reported)  # a decoding never tuned: evaluate tunes the threshold, as before
    assert untuned.decoding is not None and untuned.decoding.null_threshold != 123.0


def test_too_few_training_questions_hold_nothing_out_and_say_why(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    tuner = _tuner(
        tiny_model, tmp_path, train_data=xquad_records[:100], config=_config(tmp_path, tuning_size=300)
    )
    assert tuner.tuning_data is None and len(tuner.train_data.records) == 100  # type: ignore[union-attr]
    assert tuner.tuning_skipped is not None and "too few" in tuner.tuning_skipped
    off = _tuner(
        tiny_model, tmp_path, train_data=xquad_records[:300], config=_config(tmp_path, tuning_size=0)
    )
    assert off.tuning_data is None and off.tuning_skipped == "tuning_size is 0"
    with pytest.raises(ConfigError, match="tune_decoding\\(\\) needs data"):
        off.tune_decoding()


def test_evaluate_tune_prints_the_grid_and_save_keeps_the_choice(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model"
    tuner = _tuner(tiny_model, tmp_path, train_data=xquad_records[:64])
    tuner.train()
    tuner.save(model)
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps(xquad_records[64:124]))
    window = ["--max_seq_length", "128", "--doc_stride", "32", "--max_question_tokens", "40"]
    argv = ["evaluate", "--model", str(model), "--data", str(dev), "--no_progress", *window]
    assert main([*argv, "--tune", "--max_answer_length", "7", "--save"]) == 0
    out = capsys.readouterr().out
    assert "decoding chosen on 60 questions" in out and "<- chosen" in out
    assert out.count("cap 7") == 4 and "cap 30" not in out  # --max_answer_length fixed the cap
    assert DecodingConfig.load(model / DECODING_CONFIG_FILE).max_answer_length == 7
    saved = json.loads((model / DECODING_TUNING_FILE).read_text())
    assert saved["questions"] == 60 and len(saved["grid"]) == 4
    assert main([*argv, "--tune", "--null_score_diff_threshold", "1"]) == 2
    assert "--tune chooses the null threshold" in capsys.readouterr().err
