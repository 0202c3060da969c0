"""Null-threshold tuning cases found by mutation testing (``scripts/mutation_test.py threshold``).

Each test pins an output that a surviving mutant of :mod:`spanqa.decode.threshold` changed while the rest
of the suite still passed: the dtype of the saved thresholds, the all-infinite case, a midpoint that
rounds onto a difference, and what the error messages list. Expected values are worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from spanqa.decode import tune_null_threshold
from spanqa.decode.threshold import END_MARGIN, threshold_sweep
from spanqa.errors import ConfigError, DataError
from spanqa.strategies.base import predicts_null
from test_null_threshold import prediction, record


def test_float32_differences_give_float64_thresholds() -> None:
    """Logits are often float32: the candidates are still the float64 midpoints of those values."""
    diffs = np.array([0.1, 0.2], dtype=np.float32)
    a, b = float(diffs[0]), float(diffs[1])  # 0.10000000149011612, 0.20000000298023224
    sweep = threshold_sweep(diffs, [[1, 1], [1, 1]], [[0, 0], [0, 0]])
    assert sweep.thresholds.dtype == np.float64
    assert sweep.differences.dtype == np.float64
    assert sweep.thresholds.tolist() == [a - 1.0, (a + b) / 2, b + 1.0]
    assert (a + b) / 2 != float(np.float32(diffs[0] + diffs[1]) / np.float32(2))  # float32 would round
    assert sweep.differences.tolist() == [a, b]


def test_float32_null_scores_are_summed_in_float64() -> None:
    """Three null answers of F1 1/3 (float32): the all-null F1 is their float64 sum, not a float32 one."""
    third = np.float32(1 / 3)
    x = float(third)  # 0.3333333432674408 = 11184811 / 2**25; three of them sum exactly in float64
    sweep = threshold_sweep(
        [1.0, 2.0, 3.0], np.zeros((3, 2), dtype=np.float32), np.full((3, 2), third, dtype=np.float32)
    )
    assert 3 * x != float(third + third + third)  # the float32 sum rounds
    # Candidate 0 (below every difference) makes every question null.
    assert sweep.f1[0] == (x + x + x) * (100.0 / 3)
    assert sweep.exact[0] == (x + x + x) * (100.0 / 3)
    assert sweep.f1[-1] == 0.0  # above every difference: every span, all scoring 0


def test_only_infinite_differences_have_one_candidate_at_zero() -> None:
    """+inf (no span: always null) and -inf (no null score: never null) leave nothing to tune."""
    span = [[1, 1.0], [1, 1.0]]
    null = [[0, 0.0], [0, 0.0]]
    sweep = threshold_sweep([np.inf, -np.inf], span, null)
    assert sweep.thresholds.tolist() == [0.0]
    assert sweep.differences.size == 0
    # The +inf question is null (scores 0), the -inf one keeps its right span: 50% either way.
    assert sweep.exact.tolist() == [50.0]
    assert sweep.f1.tolist() == [50.0]
    assert sweep.at(-1e300) == (50.0, 50.0)
    assert sweep.at(1e300) == (50.0, 50.0)


def test_a_midpoint_that_rounds_onto_a_difference_follows_the_strict_rule() -> None:
    """Neighbouring floats 1.0 and 1.0 + 2**-52: their midpoint rounds to 1.0 itself. At that threshold
    the question at 1.0 keeps its span (``1.0 > 1.0`` is false), the other is null."""
    low = 1.0
    high = float(np.nextafter(1.0, 2.0))
    assert (low + high) / 2 == low
    span = [[1, 1.0], [0, 0.0]]  # 'low' is answerable and right ...
    null = [[0, 0.0], [1, 1.0]]  # ... 'high' is unanswerable
    sweep = threshold_sweep([low, high], span, null)
    assert sweep.thresholds.tolist() == [low - END_MARGIN, low, high + END_MARGIN]
    assert predicts_null(low, sweep.thresholds[1]) == np.False_
    assert predicts_null(high, sweep.thresholds[1]) == np.True_
    assert sweep.exact.tolist() == [50.0, 100.0, 50.0]
    assert sweep.f1.tolist() == [50.0, 100.0, 50.0]

    records = [record("low", ["Paris"]), record("high", [])]
    tuned = tune_null_threshold(
        {"low": prediction("low", "Paris", low), "high": prediction("high", "Rome", high)}, records
    )
    assert (tuned.best_f1, tuned.best_f1_thresh) == (100.0, low)
    assert (tuned.best_exact, tuned.best_exact_thresh) == (100.0, low)


@pytest.mark.parametrize(
    ("n_missing", "listed"),
    [
        (5, "5 have none ('q0', 'q1', 'q2', 'q3', 'q4')"),
        (6, "6 have none ('q0', 'q1', 'q2', 'q3', 'q4', ...)"),
    ],
)
def test_missing_predictions_message_lists_five_ids(n_missing: int, listed: str) -> None:
    records = [record(f"q{i}", ["x"]) for i in range(n_missing)] + [record("kept", ["x"])]
    with pytest.raises(DataError) as raised:
        tune_null_threshold({"kept": prediction("kept", "x", 0.0)}, records)
    assert str(raised.value).endswith(listed)


def test_error_messages_name_the_cause_and_the_fix() -> None:
    with pytest.raises(DataError, match="null_score_diff is NaN"):
        threshold_sweep([0.0, np.nan], [[1, 1], [1, 1]], [[0, 0], [0, 0]])
    with pytest.raises(DataError, match="no questions to tune a null threshold on"):
        threshold_sweep([], np.zeros((0, 2)), np.zeros((0, 2)))
    with pytest.raises(ConfigError, match=r"strategy \(DecodingConfig\.squad_v2\(\)\) to tune"):
        tune_null_threshold({"a": prediction("a", "x", None)}, [record("a", ["x"])])
