"""The evaluation report: pictures and a page that show *why* a reader scores what it scores.

A single EM/F1 pair hides the questions a practitioner asks next: is the null threshold on a plateau or on a
cliff, does the model answer too long or too short, can its probabilities be trusted, and what do its
mistakes look like. :func:`write_report` answers them from the predictions an evaluation already made (no
second forward pass) and writes, into one directory:

* ``metrics.json``: the metrics, plus the report's own summary figures (calibration error, lengths);
* ``null_threshold.png``: EM and F1 against the null threshold, the chosen threshold marked (only when the
  predictions carry null scores, i.e. were decoded with the ``null-answer`` strategy);
* ``answer_lengths.png``: the distribution of gold and predicted answer lengths, in words;
* ``calibration.png``: predicted probability against exact-match accuracy (a reliability diagram);
* ``errors.html``: every question not answered exactly, with gold and predicted spans highlighted in the
  context.

The numbers behind the plots (:func:`threshold_curve`, :func:`calibration_table`, :func:`answer_lengths`)
are plain numpy and need no plotting library. matplotlib (the ``report`` extra) is imported only when a
picture is drawn, always with the non-interactive Agg backend, so a report can be written on a server.
"""

from __future__ import annotations

import html
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.decode.threshold import ThresholdSweep, threshold_sweep
from spanqa.errors import ConfigError, DataError, some_ids
from spanqa.metrics import score_answer

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from spanqa.decode import Prediction

__all__ = [
    "CalibrationTable",
    "QuestionScores",
    "ReportFiles",
    "ThresholdCurve",
    "answer_lengths",
    "calibration_table",
    "question_scores",
    "require_plotting",
    "threshold_curve",
    "write_report",
]

#: How many context characters an error entry shows on either side of the gold and predicted spans.
_CONTEXT_MARGIN = 300


def _check_predictions(
    records: Sequence[Mapping[str, Any]], predictions: Mapping[str, Prediction]
) -> list[Prediction]:
    missing = [str(record["id"]) for record in records if record["id"] not in predictions]
    if missing:
        raise DataError(
            f"the report needs a prediction for every record: {len(missing)} have none ({some_ids(missing)})"
        )
    return [predictions[record["id"]] for record in records]


def _gold_texts(record: Mapping[str, Any]) -> list[str]:
    return list(record["answers"]["text"])


@attrs.frozen
class QuestionScores:
    """Per-question scores of the final predictions, in record order (SQuAD 2.0 rules).

    Attributes:
        exact, f1: exact match (0/1) and F1 (0..1) of each question's predicted text.
        probability: each prediction's probability (the null probability when null was predicted).
    """

    exact: npt.NDArray[np.float64]
    f1: npt.NDArray[np.float64]
    probability: npt.NDArray[np.float64]


def question_scores(
    records: Sequence[Mapping[str, Any]], predictions: Mapping[str, Prediction]
) -> QuestionScores:
    """Score every record's prediction; raises :class:`DataError` naming records without a prediction."""
    chosen = _check_predictions(records, predictions)
    pairs = [score_answer(p.text, _gold_texts(r)) for r, p in zip(records, chosen, strict=True)]
    scores = np.asarray(pairs, dtype=np.float64).reshape(len(pairs), 2)
    probability = np.asarray([p.probability for p in chosen], dtype=np.float64)
    return QuestionScores(exact=scores[:, 0], f1=scores[:, 1], probability=probability)


@attrs.frozen
class ThresholdCurve(ThresholdSweep):
    """EM and F1 (percent) of the whole set as functions of the null threshold: the
    :class:`~spanqa.decode.threshold.ThresholdSweep` the threshold is tuned with, and ``chosen``, the
    threshold the decoder used (``None`` if unknown)."""

    chosen: float | None = None

    @property
    def best_f1_threshold(self) -> float:
        """The candidate threshold with the best F1 (the lowest on a tie): what tuning chooses."""
        return self.best(self.f1)[1]


