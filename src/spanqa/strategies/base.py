"""The decoding-strategy protocol: what a strategy is, the search plan it can adjust, and the candidate table
it filters and re-ranks.

Decoding has two stages, and a strategy takes part in either or both:

1. **Search** (per window, exact and vectorised, done by the :class:`~spanqa.SpanDecoder`). Strategies
   shape it through :meth:`Strategy.plan`, which receives the :class:`SearchPlan` built by the strategies
   before it and returns an adjusted one (a tighter length cap, more candidates per window, null scores).
   Built-ins combine monotonically (the cap only shrinks, the candidate count only grows, the flags
   are only switched on), so their order does not matter for the plan.
2. **Selection** (per example, over the candidates of all its windows, merged and de-duplicated by
   character span). Strategies run in the configured order through :meth:`Strategy.select`, each receiving
   the :class:`CandidateTable` returned by the one before. A table is columnar (numpy arrays over all
   examples at once), so a strategy is a handful of vectorised operations, not a Python loop per example.

A third-party strategy subclasses :class:`Strategy`, gives it a unique ``name`` and an attrs frozen
``Options`` class whose fields all have defaults, and registers it through the
``spanqa_register_strategies`` hook (see :mod:`spanqa.hookspecs`). :mod:`spanqa.testing` holds the
contract suite every strategy must pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.errors import ConfigError

#: What a strategy name must look like: lowercase words joined by single hyphens (``"n-best"``).
STRATEGY_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


# --------------------------------------------------------------------------------------------------------
# Validators and converters shared by strategy options (attrs callables, so errors name the field).


def _field_label(instance: Any, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__qualname__}.{attribute.name}"


def int_at_least(minimum: int) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: the value is an ``int`` (never a ``bool``) and at least ``minimum``."""

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(
                f"{_field_label(instance, attribute)} must be an integer >= {minimum}, got {value!r}"
            )

    return validate


def optional_int_at_least(minimum: int) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """Like :func:`int_at_least`, but ``None`` is allowed (meaning "no limit" or "same as another field")."""
    check = int_at_least(minimum)

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check(instance, attribute, value)

    return validate


def to_float(value: Any) -> Any:
    """An attrs converter: JSON integers become floats; anything else is left for the validator to judge."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def real_number(*, allow_infinite: bool = False) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: the value is a ``float`` that is not NaN (and finite unless allowed)."""

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        ok = isinstance(value, float) and not math.isnan(value) and (allow_infinite or math.isfinite(value))
        if not ok:
            kind = "a number" if allow_infinite else "a finite number"
            raise ConfigError(f"{_field_label(instance, attribute)} must be {kind}, got {value!r}")

    return validate


