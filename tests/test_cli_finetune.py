"""The train / evaluate / predict / demo commands, run like a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from safetensors.torch import load_file

from model_factory import save_tiny_qa_model
from spanqa import DecodingConfig
from spanqa.cli import main
from spanqa.data import load_records, write_squad
from training_checks import assert_close_tensors, assert_same_checkpoint

SMALL = ["--max_seq_length", "96", "--doc_stride", "24", "--max_question_tokens", "24", "--no_progress"]


@pytest.fixture()
def tiny_model(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "tiny")


@pytest.fixture()
def squad_files(data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    records = load_records(data_dir / "squad-v2-dev-small.json").records
    train, dev = tmp_path / "train.json", tmp_path / "dev.json"
    write_squad(records[:40], train)
    write_squad(records[40:70], dev)
    return train, dev


def test_train_evaluate_predict_score_round_trip(
    tiny_model: Path, squad_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, dev = squad_files
    out = tmp_path / "run"
    args = ["train", "--model_name_or_path", str(tiny_model), "--train_file", str(train)]
    args += ["--validation_file", str(dev), "--output_dir", str(out), "--num_train_epochs", "1", *SMALL]
    assert main([*args, "--json"]) == 0
    trained: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert trained["alignment"]["failed"] == 0
    assert {"exact", "f1", "best_f1_thresh", "NoAns_total"} <= set(trained["eval"])
    model = Path(trained["model"])
    assert model == out / "model" and (model / "spanqa_decoding.json").is_file()
    saved = json.loads((model / "spanqa_decoding.json").read_text())["options"]["null-answer"]
    assert saved["null_threshold"] >= trained["eval"]["best_f1_thresh"]

    predictions = tmp_path / "pred.json"
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(model),
                "--data",
                str(dev),
                "--predictions_file",
                str(predictions),
                *SMALL,
                "--json",
            ]
        )
        == 0
    )
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["metrics"]["total"] == 30

    assert main(["score", "--data", str(dev), "--predictions", str(predictions), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["exact"] == pytest.approx(evaluated["metrics"]["exact"])
    assert scored["f1"] == pytest.approx(evaluated["metrics"]["f1"])

    # `spanqa predict` (the Reader) answers exactly as `spanqa evaluate` (QAFineTuner) did.
    from_file = tmp_path / "pred2.json"
    assert (
        main(["predict", "--model", str(model), "--data", str(dev), "--output", str(from_file), *SMALL[:-1]])
        == 0
    )
    assert json.loads(from_file.read_text()) == json.loads(predictions.read_text())
    budgeted = tmp_path / "pred3.json"  # smaller forward passes: other batches, the same answers
    command = ["predict", "--model", str(model), "--data", str(dev), "--output", str(budgeted), *SMALL[:-1]]
    assert main([*command, "--max_batch_tokens", "100", "--precision", "fp32"]) == 0
    assert json.loads(budgeted.read_text()) == json.loads(predictions.read_text())

    # --same_text on: added before null-answer. The null threshold evaluate tunes for it differs from the
    # one saved for span ranking, so it is saved with the composition (a copy of the model); the Reader
    # then answers as the evaluation did, same-text included without asking again.
    same_model = tmp_path / "same-text-model"
    shutil.copytree(model, same_model)
    merged_eval, merged_pred = tmp_path / "same-eval.json", tmp_path / "same-pred.json"
    command = ["evaluate", "--model", str(same_model), "--data", str(dev), "--same_text", "on", *SMALL]
    assert main([*command, "--predictions_file", str(merged_eval), "--save_threshold", "--json"]) == 0
    strategies = json.loads(capsys.readouterr().out)["decoding"]["strategies"]
    assert strategies == ["length-capped", "n-best", "same-text", "null-answer"]
    command = ["predict", "--model", str(same_model), "--data", str(dev), *SMALL[:-1]]
    assert main([*command, "--output", str(merged_pred)]) == 0
    assert json.loads(merged_pred.read_text()) == json.loads(merged_eval.read_text())

    record = load_records(dev).records[0]
    assert (
        main(
            [
                "predict",
                "--model",
                str(model),
                "--question",
                record["question"],
                "--context",
                record["context"],
                "--top_k",
                "3",
                "--json",
            ]
        )
        == 0
    )
    answers = json.loads(capsys.readouterr().out)
    assert 1 <= len(answers) <= 3


def test_bad_arguments_exit_2_with_one_line(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", "--model", str(tiny_model), "--question", "who?"]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(["predict", "--model", str(tiny_model)]) == 2
    assert "either --question" in capsys.readouterr().err
    assert main(["evaluate", "--model", "./no-such-model", "--data", "x.json"]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["predict", "--model", str(tiny_model), "--data", "x.json", "--max_batch_tokens", "lots"])
    assert stopped.value.code == 2 and "expected a number, 'auto' or 'none'" in capsys.readouterr().err
    assert main(["predict", "--model", str(tiny_model), "--data", "x.json", "--max_batch_tokens", "0"]) == 2
    assert "max_batch_tokens must be" in capsys.readouterr().err
    assert main(["predict", "--model", str(tiny_model), "--data", "x.json", "--precision", "fp16"]) == 2
    assert "needs a GPU" in capsys.readouterr().err


def test_train_resume_flag_and_unwritable_output(
    tiny_model: Path,
    tokenizer_dirs: dict[str, Path],
    squad_files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--resume_from_checkpoint`` without a value continues from the newest checkpoint in
    OUTPUT_DIR/checkpoints: started from a model with other initial weights, the run still ends exactly
    as the uninterrupted one (final model, later checkpoints: weights, optimizer, scheduler, loss curve),
    which a run from scratch could not."""
    train, _ = squad_files
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = ["train", "--model_name_or_path", str(tiny_model), "--train_file", str(train)]
    assert main([*args, "--output_dir", str(blocker / "out"), *SMALL]) == 2
    assert "not writable" in capsys.readouterr().err

    options = ["--train_file", str(train), "--num_train_epochs", "2", "--save_steps", "4", "--logging_steps"]
    options += ["1", *SMALL, "--json"]
    full = tmp_path / "full"
    assert main(["train", "--model_name_or_path", str(tiny_model), "--output_dir", str(full), *options]) == 0
    capsys.readouterr()
    steps = sorted(int(p.name.split("-")[1]) for p in (full / "checkpoints").glob("checkpoint-*"))
    assert len(steps) == 2, steps  # save_total_limit 2: the last two checkpoints
    first, last = steps

    # A run interrupted after its checkpoint `first`: only that checkpoint is on disk.
    resumed = tmp_path / "resumed"
    shutil.copytree(
        full / "checkpoints" / f"checkpoint-{first}", resumed / "checkpoints" / f"checkpoint-{first}"
    )
    other_init = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "other-init", seed=1)
    command = ["train", "--model_name_or_path", str(other_init), "--output_dir", str(resumed), *options]
    assert main([*command, "--resume_from_checkpoint"]) == 0
    capsys.readouterr()
    assert_same_checkpoint(
        resumed / "checkpoints" / f"checkpoint-{last}", full / "checkpoints" / f"checkpoint-{last}"
    )
    weights = [load_file(str(run / "model" / "model.safetensors")) for run in (resumed, full)]
    assert_close_tensors(weights[0], weights[1], "final model")


