"""Names that moved in the module split (issue #17) still import from their old paths, for one release,
with a DeprecationWarning that names the new path; the public names of spanqa never warn."""

from __future__ import annotations

import importlib
import warnings

import pytest

MOVED = [
    ("spanqa.align", "AlignmentReport", "spanqa.alignment_report", "AlignmentReport"),
    ("spanqa.align", "TrainFeatures", "spanqa.features", "TrainFeatures"),
    ("spanqa._search", "monotone_windows", "spanqa.decode._search", "monotone_windows"),
    ("spanqa.decode", "_predictions", "spanqa.decode.predictions", "build_predictions"),
]


@pytest.mark.parametrize(("old", "name", "new", "new_name"), MOVED, ids=[f"{o}.{n}" for o, n, _, _ in MOVED])
def test_an_old_path_warns_and_gives_the_moved_object(old: str, name: str, new: str, new_name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated.*import {new}\.{new_name}"):
        value = getattr(importlib.import_module(old), name)
    assert value is getattr(importlib.import_module(new), new_name)


def test_public_names_and_public_module_paths_do_not_warn() -> None:
    import spanqa

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for name in ("Aligner", "AlignmentReport", "TrainFeatures", "DecodingConfig", "load_records"):
            getattr(spanqa, name)
        from spanqa.data import load_records, write_squad  # noqa: F401
        from spanqa.decode import DecodingConfig, SpanDecoder, tune_null_threshold  # noqa: F401
