"""The data folder policy of ``tests/conftest.py``: skip without the folder, but fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_data import DATA_DIR, in_ci, require_data_dir


@pytest.mark.parametrize("value", ["true", "TRUE", " True ", "1", "yes", "on"])
def test_ci_values_that_mean_ci(value: str) -> None:
    assert in_ci({"CI": value})


@pytest.mark.parametrize("environ", [{}, {"CI": ""}, {"CI": "false"}, {"CI": "0"}, {"CI": "no"}])
def test_environments_that_are_not_ci(environ: dict[str, str]) -> None:
    assert not in_ci(environ)


@pytest.mark.parametrize("environ", [{}, {"CI": "true"}])
def test_a_present_folder_is_returned_in_and_outside_ci(tmp_path: Path, environ: dict[str, str]) -> None:
    assert require_data_dir(tmp_path, environ) == tmp_path


@pytest.mark.parametrize("environ", [{}, {"CI": "false"}])
def test_a_missing_folder_skips_outside_ci_with_the_reason(tmp_path: Path, environ: dict[str, str]) -> None:
    missing = tmp_path / "shared" / "data"
    with pytest.raises(pytest.skip.Exception, match="absent") as skipped:
        require_data_dir(missing, environ)
    assert str(missing) in str(skipped.value)


@pytest.mark.parametrize("make", ["missing", "file"])
def test_a_missing_folder_fails_in_ci_naming_it(tmp_path: Path, make: str) -> None:
    """Absent, or a file where the folder should be: a failure (not a skip) that names the folder."""
    path = tmp_path / "data"
    if make == "file":
        path.write_text("not a folder")
    with pytest.raises(pytest.fail.Exception) as failed:
        require_data_dir(path, {"CI": "true"})
    message = str(failed.value)
    assert str(path) in message and "CI='true'" in message and "must not skip" in message


def test_the_fixture_looks_next_to_the_repository() -> None:
    assert Path(__file__).resolve().parents[2] / "shared" / "data" == DATA_DIR
