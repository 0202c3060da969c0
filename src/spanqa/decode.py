"""Exact, vectorised span decoding: start/end logits + :class:`~spanqa.features.EvalFeatures` ->
:class:`Prediction` per example.

**What is computed.** The best answer of a window is the argmax over token pairs ``i <= j < i + A`` of
``start[i] + end[j]``, both context tokens (``offsets != -1``), where ``A`` is the length cap. It is found
*exactly* (transformers' ``utils_qa`` only looks at the top-20 starts x top-20 ends and misses the best
span on flat logits), in ``O(L log A + k A)`` per window for the ``k`` best, with no Python loop over
tokens:

1. a sliding-window maximum of the end logits over ``[i, i + A)`` (a sparse table: ``log2 A`` vectorised
   ``maximum`` calls) gives, for every start ``i``, the exact score of its best span, ``bound[i]``;
2. the ``k``-th largest ``bound`` of the window, ``tau``, is a score that at least ``k`` distinct spans
   reach, so each of the ``k`` best spans starts at a token with ``bound >= tau``: only those (about
   ``k``) starts are expanded over their ``A`` ends, and every span scoring ``>= tau`` is kept.

Windows are searched in groups of similar context length, each group's arrays trimmed to the columns its
context tokens use, so padding costs little.

The numpy and torch implementations share this plan through a tiny array namespace; torch stays on the
logits' device (CPU or CUDA) until only the surviving candidates remain, and both give identical answers
(the same IEEE additions in float32, or float64 for float64 logits).

**Ties** are broken deterministically everywhere: higher score first, then the lowest start character, then
the shortest span (then the lowest window).

**Across windows.** Every window keeps its ``n_best_size`` best *distinct character spans* (tokens that
share offsets, as byte-level BPE pieces of one character do, would otherwise fill the list with
duplicates); an example's candidates are merged over its windows and de-duplicated by character span,
keeping the highest score. ``score`` is the raw ``start + end`` logit sum, comparable across windows of one
model as in google-research ``run_squad``; ``probability`` is a softmax over the example's de-duplicated
candidates (plus the null answer when ``null-answer`` is on).

**Streaming.** :meth:`SpanDecoder.stream` returns a :class:`DecodeStream` that reduces each batch of
logits to its per-window candidates as soon as it arrives, so evaluation memory grows with
``n_windows x n_best_size``, never with ``n_windows x L``. :meth:`SpanDecoder.decode` is one stream with a
single batch.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import attrs
import numpy as np
import numpy.typing as npt
import pluggy

from spanqa.errors import ConfigError, DataError, PluginError
from spanqa.features import EvalFeatures
from spanqa.metrics import GoldSource, best_thresholds
from spanqa.plugins import StrategyRegistry, registry_for
from spanqa.strategies.base import (
    CandidateTable,
    SearchPlan,
    Strategy,
    options_from_dict,
    options_to_dict,
    ranking_order,
)

__all__ = [
    "Answer",
    "AnswerList",
    "DecodeStream",
    "DecodingConfig",
    "NullThreshold",
    "Prediction",
    "SpanDecoder",
    "tune_null_threshold",
]

#: Version of the JSON written by :meth:`DecodingConfig.save`.
CONFIG_FORMAT_VERSION = 1
#: Names of the built-in strategies, in the order of the standard SQuAD compositions.
LENGTH_CAPPED, N_BEST, NULL_ANSWER = "length-capped", "n-best", "null-answer"
#: Roughly how many logits (windows x context columns) one search step handles at once.
_CHUNK_ELEMENTS = 1 << 20
#: Fewest windows a search group holds before a much wider window starts a new group.
_MIN_GROUP_ROWS = 128
_NEG_INF = float("-inf")

Flag = Literal["no-context", "no-candidates"]
Backend = Literal["auto", "numpy", "torch"]


# ========================================================================================================
# Configuration
# ========================================================================================================


def _strategy_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigError(f"DecodingConfig.strategies must be a list of strategy names, got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(f"DecodingConfig.strategies: strategy names must be strings, got {name!r}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"DecodingConfig.strategies lists {duplicates[0]!r} more than once")
    return names


def _frozen_options(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"DecodingConfig.options must map strategy names to options, got {value!r}")
    for name, options in value.items():
        if not attrs.has(type(options)):
            raise ConfigError(
                f"DecodingConfig.options[{name!r}] must be a strategy Options object (attrs class), "
                f"got {type(options).__name__}; use DecodingConfig.compose() to build options from dicts"
            )
    return types.MappingProxyType(dict(value))


@attrs.frozen(unsafe_hash=False)
class DecodingConfig:
    """Which strategies decode, in which order, with which options; saved next to a model.

    Build it with :meth:`compose` (options from plain dicts, defaults filled in from the registered
    strategies), :meth:`squad_v1` or :meth:`squad_v2`; change it with :meth:`with_options` /
    :meth:`with_null_threshold` (new objects, the config is frozen). ``to_dict``/``save`` write every
    option, defaults included, so a saved config decodes the same way even if a default changes later.

    Attributes:
        strategies: strategy names, in order: search plans are folded in this order and selection steps
            run in this order (put re-rankers before ``null-answer`` so it sees their scores).
        options: strategy name -> its ``Options`` object, one for every strategy.
    """

    strategies: tuple[str, ...] = attrs.field(converter=_strategy_names)
    options: Mapping[str, Any] = attrs.field(converter=_frozen_options)

    def __attrs_post_init__(self) -> None:
        missing = [name for name in self.strategies if name not in self.options]
        if missing:
            raise ConfigError(
                f"DecodingConfig.options has no entry for strategy {missing[0]!r}; "
                "use DecodingConfig.compose() to fill in defaults"
            )
        extra = sorted(name for name in self.options if name not in self.strategies)
        if extra:
            raise ConfigError(f"DecodingConfig.options[{extra[0]!r}] is given but {extra[0]!r} is not used")

    # ---- construction --------------------------------------------------------------------------------
    @classmethod
    def compose(
        cls,
        strategies: Sequence[str],
        options: Mapping[str, Any] | None = None,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """A config of ``strategies`` (names, in order) with ``options`` given per strategy as an
        ``Options`` object or a dict of overrides (missing options take the strategy's defaults).

        Raises:
            PluginError: an unknown strategy name (the message lists the available ones).
            ConfigError: an unknown option key or an invalid value (the message names it).
        """
        names = _strategy_names(strategies)
        given = dict(options or {})
        unknown = sorted(str(name) for name in given if name not in names)
        if unknown:
            raise ConfigError(f"options.{unknown[0]}: strategy {unknown[0]!r} is not in {list(names)}")
        registry = registry_for(plugin_manager)
        resolved: dict[str, Any] = {}
        for name in names:
            options_cls = registry.get(name).Options
            value = given.get(name, {})
            resolved[name] = (
                value
                if isinstance(value, options_cls)
                else options_from_dict(options_cls, value, where=f"options.{name}")
            )
        return cls(names, resolved)

    @classmethod
    def squad_v1(
        cls,
        *,
        max_answer_length: int = 30,
        n_best_size: int = 20,
        top_k: int | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """The SQuAD v1.1 set-up: ``length-capped`` + ``n-best`` (every question has an answer)."""
        return cls.compose(
            (LENGTH_CAPPED, N_BEST),
            {
                LENGTH_CAPPED: {"max_answer_length": max_answer_length},
                N_BEST: {"n_best_size": n_best_size, "top_k": top_k},
            },
            plugin_manager=plugin_manager,
        )

    @classmethod
    def squad_v2(
        cls,
        *,
        max_answer_length: int = 30,
        n_best_size: int = 20,
        top_k: int | None = None,
        null_threshold: float = 0.0,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """The SQuAD 2.0 set-up: ``length-capped`` + ``n-best`` + ``null-answer``."""
        return cls.compose(
            (LENGTH_CAPPED, N_BEST, NULL_ANSWER),
            {
                LENGTH_CAPPED: {"max_answer_length": max_answer_length},
                N_BEST: {"n_best_size": n_best_size, "top_k": top_k},
                NULL_ANSWER: {"null_threshold": null_threshold},
            },
            plugin_manager=plugin_manager,
        )

    # ---- derived copies and accessors ----------------------------------------------------------------
    def with_options(self, strategy: str, **changes: Any) -> DecodingConfig:
        """A copy with some options of ``strategy`` changed (validated like the originals)."""
        if strategy not in self.options:
            raise ConfigError(f"strategy {strategy!r} is not part of this config ({list(self.strategies)})")
        current = self.options[strategy]
        known = {field.alias for field in attrs.fields(type(current)) if field.init}
        unknown = sorted(key for key in changes if key not in known)
        if unknown:
            raise ConfigError(
                f"options.{strategy}.{unknown[0]}: unknown option (known: {', '.join(sorted(known))})"
            )
        try:
            updated = attrs.evolve(current, **changes)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"options.{strategy}: {error}") from error
        return attrs.evolve(self, options={**self.options, strategy: updated})

    def with_null_threshold(self, threshold: float) -> DecodingConfig:
        """A copy predicting null iff ``null_score - best_span_score > threshold``."""
        if NULL_ANSWER not in self.options:
            raise ConfigError(f"this config has no {NULL_ANSWER!r} strategy; use DecodingConfig.squad_v2()")
        return self.with_options(NULL_ANSWER, null_threshold=threshold)

    def _option(self, strategy: str, name: str) -> Any:
        options = self.options.get(strategy)
        return None if options is None else getattr(options, name)

    @property
    def max_answer_length(self) -> int | None:
        """The ``length-capped`` cap in tokens (``None`` when the strategy is not used)."""
        value: int | None = self._option(LENGTH_CAPPED, "max_answer_length")
        return value

    @property
    def n_best_size(self) -> int | None:
        """The ``n-best`` candidate count (``None`` when the strategy is not used)."""
        value: int | None = self._option(N_BEST, "n_best_size")
        return value

    @property
    def null_threshold(self) -> float | None:
        """The ``null-answer`` threshold (``None`` when the strategy is not used)."""
        value: float | None = self._option(NULL_ANSWER, "null_threshold")
        return value

    # ---- JSON ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every option (defaults included) and the format version."""
        return {
            "format_version": CONFIG_FORMAT_VERSION,
            "strategies": list(self.strategies),
            "options": {name: options_to_dict(self.options[name]) for name in self.strategies},
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, plugin_manager: pluggy.PluginManager | None = None
    ) -> DecodingConfig:
        """The config :meth:`to_dict` wrote. Unknown keys, wrong types, an unknown format version or an
        unknown strategy raise :class:`~spanqa.ConfigError` naming the key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a decoding config must be a JSON object, got {type(data).__name__}")
        unknown = sorted(str(key) for key in data if key not in ("format_version", "strategies", "options"))
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown key in decoding config")
        version = data.get("format_version")
        if version != CONFIG_FORMAT_VERSION:
            raise ConfigError(
                f"format_version: expected {CONFIG_FORMAT_VERSION}, got {version!r} "
                "(written by a newer or older spanqa?)"
            )
        if "strategies" not in data:
            raise ConfigError("strategies: missing from decoding config")
        strategies = data["strategies"]
        if not isinstance(strategies, list):
            raise ConfigError(f"strategies: expected a list of names, got {type(strategies).__name__}")
        options = data.get("options", {})
        if not isinstance(options, Mapping):
            raise ConfigError(f"options: expected an object, got {type(options).__name__}")
        try:
            return cls.compose(strategies, options, plugin_manager=plugin_manager)
        except PluginError as error:
            raise ConfigError(f"strategies: {error}") from error

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as JSON to ``path``; returns the path."""
        target = Path(path)
        target.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, plugin_manager: pluggy.PluginManager | None = None
    ) -> DecodingConfig:
        """Read a config written by :meth:`save` (errors name the file)."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{source}: cannot read decoding config: {error}") from error
        except json.JSONDecodeError as error:
            raise ConfigError(f"{source}: not valid JSON: {error}") from error
        try:
            return cls.from_dict(data, plugin_manager=plugin_manager)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from error


# ========================================================================================================
# Results
# ========================================================================================================


@attrs.frozen
class Answer:
    """One candidate answer of an example.

    Attributes:
        text: ``context[start:end]``.
        start, end: character span in the context (end exclusive).
        score: the raw ``start + end`` logit sum (or a strategy's re-ranked score).
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
            return tuple(self._columns.answer(row) for row in self._rows[index])
        return self._columns.answer(self._rows[index])

    def __iter__(self) -> Iterator[Answer]:
        return (self._columns.answer(row) for row in self._rows)

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


@attrs.frozen
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


# ========================================================================================================
# The exact search (array namespace + kernel)
# ========================================================================================================


def _row_positions(rows: npt.NDArray[np.intp] | slice) -> npt.NDArray[np.intp]:
    """Row positions as an index array (a contiguous slice becomes a range)."""
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop)
    return rows


