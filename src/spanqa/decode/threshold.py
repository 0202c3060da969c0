"""The null threshold: tuned on a dev set, saved with the model, applied by the one null rule.

The rule lives in :func:`spanqa.strategies.base.predicts_null`: a question is predicted unanswerable
iff ``null_score_diff > threshold``. This module finds the threshold with the best score on a dev set and
is the only place that says which value is saved (:class:`NullThreshold`, :func:`threshold_sweep`).

**Which value is saved, and why.** EM and F1 are step functions of the threshold that change only at the
questions' own differences. The candidates are therefore one threshold below the smallest difference
(every question null), the midpoint between each two neighbouring distinct differences, and one above the
largest (no question null), :data:`END_MARGIN` beyond the extremes. The best candidate (the lowest one on
a tie, as the official script) is what :func:`tune_null_threshold` returns and what
:meth:`NullThreshold.apply`, ``QAFineTuner.evaluate`` and ``spanqa evaluate --save`` save: no
margin is added later, because a midpoint already sits between two tuning questions, so float noise of
another batch layout cannot flip one, and predicting with the saved value reproduces the reported best
score on the data it was tuned on. (For two differences one float apart the midpoint rounds onto one of
them; the strict ``>`` of the rule still keeps that question's span, as the sweep counts it.)

**Why not the official ``find_best_thresh``.** It expects no-answer *probabilities* in [0, 1] and starts
its search at 0.0, which on score differences is not "every question null": on a dev set where every
difference is negative it reports the all-null F1 at threshold 0.0, a threshold that predicts no null at
all. ``spanqa score`` keeps the official numbers; this module is what spanqa tunes and applies.

With :mod:`spanqa.decode.tuning` (which scores whole decodings), the only decode module that depends on
:mod:`spanqa.metrics` (for per-question scores).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.decode.config import NULL_ANSWER, DecodingConfig
from spanqa.decode.predictions import Prediction
from spanqa.errors import ConfigError, DataError, some_ids
from spanqa.metrics import GoldSource, load_gold, score_answer

__all__ = ["END_MARGIN", "NullThreshold", "ThresholdSweep", "threshold_sweep", "tune_null_threshold"]

#: How far beyond the smallest (largest) difference the "every question null" ("none null") candidate
#: lies, in logit units.
END_MARGIN = 1.0


@attrs.frozen
class ThresholdSweep:
    """EM and F1 (percent of all questions) at every candidate threshold, ascending.

    ``differences`` are the questions' distinct finite ``null_score_diff`` values, ascending, where the
    scores step; ``thresholds[i]`` lies between ``differences[i - 1]`` and ``differences[i]`` and decides
    every question as any threshold there does; ``exact[i]`` / ``f1[i]`` are the scores predicting with it.
    """

    thresholds: npt.NDArray[np.float64]
    exact: npt.NDArray[np.float64]
    f1: npt.NDArray[np.float64]
    differences: npt.NDArray[np.float64]

    def at(self, threshold: float) -> tuple[float, float]:
        """(EM, F1) in percent predicting with any ``threshold`` (read from the step function)."""
        index = int(np.searchsorted(self.differences, threshold, side="right"))
        return float(self.exact[index]), float(self.f1[index])

    def best(self, scores: npt.NDArray[np.float64]) -> tuple[float, float]:
        """(best score, its threshold): the lowest threshold reaching the maximum of ``scores``."""
        index = int(np.argmax(scores))
        return float(scores[index]), float(self.thresholds[index])


def threshold_sweep(
    diffs: npt.ArrayLike,
    span_scores: npt.ArrayLike,
    null_scores: npt.ArrayLike,
) -> ThresholdSweep:
    """The scores of every candidate threshold (see the module docstring) in one sort.

    Args:
        diffs: ``(n,)`` each question's ``null_score_diff`` (``+inf``: no span, always null; ``-inf``: no
            null score, never null).
        span_scores, null_scores: ``(n, 2)`` exact match (0/1) and F1 (0..1) of each question's best span
            and of the null answer.

    The score at a threshold is the null scores of the questions the rule makes null plus the span scores
    of the others; sorting by difference turns that into one cumulative sum (a test checks it against
    applying :func:`~spanqa.strategies.base.predicts_null` question by question).
    """
    diff = np.asarray(diffs, dtype=np.float64)
    span = np.asarray(span_scores, dtype=np.float64).reshape(-1, 2)
    null = np.asarray(null_scores, dtype=np.float64).reshape(-1, 2)
    if np.isnan(diff).any():
        raise DataError("a null_score_diff is NaN: the null threshold cannot be tuned on it")
    if not len(diff):
        raise DataError("no questions to tune a null threshold on")
    distinct = np.unique(diff[np.isfinite(diff)])
    if distinct.size:
        thresholds = np.concatenate(
            ([distinct[0] - END_MARGIN], (distinct[:-1] + distinct[1:]) / 2, [distinct[-1] + END_MARGIN])
        )
    else:
        thresholds = np.zeros(1)
    order = np.argsort(diff, kind="stable")
    gains = np.vstack([np.zeros((1, 2)), np.cumsum(span[order] - null[order], axis=0)])
    # Questions kept as spans at threshold t: those with diff <= t, i.e. not predicts_null(diff, t).
    kept = np.searchsorted(diff[order], thresholds, side="right")
    totals = null.sum(axis=0) + gains[kept]
    scale = 100.0 / len(diff)
    return ThresholdSweep(
        thresholds=thresholds, exact=totals[:, 0] * scale, f1=totals[:, 1] * scale, differences=distinct
    )


@attrs.frozen
class NullThreshold:
    """The null thresholds tuned on a dev set by :func:`tune_null_threshold`.

    A question is predicted unanswerable iff ``null_score_diff > threshold``. ``best_f1`` and
    ``best_exact`` are the dev-set scores (percent) that predicting with ``best_f1_thresh`` /
    ``best_exact_thresh`` reaches on that dev set, exactly.
    """

    best_f1_thresh: float
    best_exact_thresh: float
    best_f1: float
    best_exact: float

    def apply(self, config: DecodingConfig) -> DecodingConfig:
        """``config`` with the best-F1 threshold: the value a saved model decodes with."""
        return config.with_null_threshold(self.best_f1_thresh)


def tune_null_threshold(predictions: Mapping[str, Prediction], gold: GoldSource) -> NullThreshold:
    """Tune the null threshold for the best F1 (and, separately, the best EM) on a dev set, in one pass.

    ``predictions`` must come from a decoder with ``null-answer`` (so each has ``null_score_diff``) and
    cover every gold question. Apply the result with :meth:`NullThreshold.apply` (what a saved model
    uses) or :meth:`spanqa.SpanDecoder.apply_null_threshold`.
    """
    gold_set = load_gold(gold)
    missing = gold_set.missing_ids(predictions)
    if missing:
        raise DataError(
            f"tuning a null threshold needs a prediction for every gold question: {len(missing)} have "
            f"none ({some_ids(missing)})"
        )
    diffs, span, null = [], [], []
    for question in gold_set.questions:
        prediction = predictions[question.id]
        if prediction.null_score_diff is None:
            raise ConfigError(
                f"prediction {question.id!r} has no null_score_diff: decode with the {NULL_ANSWER!r} "
                "strategy (DecodingConfig.squad_v2()) to tune a null threshold"
            )
        diffs.append(prediction.null_score_diff)
        span.append(score_answer(prediction.best_span_text, question.answers))
        null.append(score_answer("", question.answers))
    sweep = threshold_sweep(diffs, span, null)
    best_exact, exact_threshold = sweep.best(sweep.exact)
    best_f1, f1_threshold = sweep.best(sweep.f1)
    return NullThreshold(
        best_f1_thresh=f1_threshold, best_exact_thresh=exact_threshold, best_f1=best_f1, best_exact=best_exact
    )
