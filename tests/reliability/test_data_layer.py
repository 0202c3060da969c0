"""The bad-input corpus through the data layer and ``spanqa check-data``: every case has its expected
outcome, errors name the file and the record, and what loads survives a write/read round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spanqa import cli
from spanqa.data import load_records
from spanqa.errors import DataError

from .corpus import CASES, Case

pytestmark = pytest.mark.filterwarnings("error")


def _id(case: Case) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_load_records_gives_the_expected_outcome(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    if case.expect == "error":
        with pytest.raises(DataError) as raised:
            load_records(path)
        message = str(raised.value)
        assert str(path) in message, "the error names the file"
        assert case.reason in message
        return
    loaded = load_records(path)
    report = loaded.report
    if case.expect == "ok":
        assert report.clean, report.format()
        assert len(loaded.records) == report.num_records
    elif case.expect == "repaired":
        assert [(item.id, item.reason) for item in report.repaired] == [(case.name, case.reason)]
        [kept] = loaded.records
        for text, start in zip(kept["answers"]["text"], kept["answers"]["answer_start"], strict=True):
            assert kept["context"][start : start + len(text)] == text
    else:
        assert (case.name, case.reason) in [(item.id, item.reason) for item in report.dropped]
        assert case.name in report.format(), "the text report lists the dropped entry by id"


#: Bad answers ``policy="error"`` stops at (stripping whitespace is normalisation under every policy).
_BAD_ANSWERS = [c for c in CASES if c.expect in ("repaired", "dropped") and c.reason != "whitespace"]


@pytest.mark.parametrize("case", _BAD_ANSWERS, ids=_id)
def test_policy_error_names_the_record_of_every_bad_answer(case: Case, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"record '{case.name}'"):
        load_records(case.write(tmp_path), policy="error")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_check_data_exits_cleanly(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = case.write(tmp_path)
    status = cli.main(["check-data", str(path), "--json"])
    out, err = capsys.readouterr()
    if case.expect == "error":
        assert status == 2
        [line] = err.strip().splitlines()  # one line, no traceback
        assert line.startswith("spanqa check-data: error: ") and case.reason in line
        assert out == ""
    else:
        assert status == 0 and err == ""
        report = json.loads(out)
        assert report["counts"]["records"] >= 1


@pytest.mark.parametrize("case", [case for case in CASES if case.loads], ids=_id)
def test_loaded_records_survive_a_squad_round_trip(case: Case, tmp_path: Path) -> None:
    """``check-data -o`` writes what it kept; reading that file back gives the very same records."""
    path = case.write(tmp_path)
    written = tmp_path / "written.json"
    assert cli.main(["check-data", str(path), "-o", str(written)]) == 0
    assert load_records(written).records == load_records(path).records
    assert not list(tmp_path.glob(".written.json.*")), "no temporary file is left behind"