class _NumpyOps:
    """The few array operations the search needs, for numpy."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.neg_inf = dtype.type(_NEG_INF)
        self.lowest = float(np.finfo(dtype).min)

    def masked(self, logits: Any, rows: Any, columns: Any, mask: Any) -> Any:
        """``logits[rows][:, columns]`` (``columns``: a slice, or per-row column indices) in the working
        dtype, ``-inf`` where ``mask`` is false; only the selected cells are copied."""
        if isinstance(columns, slice):
            part = logits[:, columns][rows]
        else:
            part = np.take_along_axis(logits[rows], columns, axis=1)
        return np.where(mask, part, self.neg_inf)

    def pick(self, logits: Any, rows: Any, columns: Any) -> npt.NDArray[Any]:
        """``logits[rows[i], columns[i]]`` in the working dtype, on the host."""
        return np.asarray(logits[_row_positions(rows), columns], dtype=self.dtype)

    def device_array(self, array: npt.NDArray[Any]) -> Any:
        return array

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        return np.asarray(array)

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        return np.full(shape, value, dtype=self.dtype)

    def concat_columns(self, left: Any, right: Any) -> Any:
        return np.concatenate([left, right], axis=1)

    def sliding_windows(self, array: Any, width: int) -> Any:
        return np.lib.stride_tricks.sliding_window_view(array, width, axis=1)

    def maximum(self, left: Any, right: Any) -> Any:
        return np.maximum(left, right)

    def nonzero(self, mask: Any) -> tuple[Any, Any]:
        # flatnonzero + divmod is several times faster than 2-d nonzero; same row-major order.
        rows, columns = np.divmod(np.flatnonzero(mask), mask.shape[1])
        return rows, columns

    def peak(self, array: Any) -> float:
        return float(array.max()) if array.size else _NEG_INF

    def kth_largest(self, array: Any, k: int) -> Any:
        if k == 1:
            return array.max(axis=1)
        width = array.shape[1]
        return np.partition(array, width - k, axis=1)[:, width - k]


class _TorchOps:
    """The same operations for torch tensors, on the logits' device."""

    def __init__(self, torch: Any, device: Any, dtype: Any) -> None:
        self.torch = torch
        self.device = device
        self.dtype = dtype
        self.lowest = float(torch.finfo(dtype).min)

    def _index(self, array: npt.NDArray[Any] | slice) -> Any:
        if isinstance(array, slice):
            return array
        return self.torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64)).to(self.device)

    def masked(self, logits: Any, rows: Any, columns: Any, mask: Any) -> Any:
        if isinstance(columns, slice):
            part = logits.detach()[:, columns][self._index(rows)]
        else:
            part = self.torch.gather(logits.detach()[self._index(rows)], 1, self._index(columns))
        return part.to(dtype=self.dtype).masked_fill(~self.device_array(mask), _NEG_INF)

    def pick(self, logits: Any, rows: Any, columns: Any) -> npt.NDArray[Any]:
        picked = logits.detach()[self._index(_row_positions(rows)), self._index(columns)]
        return np.asarray(picked.to(dtype=self.dtype).cpu().numpy())

    def device_array(self, array: npt.NDArray[Any]) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        return np.asarray(array.cpu().numpy())

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        return self.torch.full(shape, value, dtype=self.dtype, device=self.device)

    def concat_columns(self, left: Any, right: Any) -> Any:
        return self.torch.cat([left, right], dim=1)

    def sliding_windows(self, array: Any, width: int) -> Any:
        return array.unfold(1, width, 1)

    def maximum(self, left: Any, right: Any) -> Any:
        return self.torch.maximum(left, right)

    def nonzero(self, mask: Any) -> tuple[Any, Any]:
        rows, columns = self.torch.nonzero(mask, as_tuple=True)
        return rows, columns

    def peak(self, array: Any) -> float:
        return float(array.max().item()) if array.numel() else _NEG_INF

    def kth_largest(self, array: Any, k: int) -> Any:
        if k == 1:
            return array.amax(dim=1)
        return self.torch.topk(array, k, dim=1, sorted=False).values.amin(dim=1)