def non_negative(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    """An attrs validator: the (already type-checked) number is >= 0."""
    if value < 0:
        raise ConfigError(f"{_field_label(instance, attribute)} must be >= 0, got {value!r}")


@attrs.frozen
class NoOptions:
    """The options of a strategy that has none."""


def options_to_dict(options: Any) -> dict[str, Any]:
    """A strategy's options as a JSON-ready dictionary (field name -> value)."""
    return {field.alias: getattr(options, field.name) for field in attrs.fields(type(options)) if field.init}


def options_from_dict(options_cls: type[Any], data: Any, *, where: str) -> Any:
    """Build ``options_cls`` from a JSON object, naming ``where`` (for example ``options.n-best``) and the
    offending key in the :class:`~spanqa.ConfigError` raised for unknown keys or invalid values."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a JSON object, got {type(data).__name__}")
    known = {field.alias: field for field in attrs.fields(options_cls) if field.init}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown option (known: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        return options_cls(**data)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: {error}") from error


# --------------------------------------------------------------------------------------------------------
# Stage 1: the search plan.


def predicts_null(null_score_diff: npt.ArrayLike, threshold: npt.ArrayLike) -> Any:
    """The null rule, written once: "no answer" iff ``null_score_diff > threshold`` (element-wise).

    The strategy decides with it, :meth:`spanqa.SpanDecoder.apply_null_threshold` re-decides with it, and
    :mod:`spanqa.decode.threshold` tunes (and the report plots) thresholds for it. Strict ``>``: a question
    whose difference equals the threshold keeps its span, as in the official SQuAD 2.0 script.
    """
    return np.greater(null_score_diff, threshold)


@attrs.frozen
class SearchPlan:
    """What the exact per-window search computes; strategies adjust it in :meth:`Strategy.plan`.

    Attributes:
        max_answer_length: longest answer, in tokens (``None``: the whole window). The search cost is
            ``O(L x log(max_answer_length))`` per window, so a cap is cheap but never required.
        n_best_size: distinct candidates kept per window *and* per example after merging its windows.
        top_k: answers reported per prediction (``Prediction.n_best``); at most ``n_best_size``.
        null_scores: compute each window's null score (``start[cls] + end[cls]``); the example's null score
            is the minimum over its windows.
        relative_to_null: score every span relative to its window's null score (``start + end -
            (start[cls] + end[cls])``) before the windows of an example are merged; each window's null
            score, and so the example's, is then 0. Rankings inside a window do not change.
    """

    max_answer_length: int | None = attrs.field(default=None, validator=optional_int_at_least(1))
    n_best_size: int = attrs.field(default=1, validator=int_at_least(1))
    top_k: int = attrs.field(default=1, validator=int_at_least(1))
    null_scores: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    relative_to_null: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    def __attrs_post_init__(self) -> None:
        if self.top_k > self.n_best_size:
            raise ConfigError(f"SearchPlan.top_k ({self.top_k}) exceeds n_best_size ({self.n_best_size})")

    def capped(self, max_answer_length: int) -> SearchPlan:
        """The plan with the length cap lowered to ``max_answer_length`` (never raised)."""
        current = self.max_answer_length
        cap = max_answer_length if current is None else min(current, max_answer_length)
        return attrs.evolve(self, max_answer_length=cap)

    def keeping(self, n_best_size: int) -> SearchPlan:
        """The plan keeping at least ``n_best_size`` candidates per window and example (never fewer)."""
        return attrs.evolve(self, n_best_size=max(self.n_best_size, n_best_size))


# --------------------------------------------------------------------------------------------------------
# Stage 2: the candidate table.


def _group_pointers(example: npt.NDArray[np.int32], num_examples: int) -> npt.NDArray[np.intp]:
    pointers: npt.NDArray[np.intp] = np.searchsorted(example, np.arange(num_examples + 1), side="left")
    return pointers


def ranking_order(
    example: npt.NDArray[Any], score: npt.NDArray[Any], start: npt.NDArray[Any], end: npt.NDArray[Any]
) -> npt.NDArray[np.intp]:
    """The canonical candidate order: by example, then score (highest first), then the lowest start
    character, then the shortest span. Every tie is broken the same way, so decoding is deterministic."""
    order: npt.NDArray[np.intp] = np.lexsort((end, start, -score, example))
    return order


@attrs.frozen(eq=False)
class CandidateTable:
    """All answer candidates of a decode, columnar, one row per distinct character span of an example.

    Rows are grouped by example (ascending) and ranked inside each group by :func:`ranking_order`. A span
    found in several windows appears once, with its highest score (``score`` is the raw ``start + end``
    logit sum, compared across the windows of one model as in google-research ``run_squad``; with
    ``plan.relative_to_null`` it is that sum minus the window's null score).

    Strategies never edit arrays in place: :meth:`filter`, :meth:`rescore`, :meth:`top` and
    :meth:`with_null` return new tables that keep the ordering invariant.

    Attributes:
        num_examples: examples of the decode (some may have no rows).
        example: ``(m,)`` example index of each row.
        start, end: ``(m,)`` character span ``[start, end)`` in the example's context.
        score: ``(m,)`` candidate score (``float64``).
        window: ``(m,)`` window the score comes from.
        start_token, end_token: ``(m,)`` token positions inside that window (inclusive).
        null_score: ``(num_examples,)`` the example's null score (NaN when not computed or no window).
        is_null: ``(num_examples,)`` whether the example's prediction is the null answer.
        null_score_diff: ``(num_examples,)`` ``null_score - best span score`` (NaN when no strategy set it).
        contexts: the example contexts, to read candidate texts (:meth:`texts`).
        plan: the search plan the candidates were found with.
    """

    num_examples: int
    example: npt.NDArray[np.int32]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    score: npt.NDArray[np.float64]
    window: npt.NDArray[np.int32]
    start_token: npt.NDArray[np.int32]
    end_token: npt.NDArray[np.int32]
    null_score: npt.NDArray[np.float64]
    is_null: npt.NDArray[np.bool_]
    null_score_diff: npt.NDArray[np.float64]
    contexts: Sequence[str]
    plan: SearchPlan

    #: Names of the per-row columns (all of length ``len(table)``).
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "example",
        "start",
        "end",
        "score",
        "window",
        "start_token",
        "end_token",
    )
    #: Names of the per-example columns (all of length ``num_examples``).
    EXAMPLE_COLUMNS: ClassVar[tuple[str, ...]] = ("null_score", "is_null", "null_score_diff")

    def __len__(self) -> int:
        return int(self.example.shape[0])

    # ---- views ---------------------------------------------------------------------------------------
    @property
    def pointers(self) -> npt.NDArray[np.intp]:
        """``(num_examples + 1,)``: rows of example ``e`` are ``pointers[e]:pointers[e + 1]``."""
        return _group_pointers(self.example, self.num_examples)

    @property
    def counts(self) -> npt.NDArray[np.intp]:
        """``(num_examples,)``: number of candidates of each example."""
        counts: npt.NDArray[np.intp] = np.diff(self.pointers)
        return counts

    @property
    def rank(self) -> npt.NDArray[np.intp]:
        """``(m,)``: rank of each row inside its example (0 = best)."""
        pointers = self.pointers
        rank: npt.NDArray[np.intp] = np.arange(len(self)) - pointers[self.example]
        return rank

    @property
    def token_length(self) -> npt.NDArray[np.int32]:
        """``(m,)``: answer length in tokens of its window."""
        length: npt.NDArray[np.int32] = self.end_token - self.start_token + 1
        return length

    def best_row(self) -> npt.NDArray[np.intp]:
        """``(num_examples,)``: row of each example's best candidate, ``-1`` when it has none."""
        pointers = self.pointers
        has = pointers[1:] > pointers[:-1]
        best: npt.NDArray[np.intp] = np.where(has, pointers[:-1], -1)
        return best

    def best_score(self) -> npt.NDArray[np.float64]:
        """``(num_examples,)``: score of each example's best candidate, ``-inf`` when it has none."""
        best = self.best_row()
        scores: npt.NDArray[np.float64] = np.full(self.num_examples, -np.inf)
        has = best >= 0
        scores[has] = self.score[best[has]]
        return scores

    def texts(self, rows: npt.ArrayLike | None = None) -> list[str]:
        """Candidate texts of the given rows (all by default), read from the contexts."""
        index = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.intp)
        examples = self.example[index].tolist()
        starts = self.start[index].tolist()
        ends = self.end[index].tolist()
        contexts = self.contexts
        return [contexts[e][s:t] for e, s, t in zip(examples, starts, ends, strict=True)]

    # ---- transformations -----------------------------------------------------------------------------
    def _take(self, index: npt.NDArray[Any]) -> CandidateTable:
        changes = {name: getattr(self, name)[index] for name in self.ROW_COLUMNS}
        return attrs.evolve(self, **changes)

    def filter(self, keep: npt.ArrayLike) -> CandidateTable:
        """Keep the rows where ``keep`` (a ``(m,)`` boolean mask) is true; the order is unchanged."""
        mask = np.asarray(keep)
        if mask.dtype != np.bool_ or mask.shape != (len(self),):
            raise ConfigError(f"CandidateTable.filter expects a boolean mask of shape ({len(self)},)")
        return self._take(mask)

    def rescore(self, score: npt.ArrayLike) -> CandidateTable:
        """Replace the scores (``(m,)``) and re-rank every example by them (ties as in
        :func:`ranking_order`). Probabilities are computed from the final scores."""
        new_score = np.asarray(score, dtype=np.float64)
        if new_score.shape != (len(self),) or np.isnan(new_score).any():
            raise ConfigError(f"CandidateTable.rescore expects {len(self)} scores, none of them NaN")
        order = ranking_order(self.example, new_score, self.start, self.end)
        return attrs.evolve(self._take(order), score=new_score[order])

    def top(self, k: int) -> CandidateTable:
        """Keep the ``k`` best candidates of every example (this table itself when none has more)."""
        if not len(self) or int(self.counts.max()) <= k:
            return self  # tables are immutable: nothing to copy
        return self.filter(self.rank < k)

    def with_null(self, is_null: npt.ArrayLike, null_score_diff: npt.ArrayLike) -> CandidateTable:
        """Record the null decision: ``is_null`` and ``null_score_diff`` are ``(num_examples,)``."""
        flags = np.asarray(is_null, dtype=np.bool_)
        diffs = np.asarray(null_score_diff, dtype=np.float64)
        if flags.shape != (self.num_examples,) or diffs.shape != (self.num_examples,):
            raise ConfigError(f"CandidateTable.with_null expects arrays of shape ({self.num_examples},)")
        return attrs.evolve(self, is_null=flags, null_score_diff=diffs)

    def check_invariants(self) -> str | None:
        """Why the table is malformed (for the decoder, which blames the strategy that returned it), or
        ``None`` when it is well formed."""
        m = len(self)
        for name in self.ROW_COLUMNS:
            column = getattr(self, name)
            if not isinstance(column, np.ndarray) or column.shape != (m,):
                return f"column {name!r} is not a ({m},) array"
        for name in self.EXAMPLE_COLUMNS:
            column = getattr(self, name)
            if not isinstance(column, np.ndarray) or column.shape != (self.num_examples,):
                return f"column {name!r} is not a ({self.num_examples},) array"
        if m == 0:
            return None
        if np.isnan(self.score).any():
            return "a candidate score is NaN"
        if self.example.min() < 0 or self.example.max() >= self.num_examples:
            return "an example index is out of range"
        same = self.example[1:] == self.example[:-1]
        if (self.example[1:] < self.example[:-1]).any() or (same & (self.score[1:] > self.score[:-1])).any():
            return "rows are not ranked by example and score (use CandidateTable.rescore to re-rank)"
        return None


