"""Null-threshold tuning: pick, on a dev set, the score margin above which "no answer" is predicted.

:func:`tune_null_threshold` scores every candidate threshold with the official SQuAD 2.0 search
(:func:`spanqa.metrics.best_thresholds`); :class:`NullThreshold` holds the result and applies it to a
:class:`~spanqa.decode.config.DecodingConfig`. This is the only decode module that depends on
:mod:`spanqa.metrics`: the search itself never needs the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from spanqa.decode.config import NULL_ANSWER, DecodingConfig
from spanqa.decode.predictions import Prediction
from spanqa.errors import ConfigError
from spanqa.metrics import GoldSource, best_thresholds

__all__ = ["NullThreshold", "tune_null_threshold"]


@attrs.frozen
class NullThreshold:
    """The null thresholds tuned on a dev set by :func:`tune_null_threshold`.

    A question is predicted unanswerable iff ``null_score_diff > threshold``. ``best_f1`` and
    ``best_exact`` are the dev-set scores (percent) reached with ``best_f1_thresh`` / ``best_exact_thresh``.
    """

    best_f1_thresh: float
    best_exact_thresh: float
    best_f1: float
    best_exact: float

    def apply(self, config: DecodingConfig) -> DecodingConfig:
        """``config`` with the best-F1 threshold (what a saved model should decode with)."""
        return config.with_null_threshold(self.best_f1_thresh)


def tune_null_threshold(predictions: Mapping[str, Prediction], gold: GoldSource) -> NullThreshold:
    """Tune the null threshold in one pass, as the official SQuAD 2.0 script's ``find_best_thresh``.

    ``predictions`` must come from a decoder with ``null-answer`` (so each has ``null_score_diff``); their
    best non-null texts and ``null_score_diff`` values go to :func:`spanqa.metrics.best_thresholds`.
    Apply the result with :meth:`NullThreshold.apply` or :meth:`SpanDecoder.apply_null_threshold`.
    """
    texts: dict[str, str] = {}
    diffs: dict[str, float] = {}
    for example_id, prediction in predictions.items():
        if prediction.null_score_diff is None:
            raise ConfigError(
                f"prediction {example_id!r} has no null_score_diff: decode with the {NULL_ANSWER!r} strategy "
                "(DecodingConfig.squad_v2()) to tune a null threshold"
            )
        texts[example_id] = prediction.best_span_text
        diffs[example_id] = prediction.null_score_diff
    found = best_thresholds(gold, texts, diffs)
    return NullThreshold(
        best_f1_thresh=found.best_f1_thresh,
        best_exact_thresh=found.best_exact_thresh,
        best_f1=found.best_f1,
        best_exact=found.best_exact,
    )