_Ops = _NumpyOps | _TorchOps


def _sliding_max(ops: _Ops, padded: Any, length: int, width: int) -> Any:
    """``out[:, i] = max(padded[:, i : i + width])`` for ``i < length`` (``padded`` carries ``width - 1``
    columns of ``-inf`` after ``length``), with a sparse table: ``log2(width)`` vectorised maxima instead of
    ``width``."""
    if width == 1:
        return padded
    table = padded
    span = 1
    while 2 * span <= width:
        table = ops.maximum(table[:, :-span], table[:, span:])
        span *= 2
    # table[:, x] = max(padded[:, x : x + span]); two overlapping blocks cover [i, i + width).
    return ops.maximum(table[:, :length], table[:, width - span : width - span + length])


@attrs.frozen(eq=False)
class _Scores:
    """The masked logits of a chunk of windows (``-inf`` off the context), ready for the span search.

    Attributes:
        start: ``(rows, L)`` start logits.
        end_windows: ``(rows, L, width)`` view with ``end_windows[r, i, d] = end[r, i + d]`` (``-inf``
            past the last column): the scores of the spans starting at ``i`` are
            ``start[r, i] + end_windows[r, i]``.
        bound: ``(rows, L)`` the exact best score of a span starting at each token (``-inf``: none).
        width: the length cap, in tokens.
    """

    start: Any
    end_windows: Any
    bound: Any
    width: int

    @classmethod
    def build(cls, ops: _Ops, start: Any, end: Any, width: int) -> _Scores:
        rows, length = start.shape
        padded = ops.concat_columns(end, ops.full((rows, width - 1), _NEG_INF)) if width > 1 else end
        return cls(
            start=start,
            end_windows=ops.sliding_windows(padded, width),
            bound=start + _sliding_max(ops, padded, length, width),
            width=width,
        )


