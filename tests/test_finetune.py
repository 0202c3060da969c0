"""QAFineTuner end to end on tiny real models: train, evaluate, save/load, resume, and bad input."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from model_factory import save_tiny_qa_model
from spanqa import ConfigError, DataError, TokenizerError
from spanqa.batching import LengthGroupedSampler
from spanqa.data import load_records
from spanqa.finetune import QAFineTuner, TrainingConfig, TrainingDivergedError
from spanqa.models import DECODING_CONFIG_FILE, UntrainedHeadWarning
from training_checks import StepRecorder, assert_same_training


def _config(tmp_path: Path, **overrides: Any) -> TrainingConfig:
    options: dict[str, Any] = {
        "output_dir": str(tmp_path / "run"),
        "num_train_epochs": 1.0,
        "learning_rate": 5e-3,
        "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 16,
        "max_length": 96,
        "stride": 24,
        "max_question_tokens": 24,
        "logging_steps": 5,
        "progress": False,
    }
    options.update(overrides)
    return TrainingConfig(**options)


@pytest.fixture(scope="module")
def xquad_records(data_dir: Path) -> list[Any]:
    return load_records(data_dir / "xquad.en.json").records


@pytest.fixture()
def tiny_model(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "tiny")


def _new_tuner(model: Path, tmp_path: Path, train: Any = None, dev: Any = None, **config: Any) -> QAFineTuner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return QAFineTuner(model, train_data=train, eval_data=dev, config=_config(tmp_path, **config))


def test_train_evaluate_save_and_reload_decode_identically(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    tuner = _new_tuner(tiny_model, tmp_path, xquad_records[:48], xquad_records[48:72])
    metrics = tuner.train()
    assert metrics["train_loss"] > 0 and math.isfinite(metrics["train_loss"])
    assert tuner.train_features is not None and tuner.train_features.report.failed == 0
    result = tuner.evaluate()
    assert set(result.metrics) >= {"exact", "f1", "total"}
    assert result.metrics["total"] == 24
    assert set(result.predictions) == {record["id"] for record in xquad_records[48:72]}
    for prediction, record in zip(result.predictions.values(), xquad_records[48:72], strict=True):
        if prediction.start is not None:
            assert record["context"][prediction.start : prediction.end] == prediction.text

    saved = tuner.save(tmp_path / "saved")
    assert (saved / "model.safetensors").is_file() and (saved / DECODING_CONFIG_FILE).is_file()
    assert not list(tmp_path.glob(".saved.partial-*")), "the staging directory must not be left behind"
    reloaded = QAFineTuner.load(saved, config=_config(tmp_path))
    again = reloaded.predict(xquad_records[48:72])
    assert {k: (p.text, p.start) for k, p in again.items()} == {
        k: (p.text, p.start) for k, p in result.predictions.items()
    }
    for key, prediction in again.items():
        assert prediction.score == pytest.approx(result.predictions[key].score, abs=1e-4)


def test_tiny_model_learns_to_answer_its_training_questions(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    """A real optimisation signal, not just 'it runs': the tiny model overfits a dozen questions."""
    records = [r for r in xquad_records if len(r["context"]) < 700][:12]
    tuner = _new_tuner(
        tiny_model,
        tmp_path,
        records,
        records,
        num_train_epochs=40.0,
        learning_rate=3e-3,
        warmup_ratio=0.0,
        save_steps=10_000,
        max_length=192,
        stride=48,
        per_device_train_batch_size=16,
    )
    before = tuner.evaluate().metrics["f1"]
    tuner.train()
    after = tuner.evaluate().metrics["f1"]
    assert after > max(50.0, before + 30.0), (before, after)


def test_squad_v2_evaluation_tunes_and_saves_the_null_threshold(
    tiny_model: Path, data_dir: Path, tmp_path: Path
) -> None:
    records = load_records(data_dir / "squad-v2-dev-small.json").records[:60]
    assert any(r["is_impossible"] for r in records) and not all(r["is_impossible"] for r in records)
    tuner = _new_tuner(tiny_model, tmp_path, records[:40], records[40:])
    tuner.train()
    result = tuner.evaluate()
    assert {"HasAns_exact", "NoAns_exact", "best_f1", "best_f1_thresh"} <= set(result.metrics)
    # The saved threshold lies between the tuned one and the next larger null-score difference, so it
    # decides every dev question as the tuned one does, with a margin against float noise.
    diffs = sorted(p.null_score_diff for p in result.predictions.values())
    tuned = result.metrics["best_f1_thresh"]
    saved_threshold = result.decoding.null_threshold
    assert saved_threshold is not None and saved_threshold >= tuned
    assert not any(tuned < d <= saved_threshold for d in diffs)
    # The threshold decodes to the best F1 the sweep promised.
    assert result.metrics["f1"] == pytest.approx(result.metrics["best_f1"])
    saved = tuner.save(tmp_path / "v2")
    stored = json.loads((saved / DECODING_CONFIG_FILE).read_text())
    assert QAFineTuner.load(saved).decoding == result.decoding, stored


def test_resume_from_checkpoint_continues_the_interrupted_run(
    tiny_model: Path, tokenizer_dirs: dict[str, Path], xquad_records: list[Any], tmp_path: Path
) -> None:
    """Resuming from a mid-run checkpoint ends exactly where the uninterrupted run ends (weights,
    optimizer and scheduler state, loss curve), running only the steps after the checkpoint, even when
    the resumed tuner starts from other initial weights: a restart from scratch could do neither."""
    settings: dict[str, Any] = {"num_train_epochs": 2.0, "save_steps": 3, "logging_steps": 1}
    full = _new_tuner(tiny_model, tmp_path / "a", xquad_records[:40], **settings)
    full.train()
    assert full.trainer is not None
    total_steps = full.trainer.state.global_step
    checkpoints = sorted(
        (tmp_path / "a" / "run").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])
    )
    assert checkpoints, "checkpoints are written every save_steps"
    start = int(checkpoints[0].name.split("-")[1])
    assert 0 < start < total_steps

    other_init = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "other-init", seed=1)
    resumed = _new_tuner(other_init, tmp_path / "b", xquad_records[:40], **settings)
    assert not torch.equal(resumed.model.qa_outputs.weight, full.model.qa_outputs.weight)
    recorder = StepRecorder()
    resumed.callbacks.append(recorder)
    resumed.train(resume_from_checkpoint=str(checkpoints[0]))
    assert resumed.trainer is not None
    assert recorder.steps == list(range(start + 1, total_steps + 1)), "only the remaining steps run"
    assert_same_training(resumed.trainer, full.trainer)


class _PoisonWeights:
    """A real fault, injected through the public callback API: the QA head becomes NaN after one step."""

    def __init__(self, at_step: int) -> None:
        from transformers import TrainerCallback

        target = at_step

        class Poison(TrainerCallback):  # type: ignore[misc]
            def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
                if state.global_step == target:
                    with torch.no_grad():
                        model.qa_outputs.weight.fill_(float("nan"))

        self.callback = Poison()


def _finite_checkpoint(path: Path) -> bool:
    from safetensors.torch import load_file

    weights = load_file(str(path / "model.safetensors"))
    return all(bool(torch.isfinite(tensor).all()) for tensor in weights.values())


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    tuner = _new_tuner(tiny_model, tmp_path, xquad_records[:64], save_steps=2, num_train_epochs=2.0)
    tuner.callbacks.append(_PoisonWeights(at_step=3).callback)
    with pytest.raises(TrainingDivergedError, match=r"loss became nan at step 4.*checkpoint-2"):
        tuner.train()
    assert _finite_checkpoint(tmp_path / "run" / "checkpoint-2")


def test_non_finite_weights_are_never_checkpointed(
    tiny_model: Path, xquad_records: list[Any], tmp_path: Path
) -> None:
    tuner = _new_tuner(tiny_model, tmp_path, xquad_records[:64], save_steps=2, num_train_epochs=2.0)
    tuner.callbacks.append(_PoisonWeights(at_step=4).callback)
    with pytest.raises(TrainingDivergedError, match=r"step 4 \(qa_outputs.weight\).*checkpoint-2"):
        tuner.train()
    assert not (tmp_path / "run" / "checkpoint-4").exists()
    assert _finite_checkpoint(tmp_path / "run" / "checkpoint-2")


def test_bad_input_gives_clear_errors(
    tiny_model: Path, tokenizer_dirs: dict[str, Path], xquad_records: list[Any], tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="empty"):
        _new_tuner(tiny_model, tmp_path, [])

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    tuner = _new_tuner(tiny_model, tmp_path, xquad_records[:8], output_dir=str(blocker / "out"))
    with pytest.raises(ConfigError, match="not writable"):
        tuner.train()

    long_answers = []
    for record in xquad_records[:8]:
        context = record["context"]
        long_answers.append({**record, "answers": {"text": [context], "answer_start": [0]}})
    tuner = _new_tuner(tiny_model, tmp_path, long_answers, max_length=48, stride=8)
    with pytest.raises(DataError, match="alignment report") as raised:
        tuner.train()
    assert raised.value.report.outside_window == 8  # type: ignore[attr-defined]

    no_head = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "encoder-only", with_head=False)
    with pytest.warns(UntrainedHeadWarning, match="qa_outputs"):
        QAFineTuner(no_head)

    not_qa = tmp_path / "not-qa"
    save_tiny_qa_model(tokenizer_dirs["wordpiece"], not_qa)
    config = json.loads((not_qa / "config.json").read_text())
    config["model_type"] = "resnet"
    (not_qa / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="question-answering head"):
        QAFineTuner(not_qa)


def test_slow_tokenizer_is_rejected(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> None:
    from transformers import BertTokenizer

    model_dir = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "slow")
    vocab = json.loads((model_dir / "tokenizer.json").read_text())["model"]["vocab"]
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (model_dir / name).unlink(missing_ok=True)
    BertTokenizer(str(vocab_file)).save_pretrained(model_dir)
    (model_dir / "tokenizer.json").unlink(missing_ok=True)
    try:
        QAFineTuner(model_dir)
    except TokenizerError as error:
        # transformers 5 saves no vocab.txt for BertTokenizer, so the directory holds no vocabulary at all
        assert "fast" in str(error) or "holds no tokenizer files" in str(error)
    else:  # transformers 5 converts a slow vocabulary into a fast tokenizer on load: that is fine too
        from transformers import AutoTokenizer

        assert AutoTokenizer.from_pretrained(model_dir).is_fast


def test_seed_makes_the_new_qa_head_and_the_training_run_reproducible(
    tokenizer_dirs: dict[str, Path], xquad_records: list[Any], tmp_path: Path
) -> None:
    encoder = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "encoder", with_head=False)
    heads, losses = [], []
    for run, seed in enumerate((7, 7, 8)):
        torch.manual_seed(1000 + run)  # whatever the caller's RNG holds, the seed alone decides
        tuner = _new_tuner(encoder, tmp_path / str(run), xquad_records[:16], seed=seed)
        heads.append(tuner.model.qa_outputs.weight.detach().clone())
        losses.append(tuner.train()["train_loss"])
    assert torch.equal(heads[0], heads[1]) and losses[0] == losses[1]
    assert isinstance(tuner.trainer._get_train_sampler(), LengthGroupedSampler)  # spanqa's, not the Trainer's
    assert not torch.equal(heads[0], heads[2])
    torch.manual_seed(0)
    caller_rng = torch.random.get_rng_state()
    _new_tuner(encoder, tmp_path / "x", seed=7)
    assert torch.equal(torch.random.get_rng_state(), caller_rng), "a tuner must not reseed the caller"
