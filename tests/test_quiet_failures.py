"""Inputs that used to pass quietly: a file with no question in it, and a question cut without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_factory import save_tiny_qa_model
from spanqa import Reader, load_records
from spanqa.align import QuestionTruncatedWarning
from spanqa.cli import main
from spanqa.errors import DataError

NO_QUESTION = {
    "empty.json": '{"version": "v1.1", "data": []}',
    "empty.jsonl": "",
    "no-qas.json": json.dumps(
        {"data": [{"title": "t", "paragraphs": [{"context": "Some text.", "qas": []}]}]}
    ),
    "number-context.json": json.dumps({"data": [{"title": "t", "paragraphs": [{"context": 5, "qas": []}]}]}),
}


@pytest.fixture()
def model(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "model")


@pytest.mark.parametrize("name", sorted(NO_QUESTION))
def test_a_file_without_questions_is_an_error_naming_it_in_every_command(
    name: str, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_text(NO_QUESTION[name], encoding="utf-8")
    with pytest.raises(DataError, match="no question found"):
        load_records(path)
    for argv in (
        ["check-data", str(path)],
        ["predict", "--model", str(model), "--data", str(path)],
        ["evaluate", "--model", str(model), "--data", str(path), "--no_progress"],
    ):
        capsys.readouterr()
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert f"{path}: no question found" in captured.err and captured.out == "", argv


def test_an_over_long_question_is_cut_with_a_warning(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reader = Reader.from_pretrained(model, max_length=96, stride=24, max_question_tokens=8)
    question = "Which team that played in the final of the season won the game played in the city?"
    with pytest.warns(
        QuestionTruncatedWarning, match=r"1 question\(s\) longer than max_question_tokens \(8\)"
    ):
        reader(question, "The Broncos beat the Panthers in Santa Clara.")
    capsys.readouterr()
    argv = ["predict", "--model", str(model), "--question", question, "--context", "The Broncos won."]
    assert main([*argv, "--max_question_tokens", "8"]) == 0
    err = capsys.readouterr().err
    assert "warning: 1 question(s) longer than --max_question_tokens (8) were cut" in err
