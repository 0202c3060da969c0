"""Where the data-backed tests find the shared data folder, and what happens when it is absent.

A user's clone without ``../shared/data`` skips the tests that need it, with the reason shown (pytest's
``-ra`` in ``addopts`` lists it). In CI (environment variable ``CI`` set to ``true``, ``1``, ``yes`` or
``on``, as GitHub Actions and ``.ci/run`` set it) a missing folder *fails* those tests instead: a CI run
that silently skipped about 80 data-backed tests would report green without having tested them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

#: Real SQuAD-format data sets (read-only), see its README.md for licences and known defects.
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"

_TRUE = frozenset({"1", "true", "yes", "on"})


def in_ci(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` says this is a CI run (``CI`` set to a true value)."""
    return environ.get("CI", "").strip().lower() in _TRUE


def require_data_dir(path: Path, environ: Mapping[str, str]) -> Path:
    """``path`` when it is a directory; otherwise fail the calling test in CI and skip it elsewhere."""
    if path.is_dir():
        return path
    if in_ci(environ):
        pytest.fail(
            f"the shared data folder {path} is absent and CI={environ.get('CI')!r}: the data-backed tests "
            "cannot run, and CI must not skip them; provide the folder (SQuAD-format files, see "
            "tests/conftest.py) or run outside CI to skip them",
            pytrace=False,
        )
    pytest.skip(f"shared data folder {path} is absent (data-backed tests are skipped outside CI)")