@attrs.frozen(eq=False)
class _Spans:
    """Spans of a chunk of windows, on the host: ``row`` (window of the chunk), token positions
    ``start``/``end`` (inclusive, chunk columns) and ``score`` (in the working dtype)."""

    row: npt.NDArray[np.intp]
    start: npt.NDArray[np.intp]
    end: npt.NDArray[np.intp]
    score: npt.NDArray[np.floating[Any]]

    def take(self, index: npt.NDArray[Any]) -> _Spans:
        return _Spans(self.row[index], self.start[index], self.end[index], self.score[index])

    @staticmethod
    def concat(parts: Sequence[_Spans]) -> _Spans:
        return _Spans(
            np.concatenate([part.row for part in parts]),
            np.concatenate([part.start for part in parts]),
            np.concatenate([part.end for part in parts]),
            np.concatenate([part.score for part in parts]),
        )

    def replace_rows(self, rows: npt.NDArray[np.intp], spans: _Spans) -> _Spans:
        """These spans with every span of ``rows`` replaced by ``spans`` (which cover exactly those rows),
        grouped by row again."""
        merged = _Spans.concat([self.take(~np.isin(self.row, rows)), spans])
        return merged.take(np.argsort(merged.row, kind="stable"))


def _spans_at_least(ops: _Ops, scores: _Scores, tau: Any, rows: npt.NDArray[np.intp] | None = None) -> _Spans:
    """Every span of the given rows (all by default) whose score is finite and ``>= tau`` (one threshold
    per row), found by expanding only the starts whose ``bound`` reaches ``tau``: ``O(starts x width)``.
    Ordered by row, then start, then end."""
    bound = scores.bound if rows is None else scores.bound[ops.device_array(rows)]
    # A -inf threshold becomes the lowest finite value: one comparison then also drops -inf scores.
    tau = ops.maximum(tau, ops.full(tuple(tau.shape), ops.lowest))
    local, starts = ops.nonzero(bound >= tau[:, None])
    chunk_rows = local if rows is None else ops.device_array(rows)[local]
    values = scores.start[chunk_rows, starts][:, None] + scores.end_windows[chunk_rows, starts]
    hit, offset = ops.nonzero(values >= tau[local][:, None])
    found_starts = starts[hit]
    return _Spans(
        row=ops.to_numpy(chunk_rows[hit]).astype(np.intp, copy=False),
        start=ops.to_numpy(found_starts).astype(np.intp, copy=False),
        end=ops.to_numpy(found_starts + offset).astype(np.intp, copy=False),
        score=ops.to_numpy(values[hit, offset]),
    )


def _candidate_spans(ops: _Ops, scores: _Scores, k: int) -> _Spans:
    """For every row, a superset of its ``k`` best spans: every span scoring at least ``tau``, the k-th
    largest ``bound`` of the row. At least ``k`` distinct spans reach ``tau`` (the best span of each of the
    top-k starts), so every top-k span does too, and its start has ``bound >= tau``: only those (about
    ``k``) starts are expanded. A row with fewer than ``k`` valid starts has ``tau = -inf``: all its spans."""
    rows, length = scores.start.shape
    if k > length:  # fewer starts than k: every span of the row may be among its top k
        return _spans_at_least(ops, scores, ops.full((rows,), _NEG_INF))
    return _spans_at_least(ops, scores, ops.kth_largest(scores.bound, k))


def _row_score_order(row: npt.NDArray[np.intp], score: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.intp]:
    """A stable order by row (ascending), then score (descending): rows that tie keep their order."""
    if score.dtype == np.float32 and row.size:
        # One integer key instead of a two-key lexsort: the float32 bits, made monotone as signed
        # integers, below the row (``+ 0.0`` folds -0.0 into +0.0, which compare equal as floats). The
        # keys come in runs (rows ascending), which the stable sort (timsort) exploits.
        bits = (score + np.float32(0.0)).view(np.int32).astype(np.int64)
        bits ^= (bits >> 31) & 0x7FFFFFFF
        key = (row.astype(np.int64) << 32) + (0x7FFFFFFF - bits)
        order: npt.NDArray[np.intp] = np.argsort(key, kind="stable")
        return order
    order = np.lexsort((-score, row))
    return order


@attrs.frozen(eq=False)
class _WindowCandidates:
    """The candidates a batch of windows contributed: the only thing a stream keeps per batch. Rows are
    grouped by window and ranked inside each window."""

    window: npt.NDArray[np.int32]
    start_token: npt.NDArray[np.int32]
    end_token: npt.NDArray[np.int32]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    score: npt.NDArray[np.float64]

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, field.name).nbytes) for field in attrs.fields(_WindowCandidates))

    @classmethod
    def concat(cls, chunks: Sequence[_WindowCandidates]) -> _WindowCandidates:
        if not chunks:
            empty = np.zeros(0, dtype=np.int32)
            return cls(empty, empty, empty, empty, empty, np.zeros(0, dtype=np.float64))
        return cls(
            *(np.concatenate([getattr(chunk, field.name) for chunk in chunks]) for field in attrs.fields(cls))
        )

    def take(self, index: npt.NDArray[Any]) -> _WindowCandidates:
        return _WindowCandidates(
            *(getattr(self, field.name)[index] for field in attrs.fields(_WindowCandidates))
        )