def threshold_curve(
    records: Sequence[Mapping[str, Any]],
    predictions: Mapping[str, Prediction],
    chosen: float | None = None,
) -> ThresholdCurve | None:
    """EM/F1 against the null threshold (``None`` without null scores): the candidates and scores of
    :func:`spanqa.decode.threshold.threshold_sweep`, the very sweep the threshold is tuned with."""
    chosen_predictions = _check_predictions(records, predictions)
    if not chosen_predictions or any(p.null_score_diff is None for p in chosen_predictions):
        return None
    pairs = list(zip(records, chosen_predictions, strict=True))
    sweep = threshold_sweep(
        [p.null_score_diff for p in chosen_predictions if p.null_score_diff is not None],
        [score_answer(p.best_span_text, _gold_texts(r)) for r, p in pairs],
        [score_answer("", _gold_texts(r)) for r in records],
    )
    return ThresholdCurve(**attrs.asdict(sweep, recurse=False), chosen=chosen)


@attrs.frozen
class CalibrationTable:
    """A reliability diagram's numbers: equal-width probability bins with their mean probability,
    exact-match accuracy and size (empty bins hold NaN), plus the expected calibration error (the
    size-weighted mean gap between probability and accuracy)."""

    edges: npt.NDArray[np.float64]
    mean_probability: npt.NDArray[np.float64]
    accuracy: npt.NDArray[np.float64]
    count: npt.NDArray[np.int64]
    expected_calibration_error: float


def calibration_table(scores: QuestionScores, bins: int = 10) -> CalibrationTable:
    """Bin the predictions by probability and compare each bin's mean probability with its accuracy."""
    if bins < 1:
        raise ConfigError(f"calibration bins must be at least 1, got {bins}")
    edges = np.linspace(0.0, 1.0, bins + 1)
    probability = np.clip(np.nan_to_num(scores.probability, nan=0.0), 0.0, 1.0)
    index = np.minimum(np.searchsorted(edges, probability, side="right") - 1, bins - 1)
    count = np.bincount(index, minlength=bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_probability = np.bincount(index, weights=probability, minlength=bins) / count
        accuracy = np.bincount(index, weights=scores.exact, minlength=bins) / count
    filled = count > 0
    gaps = np.abs(mean_probability[filled] - accuracy[filled]) * count[filled]
    ece = float(gaps.sum() / max(int(count.sum()), 1))
    return CalibrationTable(edges, mean_probability, accuracy, count, ece)


def answer_lengths(
    records: Sequence[Mapping[str, Any]], predictions: Mapping[str, Prediction]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(gold, predicted) answer lengths in words; the gold side uses each question's first answer and
    skips unanswerable questions, the predicted side counts a null answer as 0 words."""
    chosen = _check_predictions(records, predictions)
    gold = [len(r["answers"]["text"][0].split()) for r in records if r["answers"]["text"]]
    predicted = [len(p.text.split()) for p in chosen]
    return np.asarray(gold, dtype=np.int64), np.asarray(predicted, dtype=np.int64)


# --------------------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported on first use (the ``report`` extra)."""
    try:
        import matplotlib
    except ImportError as error:
        raise ConfigError(
            "the evaluation report draws its plots with matplotlib, which is not installed: "
            "pip install 'spanqa[report]'"
        ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def require_plotting() -> None:
    """Raise :class:`ConfigError` now if matplotlib (the ``report`` extra) is missing, so a command can fail
    before a long evaluation rather than after it."""
    _pyplot()


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)
    return path


def _plot_threshold(curve: ThresholdCurve, path: Path) -> Path:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.2))
    # The scores step at the questions' differences (a difference equal to the threshold keeps its span).
    steps = np.r_[curve.thresholds[0], curve.differences, curve.thresholds[-1]]
    axes.step(steps, np.r_[curve.exact, curve.exact[-1]], where="post", label="EM", color="tab:blue")
    axes.step(steps, np.r_[curve.f1, curve.f1[-1]], where="post", label="F1", color="tab:orange")
    if curve.chosen is not None:
        exact, f1 = curve.at(curve.chosen)
        axes.axvline(
            curve.chosen,
            color="tab:red",
            linestyle="--",
            linewidth=1,
            label=f"chosen threshold {curve.chosen:.3g} (EM {exact:.1f} / F1 {f1:.1f})",
        )
        axes.plot([curve.chosen, curve.chosen], [exact, f1], "o", color="tab:red")
    axes.set_xlabel("null threshold (predict no answer iff null score - best span score > threshold)")
    axes.set_ylabel("score (%)")
    axes.set_title("EM and F1 against the null threshold")
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    return _save(figure, path)


