"""Tests of ``spanqa check-data``, run through :func:`spanqa.cli.main` as the console script runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spanqa import cli
from spanqa.data import read_records

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COVID = "covidqa-draft-200421.json"


@pytest.fixture(autouse=True)
def only_check_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the CLI with this command alone, so these tests exercise check-data whatever state the other
    sub-command modules are in (the full command table has tests of its own)."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("spanqa.commands.check_data",))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def write_records(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


CONTEXT = "Basel lies on the Rhine. The Rhine then flows north to Cologne."


def answer_record(record_id: str, text: str, start: int) -> dict[str, Any]:
    return {
        "id": record_id,
        "context": CONTEXT,
        "question": "Where?",
        "answers": [{"text": text, "answer_start": start}],
    }


@pytest.fixture
def dirty_file(tmp_path: Path) -> Path:
    return write_records(
        tmp_path / "dirty.json",
        [
            answer_record("good", "Basel", 0),
            answer_record("shifted", "Rhine", 27),
            answer_record("lost", "Paris", 0),
        ],
    )


def test_text_report_by_default(dirty_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-data", str(dirty_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{dirty_file} (policy: repair)\n")
    assert "  records:      3 read, 2 kept (0 unanswerable)" in out
    assert "  shifted answer 0: start 27 -> 29 (offset): text 'Rhine'" in out
    assert "  lost answer 0: not-found: the answer text 'Paris' occurs nowhere in the context" in out


def test_json_report(dirty_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-data", str(dirty_file), "--json", "--policy", "drop"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["policy"] == "drop"
    assert report["counts"]["kept_records"] == 1
    assert [(entry["id"], entry["reason"]) for entry in report["dropped"]] == [
        ("shifted", "mismatch"),
        ("shifted", "no-answers"),
        ("lost", "mismatch"),
        ("lost", "no-answers"),
    ]


def test_error_policy_exits_2_with_one_line(dirty_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-data", str(dirty_file), "--policy", "error"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"spanqa check-data: error: {dirty_file}: record 'shifted', answer 0: "
        "answer_start 27 points at 'e Rhi', not at the answer text 'Rhine'\n"
    )


def test_malformed_files_exit_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [', encoding="utf-8")
    assert cli.main(["check-data", str(broken)]) == 2
    assert "broken.json: invalid JSON at line 1, column 11" in capsys.readouterr().err
    duplicated = write_records(tmp_path / "dup.json", [answer_record("a", "Basel", 0)] * 2)
    assert cli.main(["check-data", str(duplicated)]) == 2
    assert "dup.json: [1]: duplicate id 'a' (first used at [0])" in capsys.readouterr().err
    assert cli.main(["check-data", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such file" in capsys.readouterr().err


def test_output_writes_the_repaired_records(
    dirty_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "clean.json"
    assert cli.main(["check-data", str(dirty_file), "-o", str(output)]) == 0
    assert capsys.readouterr().out.endswith(f"wrote 2 records to {output}\n")
    records = read_records(output)
    assert [(rec["id"], rec["answers"]["answer_start"]) for rec in records] == [
        ("good", [0]),
        ("shifted", [29]),
    ]


def test_unknown_policy_is_rejected_by_argparse(dirty_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check-data", str(dirty_file), "--policy", "fix"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fix'" in capsys.readouterr().err


def test_help_shows_the_module_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check-data", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Check a SQuAD-format data file before training or evaluating on it." in out
    assert "--policy {repair,drop,error}" in out


def test_covid_report_lists_repairs_and_drops(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-data", str(shared_data / COVID), "--all"]) == 0
    out = capsys.readouterr().out
    assert "  repaired:     512 answers (291 whitespace, 221 offset, 0 case)" in out
    assert "  dropped:      8 answers, 8 records" in out
    assert "  3463 record: no-answers: every answer of the record was dropped" in out
    assert "... and" not in out
    assert sum(1 for line in out.splitlines() if "(offset)" in line) == 221


def test_covid_error_policy(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-data", str(shared_data / COVID), "--policy", "error"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spanqa check-data: error: ") and err.count("\n") == 1
    assert f"{COVID}: record '" in err