@pytest.mark.slow
def test_demo_end_to_end_on_real_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The main job, shortened: the real MiniLM encoder learns from bundled new_wiki questions."""
    out = tmp_path / "demo"
    assert (
        main(
            [
                "demo",
                "--output_dir",
                str(out),
                "--max_train_samples",
                "400",
                "--max_eval_samples",
                "200",
                "--num_train_epochs",
                "1",
                "--no_progress",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["eval"]["total"] == 200
    assert result["eval"]["f1"] > 10.0  # an untrained head scores about 2-7 F1 on these questions
    assert (out / "model" / "model.safetensors").is_file()
    assert result["tuning"] == {"skipped": "tuning_size is 0"}  # the demo trains on every question


def test_command_line_decoding_options_keep_the_saved_strategies() -> None:
    """--version_2_with_negative and the other decoding options change a saved composition in place
    (a plugin's strategy in it survives), adding a strategy the saved config lacks."""
    import argparse

    from spanqa.commands._options import add_decoding_options, decoding_config

    parser = argparse.ArgumentParser()
    add_decoding_options(parser)
    saved = DecodingConfig.compose(["n-best", "same-text"], {"n-best": {"n_best_size": 7}})
    args = parser.parse_args(["--version_2_with_negative", "--max_answer_length", "12"])
    config = decoding_config(args, saved)
    assert config.strategies == ("n-best", "same-text", "length-capped", "null-answer")
    assert (config.max_answer_length, config.n_best_size, config.null_threshold) == (12, 7, 0.0)
    assert decoding_config(parser.parse_args(["--same_text", "off"]), saved).strategies == ("n-best",)
    fresh = decoding_config(parser.parse_args(["--same-text", "on"]))
    assert fresh.strategies == ("length-capped", "n-best", "same-text")
    both = decoding_config(parser.parse_args(["--null_relative", "on", "--version_2_with_negative"]), saved)
    assert both.strategies == ("n-best", "same-text", "null-relative", "null-answer")
    assert decoding_config(parser.parse_args(["--null-relative", "off"]), both).strategies == (
        "n-best",
        "same-text",
        "null-answer",
    )
    assert decoding_config(parser.parse_args([]), saved) is saved
