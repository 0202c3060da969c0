"""Mutation testing of spanqa's core arithmetic with mutmut (not part of the default test suite).

Five areas are mutated, each against only the tests that exercise it (mutmut then runs, per mutant, only
the tests that call the mutated function), with one worker process:

* ``threshold``: ``spanqa/decode/threshold.py`` and ``predicts_null`` in ``spanqa/strategies/base.py``
  (the null rule and its tuning);
* ``metrics``: ``spanqa/metrics.py`` (the SQuAD v1.1/v2.0 scores);
* ``search``: ``spanqa/decode/_search.py`` (the exact span search);
* ``labels``: ``spanqa/labels.py`` (the training labels and the alignment self-check);
* ``offsets``: ``normalise_offsets`` in ``spanqa/windows.py`` (the offset repair the labels rely on).

Usage (from the repository root, in the project's virtualenv)::

    python scripts/mutation_test.py                     # every area, one worker
    python scripts/mutation_test.py threshold metrics   # some areas
    python scripts/mutation_test.py search --mutants 'spanqa.decode._search.x_sliding_max*'
    python scripts/mutation_test.py metrics --survivors --tests tests/test_mutants_metrics.py
    python scripts/mutation_test.py --report-only       # the last results again

A full run of every area took about 65 minutes on 2 cores (2026-12-04; metrics 25, search 23, labels 11,
threshold 4). ``--survivors`` reruns only the last run's survivors (in the kept folder), ``--tests``
with other test files: a subset of the tests kills no mutant the full set would not, so this confirms
that new tests kill what survived.

mutmut 3 is installed into the running interpreter if it is missing (``pip install -e '.[mutation]'``
installs it too). mutmut copies the project into ``mutants/`` and imports the mutated copy from there;
this script runs it in ``.mutation/<area>/`` (git-ignored; ``--keep`` keeps it, otherwise it is removed
first), a copy of ``src/``, ``tests/`` and ``pyproject.toml`` with a generated ``[tool.mutmut]``
section, so the project's own ``pyproject.toml`` needs no mutmut configuration and the working tree is
never touched. A ``shared`` link in that folder lets the tests find ``../shared/data`` as they do here.

For each area it prints the mutants generated, killed, survived (and how many of those are listed below
as equivalent, same behaviour, or as untestable here, reviewed by hand) and any other outcome, and writes
the diff of every survivor to ``.mutation/<area>/survivors.txt``. The exit status is 0 unless mutmut
itself failed: a surviving mutant is a finding to review, not an error. The score is
``(killed + timeouts) / (generated - equivalent)``. The results are recorded in ``docs/reliability.md``.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".mutation"
MUTMUT_REQUIREMENT = "mutmut>=3.8.1,<4"


@dataclass(frozen=True)
class Area:
    """What one area mutates (files, then the mutant names kept from them) and the tests run against it."""

    files: tuple[str, ...]
    mutants: tuple[str, ...]
    tests: tuple[str, ...]


AREAS: dict[str, Area] = {
    "threshold": Area(
        files=("src/spanqa/decode/threshold.py", "src/spanqa/strategies/base.py"),
        mutants=("spanqa.decode.threshold.*", "spanqa.strategies.base.x_predicts_null__mutmut_*"),
        tests=(
            "tests/test_null_threshold.py",
            "tests/test_report.py",
            "tests/test_decode.py",
            "tests/test_null_relative.py",
            "tests/test_same_text.py",
            "tests/test_mutants_threshold.py",
        ),
    ),
    "metrics": Area(
        files=("src/spanqa/metrics.py",),
        mutants=("spanqa.metrics.*",),
        tests=(
            "tests/test_metrics.py",
            "tests/test_cli_score.py",
            "tests/test_null_threshold.py",
            "tests/test_mutants_metrics.py",
        ),
    ),
    "search": Area(
        files=("src/spanqa/decode/_search.py",),
        mutants=("spanqa.decode._search.*",),
        tests=(
            "tests/test_decode.py",
            "tests/test_decode_exact.py",
            "tests/test_decode_real.py",
            "tests/test_mutants_search.py",
        ),
    ),
    "labels": Area(
        files=("src/spanqa/labels.py",),
        mutants=("spanqa.labels.*",),
        tests=("tests/test_align.py", "tests/test_align_properties.py", "tests/test_mutants_labels.py"),
    ),
    "offsets": Area(
        files=("src/spanqa/windows.py",),
        mutants=("spanqa.windows.x_normalise_offsets__mutmut_*",),
        tests=("tests/test_align.py", "tests/test_align_properties.py", "tests/test_mutants_labels.py"),
    ),
}

#: Survivors reviewed by hand and found to behave exactly like the original: mutant name -> (a line the
#: mutant's diff must still contain, so a renumbering after a source change is not silently excused;
#: why it is equivalent). Any other survivor is a gap in the tests.
_MESSAGE = "error message wording only (the tests check what a message names, not every word)"
_NEGATIVE_RESHAPE = "numpy reads any negative size in reshape as 'the rest'"
_STRICT_ZIP = "zip(strict=...) over sequences that have the same length by construction"
_FROMITER_COUNT = "np.fromiter without count: the same array, only preallocation differs"
_FROMITER_DTYPE = "np.fromiter with dtype=None: the default float64; a bool mask stays truthy alike"
_EMPTY_GUARD = "with one side empty, _token_f1 finds no common token and returns 0.0 as the guard does"
_TIE_ORDER = (
    "argsort without kind='stable': only the order inside a group of equal differences changes; no "
    "candidate lies inside a group, so the same questions are summed (float rounding may differ)"
)
_KIND_CASE = "numpy reads sort kinds case-insensitively: 'STABLE' is 'stable'"
_PROMOTED = "only used in 'span - null' with a float64 operand: numpy promotes to float64 first"
_INTP = "the index arrays are np.intp, which is int64 on every 64-bit platform"
_NEVER_EMPTY = "the bound of a chunk is never empty (a chunk has a row and a context column)"
_LAST_AXIS = "the default axis (the last) is axis 1 of these 2-d arrays"
_UNSORTED_MIN = "only the minimum of the top k is used, whatever their order"
_FULL_DTYPE = (
    "a float64 instead of a float32 threshold: only compared with float32 scores, whose float64 "
    "conversion is exact"
)
_SUPERSET = (
    "k == length: the k-th largest bound is the row's smallest, so the candidates are still a superset "
    "of its k best spans; the same k are kept"
)
_SHIFT = "numpy sign-fills a right shift of 32 on int32 as it does one of 31"
_KEY_OFFSET = "a constant added to every sort key, or a wider row stride: the same order (no overflow)"
_FLOAT_INDEX = "row starts counted in float64 instead of intp: exact, and used only in a comparison"
_EXACT_PATH = (
    "sends more rows (or none extra) through the exact character-span path (top_distinct), which gives "
    "the same answers for any row: a speed shortcut only"
)
_FILL_DTYPE = "np.full takes its dtype from the fill value, self.neg_inf, already of the working dtype"
_NO_CONTEXT = (
    "a window without context tokens: context_matrices already pads with FAR / -1, and such a window "
    "holds no gold answer (the Aligner refuses settings that leave no room for context)"
)
_INITIAL = "the initial value of the max is below every real end of a window with context tokens"
_HOLDS = (
    "the token-existence checks are implied by 'holds' (the window's context covers the answer), which "
    "masks exact and covered right after"
)
_EMPTY_RESULT = "the token positions returned with no pair or no column are never used (nothing aligns)"
_SAME_CELLS = "logits[rows, columns] and logits[:, columns][rows] read the same cells"
_COPY = "astype copy flag: these arrays are fresh and never written, so a copy is not observable"

EQUIVALENT: dict[str, tuple[str, str]] = {
    # threshold
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_12": (
        "np.asarray(span_scores, dtype=None)",
        _PROMOTED,
    ),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_14": ("np.asarray(span_scores, )", _PROMOTED),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_16": (
        "span = np.asarray(span_scores, dtype=np.float64).reshape(-2, 2)",
        _NEGATIVE_RESHAPE,
    ),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_28": (
        "null = np.asarray(null_scores, dtype=np.float64).reshape(-2, 2)",
        _NEGATIVE_RESHAPE,
    ),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_32": (
        'DataError("XXa null_score_diff is NaN',
        _MESSAGE,
    ),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_37": ('DataError("XXno questions to tune', _MESSAGE),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_60": ("np.argsort(diff, kind=None)", _TIE_ORDER),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_62": ("np.argsort(diff, )", _TIE_ORDER),
    "spanqa.decode.threshold.x_threshold_sweep__mutmut_64": ('np.argsort(diff, kind="STABLE")', _KIND_CASE),
    "spanqa.decode.threshold.x_tune_null_threshold__mutmut_20": ('"XXstrategy (DecodingConfig', _MESSAGE),
    # metrics
    "spanqa.metrics.x_f1__mutmut_5": ("if not prediction_tokens and not gold_tokens:", _EMPTY_GUARD),
    "spanqa.metrics.x__f1_v1__mutmut_5": ("if not prediction_tokens and not gold_tokens:", _EMPTY_GUARD),
    "spanqa.metrics.x__score_v2__mutmut_16": ("if not prediction_tokens and not gold_tokens:", _EMPTY_GUARD),
    "spanqa.metrics.x__find_best_threshold__mutmut_5": ("raw.answered, strict=None)", _STRICT_ZIP),
    "spanqa.metrics.x__find_best_threshold__mutmut_8": ("raw.answered, ))", _STRICT_ZIP),
    "spanqa.metrics.x__find_best_threshold__mutmut_9": ("raw.answered, strict=False)", _STRICT_ZIP),
    "spanqa.metrics.x__find_best_threshold__mutmut_19": (
        "has_answer for i in rows), dtype=bool, )",
        _FROMITER_COUNT,
    ),
    "spanqa.metrics.x__find_best_threshold__mutmut_22": ("for i in rows), dtype=None,", _FROMITER_DTYPE),
    "spanqa.metrics.x__find_best_threshold__mutmut_26": (
        "for i in rows), dtype=np.float64, )",
        _FROMITER_COUNT,
    ),
    "spanqa.metrics.x__find_best_threshold__mutmut_29": ("for qid in ids), dtype=None,", _FROMITER_DTYPE),
    "spanqa.metrics.x__find_best_threshold__mutmut_33": ("for qid in ids), dtype=bool, )", _FROMITER_COUNT),
    "spanqa.metrics.x__find_best_threshold__mutmut_53": ("for qid in ids), dtype=None,", _FROMITER_DTYPE),
    "spanqa.metrics.x__find_best_threshold__mutmut_57": (
        "for qid in ids), dtype=np.float64, )",
        _FROMITER_COUNT,
    ),
    "spanqa.metrics.x__find_best_threshold__mutmut_64": (
        'np.argsort(probabilities, kind="STABLE")',
        _KIND_CASE,
    ),
    "spanqa.metrics.x__require_na_probs__mutmut_4": ("raw.answered, strict=None)", _STRICT_ZIP),
    "spanqa.metrics.x__require_na_probs__mutmut_7": ("raw.answered, )", _STRICT_ZIP),
    "spanqa.metrics.x__require_na_probs__mutmut_8": ("raw.answered, strict=False)", _STRICT_ZIP),
    "spanqa.metrics.x__read_json__mutmut_4": ('open(encoding="UTF-8")', "codec names are case-insensitive"),
    # search
    "spanqa.decode._search.xǁTorchOpsǁ_index__mutmut_4": ("dtype=None)).to(self.device)", _INTP),
    "spanqa.decode._search.xǁTorchOpsǁ_index__mutmut_6": ("ascontiguousarray(array, )", _INTP),
    "spanqa.decode._search.xǁTorchOpsǁpeak__mutmut_2": ("(array.numel()) or True", _NEVER_EMPTY),
    "spanqa.decode._search.xǁTorchOpsǁkth_largest__mutmut_12": ("topk(array, k, sorted=False)", _LAST_AXIS),
    "spanqa.decode._search.xǁTorchOpsǁkth_largest__mutmut_13": ("topk(array, k, dim=1, )", _UNSORTED_MIN),
    "spanqa.decode._search.xǁTorchOpsǁkth_largest__mutmut_15": ("sorted=True", _UNSORTED_MIN),
    "spanqa.decode._search.xǁNumpyOpsǁfull__mutmut_3": ("np.full(shape, value, dtype=None)", _FULL_DTYPE),
    "spanqa.decode._search.xǁNumpyOpsǁfull__mutmut_6": ("np.full(shape, value, )", _FULL_DTYPE),
    "spanqa.decode._search.xǁNumpyOpsǁselect__mutmut_11": ("values.reshape(-2)", _NEGATIVE_RESHAPE),
    "spanqa.decode._search.xǁNumpyOpsǁspan_scores__mutmut_9": ("padded.reshape(-2)", _NEGATIVE_RESHAPE),
    "spanqa.decode._search.xǁNumpyOpsǁkth_largest__mutmut_12": ("width - k, )[:, width - k]", _LAST_AXIS),
    "spanqa.decode._search.xǁSpansǁreplace_rows__mutmut_15": ('kind="STABLE"', _KIND_CASE),
    "spanqa.decode._search.x_first_of_groups__mutmut_9": (
        "if n >= 1:",
        "with one row the loop compares nothing",
    ),
    "spanqa.decode._search.x_candidate_spans__mutmut_2": ("if k >= length:", _SUPERSET),
    "spanqa.decode._search.x_row_score_order__mutmut_12": ("bits >> 32", _SHIFT),
    "spanqa.decode._search.x_row_score_order__mutmut_17": ("<< 33", _KEY_OFFSET),
    "spanqa.decode._search.x_row_score_order__mutmut_21": ("key -= 0x7FFFFFFF", _KEY_OFFSET),
    "spanqa.decode._search.x_row_score_order__mutmut_22": ("key += 2147483648", _KEY_OFFSET),
    "spanqa.decode._search.x_row_score_order__mutmut_29": ('kind="STABLE"', _KIND_CASE),
    "spanqa.decode._search.x_top_k_per_row__mutmut_8": ("np.zeros(n_rows + 1, dtype=None)", _FLOAT_INDEX),
    "spanqa.decode._search.x_top_k_per_row__mutmut_10": ("np.zeros(n_rows + 1, )", _FLOAT_INDEX),
    "spanqa.decode._search.x_unordered_rows__mutmut_1": ("if rows.size != 0:", _EXACT_PATH),
    "spanqa.decode._search.x_unordered_rows__mutmut_2": ("if rows.size == 1:", _EXACT_PATH),
    "spanqa.decode._search.x_unordered_rows__mutmut_12": ("np.zeros(0, dtype=None)", _EXACT_PATH),
    "spanqa.decode._search.x_unordered_rows__mutmut_14": ("np.zeros(0, )", _EXACT_PATH),
    "spanqa.decode._search.x_unordered_rows__mutmut_15": ("np.zeros(1, dtype=np.intp)", _EXACT_PATH),
    "spanqa.decode._search.x_unordered_rows__mutmut_25": ("(start[1:] > start[:-1]) & (", _EXACT_PATH),
    "spanqa.decode._search.x_unordered_rows__mutmut_42": ("same_row | ~increasing", _EXACT_PATH),
    "spanqa.decode._search.xǁNumpyOpsǁmasked__mutmut_3": ("(isinstance(rows, slice)) and False", _SAME_CELLS),
    "spanqa.decode._search.xǁNumpyOpsǁmasked__mutmut_4": ("(isinstance(rows, slice)) or True", _SAME_CELLS),
    "spanqa.decode._search.xǁNumpyOpsǁmasked__mutmut_11": (
        "take_along_axis(logits[rows], columns, )",
        _LAST_AXIS,
    ),
    "spanqa.decode._search.xǁNumpyOpsǁmasked__mutmut_37": (
        "part, where=mask, )",
        "copyto's default casting is same_kind",
    ),
    "spanqa.decode._search.xǁNumpyOpsǁmasked__mutmut_23": ("self.neg_inf, dtype=None)", _FILL_DTYPE),
    "spanqa.decode._search.xǁNumpyOpsǁmasked__mutmut_26": ("self.neg_inf, )", _FILL_DTYPE),
    "spanqa.decode._search.xǁNumpyOpsǁpeak__mutmut_2": ("(array.size) or True", _NEVER_EMPTY),
    "spanqa.decode._search.x_sliding_max__mutmut_8": (
        "while 2 * span < width:",
        "stops one doubling earlier only when width is a power of two: the two blocks still cover it",
    ),
    "spanqa.decode._search.x_sliding_max__mutmut_24": (
        "width - span : width + span + length]",
        "the slice is clipped at the table's end, exactly length columns after its start",
    ),
    "spanqa.decode._search.x_monotone_windows__mutmut_38": (
        "one_run = (count == 1) |",
        "a window with no context token passes the other test too (0 == 0 - 0), one with one token both",
    ),
    # labels
    "spanqa.labels.x_label_windows__mutmut_5": ("windows.context_end >= windows.context_start", _NO_CONTEXT),
    "spanqa.labels.x_label_windows__mutmut_9": ("initial=FAR), None)", _NO_CONTEXT),
    "spanqa.labels.x_label_windows__mutmut_21": ("initial=-1), None)", _NO_CONTEXT),
    "spanqa.labels.x_label_windows__mutmut_32": ("initial=-1), +1)", _NO_CONTEXT),
    "spanqa.labels.x_label_windows__mutmut_33": ("initial=-1), -2)", _NO_CONTEXT),
    "spanqa.labels.x_label_windows__mutmut_31": ("ends.max(axis=1, initial=-2)", _INITIAL),
    "spanqa.labels.x_label_windows__mutmut_30": (
        "ends.max(axis=1, initial=+1)",
        _INITIAL + " (unless every context token of a window ends at character 0: empty tokens only)",
    ),
    "spanqa.labels.x__token_spans__mutmut_3": ("if n_pairs == 0 and width == 0:", _NO_CONTEXT),
    "spanqa.labels.x__token_spans__mutmut_14": (
        "return np.zeros(n_pairs, dtype=None), np.zeros",
        _EMPTY_RESULT,
    ),
    "spanqa.labels.x__token_spans__mutmut_16": ("return np.zeros(n_pairs, ), np.zeros", _EMPTY_RESULT),
    "spanqa.labels.x__token_spans__mutmut_18": (
        "np.zeros(n_pairs, dtype=None), none, none.copy()",
        _EMPTY_RESULT,
    ),
    "spanqa.labels.x__token_spans__mutmut_20": ("np.zeros(n_pairs, ), none, none.copy()", _EMPTY_RESULT),
    "spanqa.labels.x__token_spans__mutmut_38": ("before_end.any(axis=1) | (first_token", _HOLDS),
    "spanqa.labels.x__token_spans__mutmut_39": ("after_start.any(axis=1) | before_end", _HOLDS),
    "spanqa.labels.x__token_spans__mutmut_40": ("after_start.any(axis=None)", _HOLDS),
    "spanqa.labels.x__token_spans__mutmut_42": ("before_end.any(axis=None)", _HOLDS),
    **{
        f"spanqa.decode._search.x_spans_at_least__mutmut_{number}": (f"astype(np.intp, {copy}", _COPY)
        for number, copy in [
            (47, "copy=None"),
            (49, ")"),
            (51, "copy=True"),
            (53, "copy=None"),
            (55, ")"),
            (57, "copy=True"),
            (59, "copy=None"),
            (61, ")"),
            (64, "copy=True"),
        ]
    },
}

_DEVICE = "device placement: changes outputs only with an accelerator (every tensor is on the CPU here)"

#: Survivors that change outputs but cannot be killed in this setting: under mutmut, whose trampolines
#: add stack frames (a test of the plain suite kills them and skips itself under mutmut), or on a
#: machine without an accelerator.
UNTESTABLE_HERE: dict[str, tuple[str, str]] = {
    "spanqa.decode._search.xǁTorchOpsǁ__init____mutmut_2": ("self.device = None", _DEVICE),
    "spanqa.decode._search.xǁTorchOpsǁ_index__mutmut_1": (".to(None)", _DEVICE),
    "spanqa.decode._search.xǁTorchOpsǁdevice_array__mutmut_1": (".to(None)", _DEVICE),
    "spanqa.decode._search.xǁTorchOpsǁfull__mutmut_4": ("device=None)", _DEVICE),
    "spanqa.decode._search.xǁTorchOpsǁfull__mutmut_8": ("dtype=self.dtype, )", _DEVICE),
    "spanqa.metrics.x__warn_missing__mutmut_16": (
        ")",
        "warning stacklevel; test_mutants_metrics::test_the_missing_prediction_warning_points_at_the_caller",
    ),
    "spanqa.metrics.x__warn_missing__mutmut_17": (
        "stacklevel=4",
        "warning stacklevel; test_mutants_metrics::test_the_missing_prediction_warning_points_at_the_caller",
    ),
}


def ensure_mutmut() -> Path:
    """The ``mutmut`` command of this interpreter, installed first if missing."""
    if importlib.util.find_spec("mutmut") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", MUTMUT_REQUIREMENT], check=True)
        importlib.invalidate_caches()
    command = Path(sys.executable).with_name("mutmut")
    if not command.exists():
        raise SystemExit(f"mutmut is installed but {command} is missing")
    return command


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def prepare(name: str, area: Area, keep: bool, only_tests: list[str] | None = None) -> Path:
    """The area's work folder: copies of src/, tests/ and pyproject.toml (with its mutmut section).

    With ``keep``, an existing folder keeps its src/ (so mutmut's mutants and verdicts stay valid) and
    gets the current tests/ and test selection."""
    folder = WORK / name
    if folder.exists() and not keep:
        shutil.rmtree(folder)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    if not folder.exists():
        folder.mkdir(parents=True)
        shutil.copytree(REPO / "src", folder / "src", ignore=ignore)
    for file in area.files:
        if (folder / file).read_bytes() != (REPO / file).read_bytes():
            print(f"warning: {file} changed since {folder} was made; rerun without --keep", flush=True)
    if (folder / "tests").exists():
        shutil.rmtree(folder / "tests")
    shutil.copytree(REPO / "tests", folder / "tests", ignore=ignore)
    tests = only_tests or [test for test in area.tests if (REPO / test).exists()]
    config = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {_toml_list(list(area.files))}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        # The project's addopts (-ra, -m 'not slow') stay; no cache folder writes.
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
        "use_git_change_detection = false\n"
    )
    (folder / "pyproject.toml").write_text(config, encoding="utf-8")
    # The tests find the data at <repo>/../shared/data; mutmut runs them from <folder>/mutants/tests.
    shared = (REPO.parent / "shared").resolve()
    if shared.is_dir() and not (folder / "shared").exists():
        (folder / "shared").symlink_to(shared, target_is_directory=True)
    return folder


def outcomes(folder: Path, area: Area) -> dict[str, str]:
    """Mutant name -> status for the area's mutants: mutmut's verdicts of the last run, over those of
    earlier runs kept in ``results.json``: a ``--keep`` rerun of a few mutants leaves the others "not
    checked" (or "no tests" under a narrower ``--tests``), which does not replace an earlier verdict."""
    from mutmut.stats import status_by_exit_code

    saved = folder / "results.json"
    found: dict[str, str] = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    for file in area.files:
        meta = folder / "mutants" / (file + ".meta")
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        for key, code in codes.items():
            if any(fnmatch.fnmatch(key, pattern) for pattern in area.mutants):
                status = status_by_exit_code[code]
                if status not in {"not checked", "no tests"} or key not in found:
                    found[key] = status
    saved.write_text(json.dumps(found, indent=1, sort_keys=True), encoding="utf-8")
    return found


def diff(mutmut: Path, folder: Path, mutant: str) -> str:
    shown = subprocess.run(
        [str(mutmut), "show", mutant], cwd=folder, capture_output=True, text=True, check=False
    )
    return shown.stdout.strip() or shown.stderr.strip()


def _reviewed(mutant: str, text: str) -> tuple[str, str] | None:
    """(kind, reason) when ``mutant`` was reviewed and its diff still adds the line it did then."""
    for kind, table in (("equivalent", EQUIVALENT), ("untestable here", UNTESTABLE_HERE)):
        known = table.get(mutant)
        added = [line for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")]
        if known is not None and any(known[0] in line for line in added):
            return kind, known[1]
    return None


def report(name: str, mutmut: Path, folder: Path, area: Area) -> str:
    if not folder.is_dir():
        return f"{name}: not run (no {folder})"
    status = outcomes(folder, area)
    counts = Counter(status.values())
    survivors = sorted(key for key, value in status.items() if value == "survived")
    found: dict[str, list[str]] = {"equivalent": [], "untestable here": [], "open": []}
    lines = []
    for mutant in survivors:
        text = diff(mutmut, folder, mutant)
        reviewed = _reviewed(mutant, text)
        kind, reason = reviewed if reviewed is not None else ("open", "a gap in the tests")
        found[kind].append(mutant)
        lines.append(f"# {kind.upper()}: {reason}\n{text}\n")
    (folder / "survivors.txt").write_text("\n".join(lines), encoding="utf-8")
    generated = len(status)
    detected = counts["killed"] + counts["timeout"] + counts["segfault"]
    scored = generated - len(found["equivalent"])
    score = f"{100.0 * detected / scored:.1f}%" if scored else "n/a"
    others = {key: value for key, value in counts.items() if key not in {"killed", "survived"}}
    summary = (
        f"{name}: {generated} generated, {counts['killed']} killed, {len(survivors)} survived "
        f"({len(found['equivalent'])} equivalent, {len(found['untestable here'])} untestable here, "
        f"{len(found['open'])} open); score {score} = detected / (generated - equivalent)"
    )
    if others:
        summary += "; other outcomes: " + ", ".join(f"{key} {value}" for key, value in sorted(others.items()))
    if found["open"]:
        summary += "\n  open survivors: " + ", ".join(found["open"])
    return summary + f"\n  diffs: {folder / 'survivors.txt'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("areas", nargs="*", help=f"areas to mutate: {', '.join(AREAS)} (default: all)")
    parser.add_argument("--mutants", nargs="+", help="only these mutant names (globs) of the area")
    parser.add_argument("--keep", action="store_true", help="reuse .mutation/<area> (mutmut's cache)")
    parser.add_argument(
        "--survivors", action="store_true", help="with --keep: rerun only the last run's survivors"
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        help="run these test files instead of the area's (a subset kills no mutant the full set would not)",
    )
    parser.add_argument("--report-only", action="store_true", help="print the last run's results")
    args = parser.parse_args(argv)
    unknown = [name for name in args.areas if name not in AREAS]
    if unknown:
        parser.error(f"unknown area(s) {', '.join(unknown)}; choose from {', '.join(AREAS)}")
    mutmut = ensure_mutmut()
    env = {
        **os.environ,
        # One worker, one thread: the machine is shared.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    failed = False
    summaries = []
    for name in args.areas or list(AREAS):
        area = AREAS[name]
        if not args.report_only:
            names = args.mutants or list(area.mutants)
            if args.survivors:
                previous = outcomes(WORK / name, area) if (WORK / name).exists() else {}
                names = sorted(key for key, value in previous.items() if value == "survived")
                if not names:
                    print(f"== {name}: no survivors to rerun")
                    summaries.append(report(name, mutmut, WORK / name, area))
                    continue
            folder = prepare(name, area, args.keep or args.survivors, args.tests)
            began = time.monotonic()
            print(f"== {name}: mutmut run in {folder}", flush=True)
            run = subprocess.run(
                [str(mutmut), "run", "--max-children", "1", *names], cwd=folder, env=env, check=False
            )
            print(f"== {name}: mutmut exited {run.returncode} after {time.monotonic() - began:.0f} s")
            failed |= run.returncode != 0
        folder = WORK / name
        summaries.append(report(name, mutmut, folder, area))
    print("\n".join(summaries))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