def _plot_lengths(gold: npt.NDArray[np.int64], predicted: npt.NDArray[np.int64], path: Path) -> Path:
    plt = _pyplot()
    cap = 30  # longer answers share the last bar, so one outlier does not squash the plot
    bins = np.arange(0, cap + 2) - 0.5
    figure, axes = plt.subplots(figsize=(7, 4.2))
    axes.hist(
        [np.minimum(gold, cap), np.minimum(predicted, cap)],
        bins=bins,
        label=[f"gold (n={gold.size})", f"predicted (n={predicted.size}, null = 0)"],
        color=["tab:green", "tab:purple"],
    )
    axes.set_xlabel(f"answer length (words; {cap} = {cap} or more)")
    axes.set_ylabel("questions")
    axes.set_title("Answer lengths: gold vs predicted")
    axes.legend()
    axes.grid(alpha=0.3, axis="y")
    return _save(figure, path)


def _plot_calibration(table: CalibrationTable, path: Path) -> Path:
    plt = _pyplot()
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    filled = table.count > 0
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    top.plot(table.mean_probability[filled], table.accuracy[filled], "o-", color="tab:blue", label="model")
    top.set_ylabel("exact-match accuracy")
    top.set_title(f"Calibration (expected calibration error {table.expected_calibration_error:.3f})")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    width = table.edges[1] - table.edges[0]
    bottom.bar(table.edges[:-1], table.count, width=width, align="edge", color="tab:blue", alpha=0.6)
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("questions")
    return _save(figure, path)


# --------------------------------------------------------------------------------------------------------
# The error page
# --------------------------------------------------------------------------------------------------------

