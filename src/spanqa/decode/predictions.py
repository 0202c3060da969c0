"""The results of decoding: :class:`Prediction` per example, with its :class:`Answer` candidates.

This module holds the result types and the one function that builds them from the final candidate table
(:func:`build_predictions`), so code that only reads predictions (reports, metrics, the command line) never
needs the search.

**Results** are built column-wise: every per-example value is computed with numpy over all examples, and
the :class:`Answer` objects of ``Prediction.n_best`` are built only when read (:class:`AnswerList`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from typing import Any, Literal, overload

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.decode._search import NEG_INF
from spanqa.features import EvalFeatures
from spanqa.strategies.base import CandidateTable, SearchPlan

__all__ = ["Answer", "AnswerList", "Flag", "Prediction", "build_predictions"]

Flag = Literal["no-context", "no-candidates"]


@attrs.frozen
class Answer:
    """One candidate answer of an example.

    Attributes:
        text: ``context[start:end]``.
        start, end: character span in the context (end exclusive).
        score: the raw ``start + end`` logit sum (less the window's null score with ``null-relative``; or
            a strategy's re-ranked score).
        probability: softmax over the example's candidates (and the null answer when it is considered).
        window: the window the score comes from.
    """

    text: str
    start: int
    end: int
    score: float
    probability: float
    window: int

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class _AnswerColumns:
    """The answers of one decode, columnar, shared by every :class:`AnswerList` of that decode: answers
    become objects only when read, from Python lists converted once, on first read."""

    def __init__(
        self,
        contexts: Sequence[str],
        example: npt.NDArray[np.int32],
        start: npt.NDArray[np.int32],
        end: npt.NDArray[np.int32],
        score: npt.NDArray[np.float64],
        probability: npt.NDArray[np.float64],
        window: npt.NDArray[np.int32],
    ) -> None:
        self._contexts = contexts
        self._arrays = (example, start, end, score, probability, window)

    @functools.cached_property
    def _lists(self) -> tuple[list[Any], ...]:
        return tuple(array.tolist() for array in self._arrays)

    def answer(self, row: int) -> Answer:
        example, start, end, score, probability, window = self._lists
        begin, stop = start[row], end[row]
        return Answer(
            self._contexts[example[row]][begin:stop], begin, stop, score[row], probability[row], window[row]
        )

    def answers(self, rows: range) -> list[Answer]:
        """The answers of ``rows``, built in one pass (cheaper than one :meth:`answer` call each)."""
        example, start, end, score, probability, window = self._lists
        # The same rows as a list slice (a descending range that ends before row 0 stops at -1, which a
        # slice would read as "the last row").
        part = slice(rows.start, rows.stop if rows.stop >= 0 else None, rows.step)
        starts, ends = start[part], end[part]
        contexts = self._contexts
        texts = [contexts[e][begin:stop] for e, begin, stop in zip(example[part], starts, ends, strict=True)]
        return list(map(Answer, texts, starts, ends, score[part], probability[part], window[part]))


class AnswerList(Sequence[Answer]):
    """An immutable sequence of :class:`Answer`, built on access.

    A decode with ``n_best_size=20`` has some twenty answers per question; building all of them as objects
    would cost more than the whole exact search, and most callers only read the best answer. The list
    compares equal to any sequence (a tuple, for example) of the same answers.
    """

    __slots__ = ("_columns", "_rows")

    def __init__(self, columns: _AnswerColumns, rows: range) -> None:
        self._columns = columns
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Answer: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Answer, ...]: ...

    def __getitem__(self, index: int | slice) -> Answer | tuple[Answer, ...]:
        if isinstance(index, slice):
            return tuple(self._columns.answers(self._rows[index]))
        return self._columns.answer(self._rows[index])

    def __iter__(self) -> Iterator[Answer]:
        return iter(self._columns.answers(self._rows))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


def _answers(value: Any) -> Sequence[Answer]:
    if isinstance(value, AnswerList):
        return value
    return tuple(value)


@attrs.frozen(slots=False)  # a __dict__ class: attrs then builds it about twice as fast
class Prediction:
    """The decoded answer of one example.

    Attributes:
        example_id: the example (question) id.
        text: the answer text (``""`` for the null answer or when there is no candidate at all).
        start, end: character span of the answer in the context (end exclusive); ``None`` when null.
        score: score of the predicted answer (the null score when the answer is null; ``-inf`` when there
            is no candidate at all).
        probability: its probability (softmax over the candidates, plus the null answer when considered).
        is_null: whether "no answer" was predicted (``null-answer`` strategy).
        null_score_diff: ``null_score - best_span_score`` (``None`` when ``null-answer`` is off); null is
            predicted iff it exceeds the null threshold.
        null_score, null_probability: score and probability of the null answer (``None`` when off).
        best_span_text: the best non-null answer, even when null wins (for threshold tuning).
        n_best: the top-k distinct answers, best first (null not included).
        flag: ``"no-context"`` when no window of the example had a context token to answer with,
            ``"no-candidates"`` when strategies filtered every candidate out; ``None`` otherwise.
    """

    example_id: str
    text: str
    start: int | None
    end: int | None
    score: float
    probability: float
    is_null: bool = False
    null_score_diff: float | None = None
    null_score: float | None = None
    null_probability: float | None = None
    best_span_text: str = ""
    n_best: Sequence[Answer] = attrs.field(default=(), converter=_answers)
    flag: Flag | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``n_best`` as a list of answer dicts)."""
        data = {field.name: getattr(self, field.name) for field in attrs.fields(Prediction)}
        data["n_best"] = [answer.to_dict() for answer in self.n_best]
        return data


def build_predictions(
    table: CandidateTable, features: EvalFeatures, before: npt.NDArray[np.intp], plan: SearchPlan
) -> dict[str, Prediction]:
    """Probabilities and every field of every :class:`Prediction`, computed column-wise over all examples;
    the only per-example Python work left is slicing the answer text and building the objects."""
    num_examples = table.num_examples
    example = table.example.astype(np.intp)
    pointers = table.pointers
    has_span = pointers[1:] > pointers[:-1]
    best = np.where(has_span, pointers[:-1], -1)  # table.best_row(), from the pointers at hand
    best_score = np.full(num_examples, NEG_INF)  # table.best_score()
    best_score[has_span] = table.score[best[has_span]]
    use_null = plan.null_scores
    null = table.null_score if use_null else np.full(num_examples, np.nan)
    has_null = ~np.isnan(null) & (null > NEG_INF)
    peak = np.where(has_null, np.fmax(best_score, null), best_score)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.exp(table.score - peak[example])
    null_weight = np.zeros(num_examples)
    null_weight[has_null] = np.exp(null[has_null] - peak[has_null])
    total = np.bincount(example, weights=weights, minlength=num_examples) + null_weight
    safe_total = np.where(total > 0, total, 1.0)
    probability = weights / safe_total[example]
    null_probability = null_weight / safe_total

    null_wins = table.is_null.astype(np.bool_)
    if len(table):
        safe_best = np.where(has_span, best, 0)
        best_start = np.where(has_span, table.start[safe_best], 0)
        best_end = np.where(has_span, table.end[safe_best], 0)
        best_probability = np.where(has_span, probability[safe_best], 0.0)
    else:
        best_start = best_end = np.zeros(num_examples, dtype=np.int32)
        best_probability = np.zeros(num_examples)
    # Examples without a span get start = end = 0: their best span text is context[0:0] == "".
    best_text = [
        context[begin:stop]
        for context, begin, stop in zip(
            features.contexts, best_start.tolist(), best_end.tolist(), strict=True
        )
    ]
    # The predicted answer: the null answer where it wins, else the best span, else nothing (-inf).
    null_value = np.where(np.isnan(null), NEG_INF, null)
    score = np.where(null_wins, null_value, best_score).tolist()
    answer_probability = np.where(null_wins, null_probability, best_probability).tolist()
    text = best_text
    starts: list[int | None] = best_start.tolist()
    ends: list[int | None] = best_end.tolist()
    no_span = np.flatnonzero(null_wins | ~has_span).tolist()
    if no_span:
        text = list(best_text)
        for i in no_span:
            text[i], starts[i], ends[i] = "", None, None
    flags: list[Flag | None] = [None] * num_examples
    for i in np.flatnonzero(~has_span).tolist():
        flags[i] = "no-context" if before[i] == 0 else "no-candidates"

    columns = _AnswerColumns(
        features.contexts, table.example, table.start, table.end, table.score, probability, table.window
    )
    reported_end = np.minimum(pointers[1:], pointers[:-1] + plan.top_k)
    n_best = list(
        map(AnswerList, itertools.repeat(columns), map(range, pointers[:-1].tolist(), reported_end.tolist()))
    )
    predictions = map(
        Prediction,
        features.example_ids,
        text,
        starts,
        ends,
        score,
        answer_probability,
        null_wins.tolist(),
        _floats_or_none(table.null_score_diff),
        _floats_or_none(null),
        null_probability.tolist() if use_null else itertools.repeat(None),
        best_text,
        n_best,
        flags,
    )
    return dict(zip(features.example_ids, predictions, strict=True))


def _floats_or_none(values: npt.NDArray[np.float64]) -> list[float | None]:
    """``values`` as Python floats, ``None`` where NaN (a value that was never set)."""
    missing = np.isnan(values)
    if missing.all():
        return [None] * values.shape[0]
    result: list[float | None] = values.astype(np.float64).tolist()
    for i in np.flatnonzero(missing).tolist():
        result[i] = None
    return result