# --------------------------------------------------------------------------------------------------------
# The strategy base class.


class Strategy:
    """Base class of decoding strategies.

    Subclasses set ``name`` (unique, lowercase, hyphenated), an attrs frozen ``Options`` class whose
    fields all have defaults and validators (bad values raise :class:`~spanqa.ConfigError`), and override
    :meth:`plan` and/or :meth:`select`. The class docstring's first line is the description
    ``spanqa plugins`` shows. Strategies are instantiated once per :class:`~spanqa.SpanDecoder`; keep them
    stateless apart from ``options`` so decoding stays deterministic.
    """

    name: ClassVar[str]
    Options: ClassVar[type[Any]] = NoOptions

    def __init__(self, options: Any = None) -> None:
        options_cls = type(self).Options
        if options is None:
            options = options_cls()
        if not isinstance(options, options_cls):
            raise ConfigError(
                f"strategy {self.name!r} expects options of type {options_cls.__qualname__}, "
                f"got {type(options).__qualname__}"
            )
        self.options = options

    @classmethod
    def description(cls) -> str:
        """First line of the class docstring (what ``spanqa plugins`` shows)."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else ""

    def plan(self, plan: SearchPlan) -> SearchPlan:
        """Adjust the per-window search (default: unchanged)."""
        return plan

    def select(self, candidates: CandidateTable) -> CandidateTable:
        """Filter, re-rank or choose null over the merged candidates of every example (default: unchanged)."""
        return candidates

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"
