"""Tests of ``spanqa align-report``: text and JSON reports, exit statuses, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spanqa.cli import main
from test_align import REPORT_KEYS


def write_squad(path: Path, context: str, answers: list[tuple[str, str, int]]) -> Path:
    """A one-paragraph SQuAD v1.1 file; ``answers`` are (id, text, answer_start)."""
    qas = [
        {"id": qid, "question": "What is it?", "answers": [{"text": text, "answer_start": start}]}
        for qid, text, start in answers
    ]
    document = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    status = main(["align-report", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_report_of_a_real_file(
    capsys: pytest.CaptureFixture[str], minilm_dir: Path, data_dir: Path
) -> None:
    status, out, _ = run_cli(
        capsys, "--tokenizer", minilm_dir, "--data", data_dir / "xquad.en.json", "--json", "--no-progress"
    )
    assert status == 0
    payload = json.loads(out)
    assert tuple(payload)[: len(REPORT_KEYS) + 1] == (*REPORT_KEYS, "seconds")
    assert payload["answers"] == payload["examples"] == 1190
    assert payload["failed"] == 0 and payload["features"] >= 1190
    assert payload["exact"] + payload["covered"] + payload["outside_window"] == 1190


def test_text_report_with_settings_and_repairs(
    capsys: pytest.CaptureFixture[str], tokenizer_dirs: dict[str, Path], tmp_path: Path
) -> None:
    context = "The Rhine flows through Basel and Cologne. " * 20
    data = write_squad(
        tmp_path / "rivers.json",
        context,
        [("ok", "Basel", context.index("Basel")), ("shifted", "Cologne", context.index("Cologne") + 2)],
    )
    status, out, _ = run_cli(
        capsys,
        "--tokenizer", tokenizer_dirs["xlnet"], "--data", data, "--max-length", 64, "--stride", 16,
        "--max-question-tokens", 8,
    )  # fmt: skip
    assert status == 0
    assert "max_seq_length 64, doc_stride 16, max_question_tokens 8, context first" in out
    assert "data layer:          1 repaired, 0 dropped" in out
    assert "failed:            0" in out


def test_failed_answers_give_exit_status_1_and_their_ids(
    capsys: pytest.CaptureFixture[str], minilm_dir: Path, tmp_path: Path
) -> None:
    # A lone combining accent: uncased BERT deletes it, so no token carries it.
    context = "abc \u0301 def"
    data = write_squad(tmp_path / "accent.json", context, [("mark", "\u0301", 4), ("fine", "def", 6)])
    status, out, _ = run_cli(capsys, "--tokenizer", minilm_dir, "--data", data, "--all-ids")
    assert status == 1
    assert "ids (failed): mark" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--stride", "400"], "stride 400 must be smaller than the room left for context"),
        (["--max-length", "4096"], "exceeds the tokenizer's model_max_length 512"),
        (["--policy", "error"], "'shifted'"),
    ],
)
def test_bad_settings_and_data_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], minilm_dir: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    context = "The Rhine flows through Basel."
    data = write_squad(tmp_path / "d.json", context, [("shifted", "Basel", 3)])
    status, out, err = run_cli(capsys, "--tokenizer", minilm_dir, "--data", data, *extra)
    assert status == 2 and not out
    assert err.startswith("spanqa align-report: error:") and message in err


def test_unusable_tokenizer_directory_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = write_squad(tmp_path / "d.json", "The Rhine.", [("q", "Rhine", 4)])
    status, _, err = run_cli(capsys, "--tokenizer", tmp_path / "nowhere", "--data", data)
    assert status == 2 and "does not exist" in err
    (tmp_path / "empty").mkdir()
    status, _, err = run_cli(capsys, "--tokenizer", tmp_path / "empty", "--data", data)
    assert status == 2 and "holds no tokenizer files" in err and "empty" in err


def test_help_describes_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["align-report", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "outside every window" in out and "--max-question-tokens" in out and "--doc_stride" in out