def _first_of_groups(*keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """For rows already sorted by ``keys``: True where a row starts a new group of equal keys."""
    n = keys[0].shape[0]
    first = np.ones(n, dtype=np.bool_)
    if n > 1:
        same = np.ones(n - 1, dtype=np.bool_)
        for key in keys:
            same &= key[1:] == key[:-1]
        first[1:] = ~same
    return first


def _group_rank(sorted_groups: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Rank of each row inside its group, for rows sorted by group."""
    n = sorted_groups.shape[0]
    first = _first_of_groups(sorted_groups)
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    rank: npt.NDArray[np.intp] = np.arange(n) - np.repeat(starts, counts)
    return rank


def _unordered_rows(spans: _Spans, token_offsets: npt.NDArray[np.int32]) -> npt.NDArray[np.intp]:
    """Rows whose spans (ordered by row, start token, end token) are not in strictly increasing character
    order: only there can two token spans be one character span (tokens sharing offsets, as byte-level
    pieces of one character do) or token order differ from character order (the tie order). Every other
    row's spans are distinct character spans, ranked alike by tokens and by characters."""
    if spans.row.size < 2:
        return np.zeros(0, dtype=np.intp)
    start = token_offsets[spans.row, spans.start, 0]
    end = token_offsets[spans.row, spans.end, 1]
    same_row = spans.row[1:] == spans.row[:-1]
    increasing = (start[1:] > start[:-1]) | ((start[1:] == start[:-1]) & (end[1:] > end[:-1]))
    rows: npt.NDArray[np.intp] = np.unique(spans.row[1:][same_row & ~increasing])
    return rows


def _top_distinct(
    spans: _Spans, token_offsets: npt.NDArray[np.int32], k: int
) -> tuple[_Spans, npt.NDArray[np.intp]]:
    """The ``k`` best distinct *character* spans of every row (in ranking order), and how many distinct
    character spans each of the ``len(token_offsets)`` rows had."""
    rows = spans.row
    start = token_offsets[rows, spans.start, 0]
    end = token_offsets[rows, spans.end, 1]
    order = ranking_order(rows, spans.score, start, end)
    # Group equal (row, character span) pairs with a stable sort over ranking positions: the first of
    # each group is the best-ranked copy, the one to keep.
    by_span = order[np.lexsort((np.arange(order.size), end[order], start[order], rows[order]))]
    keep = np.zeros(rows.shape[0], dtype=np.bool_)
    keep[by_span[_first_of_groups(rows[by_span], start[by_span], end[by_span])]] = True
    distinct = order[keep[order]]
    counts = np.bincount(rows[distinct], minlength=token_offsets.shape[0])
    return spans.take(distinct[_group_rank(rows[distinct]) < k]), counts


# ========================================================================================================
# The decoder
# ========================================================================================================


def _host_array(tensor: Any, torch: Any) -> npt.NDArray[Any]:
    """A CPU tensor as a numpy array (a view when numpy has its dtype; bfloat16 becomes float32, exactly)."""
    tensor = tensor.detach().cpu()
    if tensor.dtype not in (torch.float16, torch.float32, torch.float64):
        tensor = tensor.to(torch.float32)
    return np.asarray(tensor.numpy())


def _describe_logits(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__module__}.{type(value).__qualname__}" + (
        f" of shape {tuple(shape)}" if shape else ""
    )


class SpanDecoder:
    """Decodes start/end logits into :class:`Prediction` objects with a :class:`DecodingConfig`.

    Args:
        config: the strategies and their options (default: :meth:`DecodingConfig.squad_v1`).
        plugin_manager: where strategies are looked up (default: the cached default plugin manager);
            tests pass their own from :func:`spanqa.plugins.make_plugin_manager`.
        backend: which array library runs the search. ``"auto"``: torch on the device of CUDA tensors (the
            logits never leave the GPU before they are reduced to candidates), numpy for numpy arrays and
            CPU tensors (faster there); ``"torch"``: torch for everything; ``"numpy"``: numpy for
            everything (tensors are copied to the host). All three give identical predictions.

    Raises:
        PluginError: a strategy of the config is not registered, or its ``plan`` fails.
        ConfigError: options of the wrong type for their strategy, or an unknown backend.
    """

    def __init__(
        self,
        config: DecodingConfig | None = None,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
        backend: Backend = "auto",
    ) -> None:
        if backend not in ("auto", "numpy", "torch"):
            raise ConfigError(f"SpanDecoder backend must be 'auto', 'numpy' or 'torch', got {backend!r}")
        self.backend: Backend = backend
        self.registry: StrategyRegistry = registry_for(plugin_manager)
        self.config = (
            config
            if config is not None
            else DecodingConfig.squad_v1(plugin_manager=self.registry.plugin_manager)
        )
        if not isinstance(self.config, DecodingConfig):
            raise ConfigError(
                f"SpanDecoder config must be a DecodingConfig, got {type(self.config).__name__}"
            )
        strategies: list[Strategy] = []
        for name in self.config.strategies:
            strategy_cls = self.registry.get(name)
            strategies.append(strategy_cls(self.config.options[name]))
        self.strategies: tuple[Strategy, ...] = tuple(strategies)
        plan = SearchPlan()
        for strategy in self.strategies:
            plan = self._call(strategy, "plan", plan)
            if not isinstance(plan, SearchPlan):
                raise PluginError(
                    f"{self._blame(strategy)}: plan() must return a SearchPlan, got {type(plan).__name__}"
                )
        self.plan: SearchPlan = plan

    def _blame(self, strategy: Strategy) -> str:
        info = self.registry.info(strategy.name)
        return f"strategy {strategy.name!r} (plugin {info.plugin!r})"

    def _call(self, strategy: Strategy, method: str, argument: Any) -> Any:
        try:
            return getattr(strategy, method)(argument)
        except PluginError:
            raise
        except Exception as error:
            raise PluginError(
                f"{self._blame(strategy)} failed in {method}(): {type(error).__name__}: {error}"
            ) from error

    def __repr__(self) -> str:
        return f"SpanDecoder(strategies={list(self.config.strategies)}, plan={self.plan})"

    # ---- public API ----------------------------------------------------------------------------------
    def stream(self, features: EvalFeatures) -> DecodeStream:
        """A :class:`DecodeStream` over ``features``: feed it logits batch by batch, then ``finish()``."""
        return DecodeStream(self, features)

    def decode(self, start_logits: Any, end_logits: Any, features: EvalFeatures) -> dict[str, Prediction]:
        """Decode the logits of every window of ``features`` at once.

        Args:
            start_logits, end_logits: ``(n_windows, T)`` numpy arrays or torch tensors (CPU or CUDA), row
                ``i`` for window ``i``, padded as ``features.padding_side`` says, ``T`` >= every window's
                length.
            features: the windows' metadata.

        Returns:
            example id -> :class:`Prediction`, ordered like ``features.example_ids`` (every example present).
        """
        stream = self.stream(features)
        stream.add(start_logits, end_logits, np.arange(len(features)))
        return stream.finish()

    def apply_null_threshold(self, predictions: Mapping[str, Prediction]) -> dict[str, Prediction]:
        """Re-decide null for already decoded predictions with this decoder's ``null_threshold`` (after
        :func:`tune_null_threshold`), without decoding the logits again."""
        threshold = self.config.null_threshold
        if threshold is None:
            raise ConfigError(f"this decoder has no {NULL_ANSWER!r} strategy; there is no threshold to apply")
        result: dict[str, Prediction] = {}
        for key, prediction in predictions.items():
            diff = prediction.null_score_diff
            if diff is None:
                raise ConfigError(
                    f"prediction {key!r} has no null_score_diff (not decoded with {NULL_ANSWER!r})"
                )
            want_null = diff > threshold
            if want_null == prediction.is_null:
                result[key] = prediction
            elif want_null:
                result[key] = attrs.evolve(
                    prediction,
                    text="",
                    start=None,
                    end=None,
                    score=prediction.null_score if prediction.null_score is not None else _NEG_INF,
                    probability=prediction.null_probability or 0.0,
                    is_null=True,
                )
            else:
                best = prediction.n_best[0] if prediction.n_best else None
                result[key] = attrs.evolve(
                    prediction,
                    text=prediction.best_span_text,
                    start=None if best is None else best.start,
                    end=None if best is None else best.end,
                    score=_NEG_INF if best is None else best.score,
                    probability=0.0 if best is None else best.probability,
                    is_null=False,
                )
        return result


class DecodeStream:
    """Incremental decoding: :meth:`add` reduces each batch of logits to its windows' candidates right
    away (at most ``n_best_size`` distinct spans and one null score per window), :meth:`finish` merges them
    into predictions. Memory is ``O(n_windows x n_best_size)``, independent of the window length.
    """

    def __init__(self, decoder: SpanDecoder, features: EvalFeatures) -> None:
        if not isinstance(features, EvalFeatures):
            raise DataError(f"SpanDecoder expects EvalFeatures, got {type(features).__name__}")
        n = len(features)
        if n and ((features.cls_index < 0) | (features.cls_index >= features.lengths)).any():
            bad = int(np.flatnonzero((features.cls_index < 0) | (features.cls_index >= features.lengths))[0])
            raise DataError(
                f"window {bad} (example {self._example_id(features, bad)!r}): cls_index "
                f"{int(features.cls_index[bad])} is outside the window (length {int(features.lengths[bad])})"
            )
        if n and ((features.example_index < 0) | (features.example_index >= features.num_examples)).any():
            raise DataError("EvalFeatures.example_index points past example_ids")
        self.decoder = decoder
        self.features = features
        # One past the last context token of each window (0 when none): groups and trims the search.
        context = features.context_mask & (
            np.arange(features.offsets.shape[1])[None, :] < features.lengths[:, None]
        )
        last_from_end = context[:, ::-1].argmax(axis=1) if n else np.zeros(0, dtype=np.intp)
        self._context_end = np.where(context.any(axis=1), context.shape[1] - last_from_end, 0).astype(np.intp)
        self._added = np.zeros(n, dtype=np.bool_)
        self._null = np.full(n, np.nan)
        self._chunks: list[_WindowCandidates] = []
        self._next = 0

    @staticmethod
    def _example_id(features: EvalFeatures, window: int) -> str:
        return features.example_ids[int(features.example_index[window])]

    @property
    def nbytes(self) -> int:
        """Bytes held for the windows added so far (candidates, null scores, bookkeeping)."""
        return sum(chunk.nbytes for chunk in self._chunks) + int(self._null.nbytes) + int(self._added.nbytes)

    @property
    def windows_added(self) -> int:
        return int(self._added.sum())

    # ---- add -----------------------------------------------------------------------------------------
    def _backend(self, start_logits: Any, end_logits: Any) -> tuple[_Ops, Any, Any]:
        """Validate the logits and pick the array namespace: torch on the tensors' device for CUDA tensors
        (or any tensors with ``backend="torch"``), numpy for arrays and CPU tensors (zero-copy views)."""
        torch = sys.modules.get("torch")
        is_tensor = [torch is not None and isinstance(x, torch.Tensor) for x in (start_logits, end_logits)]
        if any(is_tensor) and not all(is_tensor):
            raise DataError("start and end logits must both be numpy arrays or both torch tensors")
        backend = self.decoder.backend
        if all(is_tensor):
            assert torch is not None
            if start_logits.device != end_logits.device:
                raise DataError(
                    "start and end logits are on different devices "
                    f"({start_logits.device}, {end_logits.device})"
                )
            for name, value in (("start_logits", start_logits), ("end_logits", end_logits)):
                if not value.is_floating_point():
                    raise DataError(f"{name} must hold floating-point logits, got dtype {value.dtype}")
            wide = torch.float64 in (start_logits.dtype, end_logits.dtype)
            if backend == "torch" or (backend == "auto" and start_logits.device.type != "cpu"):
                dtype = torch.float64 if wide else torch.float32
                return _TorchOps(torch, start_logits.device, dtype), start_logits, end_logits
            start_logits, end_logits = (_host_array(x, torch) for x in (start_logits, end_logits))
        for name, value in (("start_logits", start_logits), ("end_logits", end_logits)):
            if not isinstance(value, np.ndarray):
                raise DataError(
                    f"{name} must be a numpy array or a torch tensor, got {_describe_logits(value)}"
                )
            if value.dtype.kind != "f":
                raise DataError(f"{name} must hold floating-point logits, got dtype {value.dtype}")
        wide = np.float64 in (start_logits.dtype, end_logits.dtype)
        if backend == "torch":
            import torch as torch_module

            dtype = torch_module.float64 if wide else torch_module.float32
            ops = _TorchOps(torch_module, torch_module.device("cpu"), dtype)
            start_tensor = torch_module.from_numpy(np.ascontiguousarray(start_logits))
            return ops, start_tensor, torch_module.from_numpy(np.ascontiguousarray(end_logits))
        return _NumpyOps(np.dtype(np.float64 if wide else np.float32)), start_logits, end_logits

    def _window_indices(self, window_indices: Any, n_rows: int) -> npt.NDArray[np.intp]:
        n = len(self.features)
        if window_indices is None:
            indices = np.arange(self._next, self._next + n_rows)
        else:
            torch = sys.modules.get("torch")
            if torch is not None and isinstance(window_indices, torch.Tensor):
                window_indices = window_indices.detach().cpu().numpy()
            indices = np.asarray(window_indices)
            if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
                raise DataError(f"window_indices must be a 1-d sequence of integers, got {window_indices!r}")
        if indices.shape[0] != n_rows:
            raise DataError(f"{n_rows} rows of logits but {indices.shape[0]} window indices")
        indices = indices.astype(np.intp)
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            bad = int(indices[(indices < 0) | (indices >= n)][0])
            raise DataError(f"window index {bad} is out of range: the features have {n} windows")
        if np.unique(indices).size != indices.size:
            raise DataError("window_indices lists a window more than once")
        again = indices[self._added[indices]]
        if again.size:
            raise DataError(f"window {int(again[0])} was already added to this stream")
        return indices

    def add(self, start_logits: Any, end_logits: Any, window_indices: Sequence[int] | Any = None) -> None:
        """Reduce one batch of logits to candidates.

        Args:
            start_logits, end_logits: ``(batch, T)`` numpy arrays or torch tensors, padded as
                ``features.padding_side`` says (``T`` >= the length of every window in the batch).
            window_indices: the window of each row (default: the windows after the previous batch's).

        Raises:
            DataError: wrong types or shapes, NaN or ``+inf`` logits on a window's tokens (the message
                names the window and its example), or a window added twice.
        """
        ops, start_raw, end_raw = self._backend(start_logits, end_logits)
        if start_raw.ndim != 2 or tuple(start_raw.shape) != tuple(end_raw.shape):
            raise DataError(
                "start and end logits must both be (windows, tokens) arrays of the same shape, got "
                f"{tuple(start_raw.shape)} and {tuple(end_raw.shape)}"
            )
        rows, width = int(start_raw.shape[0]), int(start_raw.shape[1])
        indices = self._window_indices(window_indices, rows)
        if rows == 0:
            return
        lengths = self.features.lengths[indices]
        too_long = lengths > width
        if too_long.any():
            bad = int(indices[too_long][0])
            example_id = self._example_id(self.features, bad)
            raise DataError(
                f"logits have {width} columns but window {bad} (example {example_id!r}) has "
                f"{int(self.features.lengths[bad])} tokens"
            )
        for group in self._groups(indices):
            contiguous = group.size == group[-1] - group[0] + 1  # sorted: a view instead of a copy
            selection = slice(int(group[0]), int(group[-1]) + 1) if contiguous else group
            self._add_chunk(ops, start_raw, end_raw, selection, indices[group])
        self._added[indices] = True
        self._next = int(indices.max()) + 1

    def _groups(self, indices: npt.NDArray[np.intp]) -> list[npt.NDArray[np.intp]]:
        """Rows of a batch in groups of windows whose context ends near the same column, so each group's
        arrays are trimmed to little more than its real context tokens (and stay under a memory budget)."""
        ends = self._context_end[indices]
        order = np.argsort(ends, kind="stable")
        sorted_ends = ends[order]
        groups: list[npt.NDArray[np.intp]] = []
        begin = 0
        while begin < order.size:
            # At least _MIN_GROUP_ROWS windows, more while the widest is not much wider than the
            # narrowest (few padded columns searched), and never over the memory budget.
            narrowest = max(1, int(sorted_ends[begin]))
            stop = int(np.searchsorted(sorted_ends, narrowest * 1.3, side="right"))
            stop = max(stop, begin + _MIN_GROUP_ROWS)
            widest = max(1, int(sorted_ends[min(stop, order.size) - 1]))
            stop = min(stop, begin + max(1, _CHUNK_ELEMENTS // widest), order.size)
            groups.append(np.sort(order[begin:stop]))
            begin = stop
        return groups

    def _add_chunk(
        self,
        ops: _Ops,
        start_raw: Any,
        end_raw: Any,
        rows: npt.NDArray[np.intp] | slice,
        windows: npt.NDArray[np.intp],
    ) -> None:
        features, plan = self.features, self.decoder.plan
        width = int(start_raw.shape[1])
        lengths = features.lengths[windows].astype(np.intp)
        shift = (width - lengths) if features.padding_side == "left" else np.zeros_like(lengths)
        last = int(self._context_end[windows].max())
        offsets = features.offsets[windows, :last]

        # Null scores at each window's real CLS position.
        cls_columns = shift + features.cls_index[windows]
        null = (ops.pick(start_raw, rows, cls_columns) + ops.pick(end_raw, rows, cls_columns)).astype(
            np.float64
        )
        if plan.null_scores and not (null < math.inf).all():
            bad = int(windows[np.flatnonzero(~(null < math.inf))[0]])
            raise DataError(
                f"window {bad} (example {self._example_id(features, bad)!r}): the CLS logits are NaN or +inf"
            )
        self._null[windows] = null

        # Context columns of this chunk, trimmed to the range any of its windows uses.
        positions = np.arange(offsets.shape[1])
        context = (offsets[:, :, 0] >= 0) & (positions[None, :] < lengths[:, None])
        used = np.flatnonzero(context.any(axis=0))
        if used.size == 0:
            return
        first, last = int(used[0]), int(used[-1]) + 1
        context = context[:, first:last]
        token_offsets = offsets[:, first:last]
        if features.padding_side == "right":
            columns: slice | npt.NDArray[np.intp] = slice(first, last)
        else:
            columns = np.minimum(shift[:, None] + np.arange(first, last)[None, :], width - 1)
        start = ops.masked(start_raw, rows, columns, context)
        end = ops.masked(end_raw, rows, columns, context)
        # NaN and +inf propagate to the maximum: one reduction checks every context logit.
        peak = max(ops.peak(start), ops.peak(end))
        if math.isnan(peak) or peak == math.inf:
            finite = ops.to_numpy((start < math.inf) & (end < math.inf))
            window = int(windows[np.nonzero(~finite)[0][0]])
            raise DataError(
                f"window {window} (example {self._example_id(features, window)!r}): logits of context tokens "
                "must be finite or -inf, found NaN or +inf"
            )

        k = plan.n_best_size
        cap = last - first if plan.max_answer_length is None else min(plan.max_answer_length, last - first)
        scores = _Scores.build(ops, start, end, cap)
        found = _candidate_spans(ops, scores, k)
        suspect = _unordered_rows(found, token_offsets)
        if suspect.size:
            # Tokens that share offsets (byte-level pieces of one character) turn different token spans
            # into one character span: de-duplicate those rows, and where fewer than k distinct spans
            # remain above the threshold, enumerate every span of the row so none hides below it.
            distinct, counts = _top_distinct(found.take(np.isin(found.row, suspect)), token_offsets, k)
            short = suspect[counts[suspect] < k]
            if short.size:
                everything = _spans_at_least(ops, scores, ops.full((short.size,), _NEG_INF), short)
                distinct, _ = _top_distinct(distinct.replace_rows(short, everything), token_offsets, k)
            found = found.replace_rows(suspect, distinct)
        # Spans come ordered by row, start, end; a stable sort by (row, score) makes that the tie order.
        found = found.take(_row_score_order(found.row, found.score))
        found = found.take(_group_rank(found.row) < k)
        self._chunks.append(
            _WindowCandidates(
                window=windows[found.row].astype(np.int32, copy=False),
                start_token=(found.start + first).astype(np.int32, copy=False),
                end_token=(found.end + first).astype(np.int32, copy=False),
                start=token_offsets[found.row, found.start, 0],
                end=token_offsets[found.row, found.end, 1],
                score=found.score.astype(np.float64),
            )
        )

    # ---- finish --------------------------------------------------------------------------------------
    def finish(self) -> dict[str, Prediction]:
        """Merge the candidates of every example, run the strategies' selection steps and build the
        predictions (ordered like ``features.example_ids``).

        Raises:
            DataError: some windows were never added.
            PluginError: a strategy failed or returned a malformed table (the message names it).
        """
        features, decoder = self.features, self.decoder
        missing = np.flatnonzero(~self._added)
        if missing.size:
            shown = ", ".join(str(int(i)) for i in missing[:5])
            raise DataError(
                f"{missing.size} of {len(features)} windows were never added to the stream (windows {shown}"
                f"{', ...' if missing.size > 5 else ''})"
            )
        table = self._merge()
        before = table.counts
        for strategy in decoder.strategies:
            result = decoder._call(strategy, "select", table)
            problem = (
                f"returned {type(result).__name__}, not a CandidateTable"
                if not isinstance(result, CandidateTable)
                else ("changed the number of examples" if result.num_examples != table.num_examples else None)
            )
            if problem is None:
                problem = result.check_invariants()
            if problem is not None:
                raise PluginError(f"{decoder._blame(strategy)}: select() {problem}")
            table = result
        return _predictions(table, features, before, decoder.plan)

    def _merge(self) -> CandidateTable:
        features, plan = self.features, self.decoder.plan
        num_examples = features.num_examples
        merged = _WindowCandidates.concat(self._chunks)
        example = features.example_index[merged.window]
        windows_per_example = np.bincount(features.example_index, minlength=num_examples)
        several = windows_per_example[example] > 1
        if several.any():
            # Candidates of examples with several windows: one row per character span (the best score,
            # then the lowest window), ranked again. Single-window examples are ranked already.
            rows = np.flatnonzero(several)
            keys = (example[rows], merged.start[rows], merged.end[rows])
            by_span = rows[np.lexsort((merged.window[rows], -merged.score[rows], keys[2], keys[1], keys[0]))]
            unique = by_span[_first_of_groups(example[by_span], merged.start[by_span], merged.end[by_span])]
            ranked = unique[
                ranking_order(example[unique], merged.score[unique], merged.start[unique], merged.end[unique])
            ]
            order = np.concatenate([np.flatnonzero(~several), ranked])
            order = order[np.argsort(example[order], kind="stable")]
            order = order[_group_rank(example[order]) < plan.n_best_size]
        else:
            order = np.argsort(example, kind="stable")
        table_rows = merged.take(order)

        null_score = np.full(num_examples, np.nan)
        if plan.null_scores and len(features):
            np.fmin.at(null_score, features.example_index.astype(np.intp), self._null)
        return CandidateTable(
            num_examples=num_examples,
            example=example[order].astype(np.int32),
            start=table_rows.start,
            end=table_rows.end,
            score=table_rows.score,
            window=table_rows.window,
            start_token=table_rows.start_token,
            end_token=table_rows.end_token,
            null_score=null_score,
            is_null=np.zeros(num_examples, dtype=np.bool_),
            null_score_diff=np.full(num_examples, np.nan),
            contexts=features.contexts,
            plan=plan,
        )


def _predictions(
    table: CandidateTable, features: EvalFeatures, before: npt.NDArray[np.intp], plan: SearchPlan
) -> dict[str, Prediction]:
    """Probabilities (vectorised) and one :class:`Prediction` per example."""
    num_examples = table.num_examples
    example = table.example.astype(np.intp)
    best_score = table.best_score()
    use_null = plan.null_scores
    null = table.null_score if use_null else np.full(num_examples, np.nan)
    has_null = ~np.isnan(null) & (null > _NEG_INF)
    peak = np.where(has_null, np.fmax(best_score, null), best_score)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.exp(table.score - peak[example])
    null_weight = np.zeros(num_examples)
    null_weight[has_null] = np.exp(null[has_null] - peak[has_null])
    total = np.bincount(example, weights=weights, minlength=num_examples) + null_weight
    safe_total = np.where(total > 0, total, 1.0)
    probability = weights / safe_total[example]
    null_probability = null_weight / safe_total

    columns = _AnswerColumns(
        features.contexts, table.example, table.start, table.end, table.score, probability, table.window
    )
    pointers = table.pointers
    best = table.best_row()
    has_span = best >= 0
    safe_best = np.where(has_span, best, 0)
    if len(table):
        best_start = np.where(has_span, table.start[safe_best], 0).tolist()
        best_end = np.where(has_span, table.end[safe_best], 0).tolist()
        best_probability = np.where(has_span, probability[safe_best], 0.0).tolist()
    else:
        best_start = best_end = [0] * num_examples
        best_probability = [0.0] * num_examples
    reported_end = np.minimum(pointers[1:], pointers[:-1] + plan.top_k).tolist()
    flags: list[Flag | None] = [
        "no-context" if was_empty else ("no-candidates" if not now else None)
        for was_empty, now in zip((before == 0).tolist(), has_span.tolist(), strict=True)
    ]
    rows = zip(
        features.example_ids,
        features.contexts,
        has_span.tolist(),
        best_start,
        best_end,
        best_score.tolist(),
        best_probability,
        table.is_null.tolist(),
        table.null_score_diff.tolist(),
        null.tolist(),
        null_probability.tolist(),
        pointers[:-1].tolist(),
        reported_end,
        flags,
        strict=True,
    )
    result: dict[str, Prediction] = {}
    for (
        example_id,
        context,
        span,
        start,
        end,
        score,
        prob,
        null_wins,
        diff,
        null_score,
        null_prob,
        lo,
        hi,
        flag,
    ) in rows:
        best_text = context[start:end] if span else ""
        null_value = None if math.isnan(null_score) else null_score
        if null_wins:
            answer = ("", None, None, _NEG_INF if null_value is None else null_value, null_prob)
        elif span:
            answer = (best_text, start, end, score, prob)
        else:
            answer = ("", None, None, _NEG_INF, 0.0)
        result[example_id] = Prediction(
            example_id,
            *answer,
            bool(null_wins),
            None if math.isnan(diff) else diff,
            null_value,
            null_prob if use_null else None,
            best_text,
            AnswerList(columns, range(lo, hi)),
            flag,
        )
    return result
