"""CLI errors in the user's words: the flags they typed, the option they meant, no prefix guessing."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_factory import save_tiny_qa_model
from spanqa.cli import main

CONTEXT = "The Broncos beat the Panthers in Super Bowl 50."


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        status = int(exit_.code or 0)
    assert status == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.fixture()
def model(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "model")


def test_a_near_miss_option_points_to_the_right_one(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["train", "--data", "f.json"], capsys)
    assert "unrecognized option --data (did you mean --train_file?)" in err, err
    assert "ambiguous" not in err
    assert "did you mean --model_name_or_path?" in _error(["train", "--model_name_or_pth", "x"], capsys)
    assert "did you mean --data?" in _error(["evaluate", "--dat", "x"], capsys)


def test_options_are_never_prefix_matched(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["predict", "--mod", str(model), "--question", "Who?", "--context", CONTEXT], capsys)
    assert "unrecognized option --mod" in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["--max_seq_length", "10"],
            "--max_seq_length 10 leaves no room for context after --max_question_tokens",
        ),
        (["--doc_stride", "500"], "--doc_stride 500 must be smaller"),
        (["--max_answer_length", "0"], "--max_answer_length must be an integer >= 1, got 0"),
        (["--n_best_size", "0"], "--n_best_size must be an integer >= 1, got 0"),
        (["--top_k", "0"], "--top_k must be >= 1, got 0"),
    ],
)
def test_library_errors_name_the_flags_the_user_typed(
    flags: list[str], expected: str, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(
        ["predict", "--model", str(model), "--question", "Who won?", "--context", CONTEXT, *flags], capsys
    )
    assert expected in err, err
    assert "max_length" not in err and "Options." not in err


def test_align_report_shares_the_window_options_and_keeps_its_old_spellings(
    model: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = data_dir / "squad-v2-dev-small.json"
    base = ["align-report", "--tokenizer", str(model), "--data", str(data), "--no_progress"]
    assert "--max_seq_length 10 leaves no room" in _error([*base, "--max_seq_length", "10"], capsys)
    assert "--max_seq_length 10 leaves no room" in _error([*base, "--max-length", "10"], capsys)
    for flags in (["--doc_stride", "16", "--max_seq_length", "96"], ["--stride", "16", "--max-length", "96"]):
        capsys.readouterr()
        assert main([*base, *flags]) in (0, 1)
        assert "max_seq_length 96, doc_stride 16" in capsys.readouterr().out