_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.5; }
.entry { border-top: 1px solid #ccc; padding: 0.6em 0; }
.meta { color: #555; font-size: 0.9em; }
.context { background: #fafafa; padding: 0.5em; white-space: pre-wrap; }
mark.gold { background: #b6f2b6; }
mark.pred { background: #f7c6c6; }
mark.both { background: #f2e27a; }
.legend mark { padding: 0 0.3em; }
"""


def _highlight(context: str, gold: Sequence[tuple[int, int]], predicted: tuple[int, int] | None) -> str:
    """The context around the spans, HTML-escaped, with gold, predicted and overlapping characters
    wrapped in ``<mark>`` elements of their own class."""
    size = len(context)
    marks = np.zeros(size + 1, dtype=np.int8)
    spans = [(s, e, 1) for s, e in gold]
    if predicted is not None:
        spans.append((*predicted, 2))
    for start, end, bit in spans:
        start, end = max(0, min(start, size)), max(0, min(end, size))
        marks[start:end] |= bit
    spanned = [pos for s, e, _ in spans for pos in (s, e)]
    low = max(0, min(spanned, default=0) - _CONTEXT_MARGIN)
    high = min(size, max(spanned, default=0) + _CONTEXT_MARGIN)
    cuts = [low, *(np.flatnonzero(np.diff(marks[low:high]) != 0) + low + 1).tolist(), high]
    parts = ["…" if low > 0 else ""]
    for begin, stop in itertools.pairwise(cuts):
        if begin >= stop:
            continue
        text = html.escape(context[begin:stop])
        kind = {0: "", 1: "gold", 2: "pred", 3: "both"}[int(marks[begin])]
        parts.append(f'<mark class="{kind}">{text}</mark>' if kind else text)
    parts.append("…" if high < size else "")
    return "".join(parts)


def _gold_spans(record: Mapping[str, Any]) -> list[tuple[int, int]]:
    answers = record["answers"]
    return [
        (int(start), int(start) + len(text))
        for text, start in zip(answers["text"], answers["answer_start"], strict=True)
    ]


def _error_page(
    records: Sequence[Mapping[str, Any]],
    predictions: Mapping[str, Prediction],
    scores: QuestionScores,
    max_errors: int,
) -> str:
    wrong = np.flatnonzero(scores.exact < 1)
    # Worst first: lowest F1, then the most confident mistakes.
    order = wrong[np.lexsort((-scores.probability[wrong], scores.f1[wrong]))]
    shown = order[:max_errors]
    entries = []
    for row in shown.tolist():
        record = records[row]
        prediction = predictions[record["id"]]
        predicted_span = (
            None
            if prediction.is_null or prediction.start is None or prediction.end is None
            else (prediction.start, prediction.end)
        )
        golds = ", ".join(f"“{html.escape(text)}”" for text in record["answers"]["text"]) or "no answer"
        predicted_text = f"“{html.escape(prediction.text)}”" if prediction.text else "no answer"
        entries.append(
            f'<div class="entry" id="{html.escape(str(record["id"]), quote=True)}">'
            f"<p><b>{html.escape(record['question'])}</b></p>"
            f'<p class="meta">id {html.escape(str(record["id"]))} · F1 {100 * scores.f1[row]:.1f} · '
            f"probability {scores.probability[row]:.3f}</p>"
            f"<p>gold: {golds}<br>predicted: {predicted_text}</p>"
            f'<div class="context">{_highlight(record["context"], _gold_spans(record), predicted_span)}</div>'
            "</div>"
        )
    omitted = len(order) - len(shown)
    summary = (
        f"{len(wrong)} of {len(records)} questions not answered exactly"
        + (f"; the {len(shown)} worst are shown ({omitted} omitted)" if omitted else "")
        + ", lowest F1 first."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>spanqa: errors</title><style>{_PAGE_STYLE}</style></head><body>"
        f"<h1>Errors</h1><p>{summary}</p>"
        '<p class="legend"><mark class="gold">gold</mark> <mark class="pred">predicted</mark> '
        '<mark class="both">both</mark></p>' + "\n".join(entries) + "</body></html>\n"
    )


# --------------------------------------------------------------------------------------------------------
# Writing it all
# --------------------------------------------------------------------------------------------------------


@attrs.frozen
class ReportFiles:
    """The paths :func:`write_report` wrote (``null_threshold_plot`` is ``None`` without null scores)."""

    directory: Path
    metrics: Path
    answer_lengths_plot: Path
    calibration_plot: Path
    errors_page: Path
    null_threshold_plot: Path | None = None


def write_report(
    directory: str | os.PathLike[str],
    records: Sequence[Mapping[str, Any]],
    predictions: Mapping[str, Prediction],
    *,
    metrics: Mapping[str, float] | None = None,
    null_threshold: float | None = None,
    max_errors: int = 200,
) -> ReportFiles:
    """Write the evaluation report of ``predictions`` on ``records`` into ``directory`` (created).

    Args:
        records: the evaluated records (flat :data:`~spanqa.QARecord` dicts with contexts and gold answers).
        predictions: their predictions by id, as returned by an evaluation or a decoder.
        metrics: the evaluation's metrics, copied into ``metrics.json``.
        null_threshold: the threshold the predictions were decoded with, marked on the threshold plot.
        max_errors: how many errors the HTML page lists (worst first).

    Raises:
        ConfigError: matplotlib is missing, or ``max_errors`` is negative.
        DataError: a record has no prediction, or the directory cannot be written.
    """
    if max_errors < 0:
        raise ConfigError(f"max_errors must be >= 0, got {max_errors}")
    if not records:
        raise DataError("the report needs at least one evaluated record")
    require_plotting()
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"cannot create the report directory {str(out)!r}: {error}") from error

    scores = question_scores(records, predictions)
    curve = threshold_curve(records, predictions, chosen=null_threshold)
    table = calibration_table(scores)
    gold_lengths, predicted_lengths = answer_lengths(records, predictions)

    summary: dict[str, Any] = {
        "metrics": dict(metrics or {}),
        "questions": len(records),
        "errors": int(np.count_nonzero(scores.exact < 1)),
        "expected_calibration_error": table.expected_calibration_error,
        "mean_gold_length_words": float(gold_lengths.mean()) if gold_lengths.size else None,
        "mean_predicted_length_words": float(predicted_lengths.mean()),
        "null_threshold": null_threshold,
    }
    threshold_plot = None
    if curve is not None:
        threshold_plot = _plot_threshold(curve, out / "null_threshold.png")
        summary["best_f1_threshold_on_curve"] = curve.best_f1_threshold
    files = ReportFiles(
        directory=out,
        metrics=out / "metrics.json",
        answer_lengths_plot=_plot_lengths(gold_lengths, predicted_lengths, out / "answer_lengths.png"),
        calibration_plot=_plot_calibration(table, out / "calibration.png"),
        errors_page=out / "errors.html",
        null_threshold_plot=threshold_plot,
    )
    files.errors_page.write_text(_error_page(records, predictions, scores, max_errors), encoding="utf-8")
    files.metrics.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return files
