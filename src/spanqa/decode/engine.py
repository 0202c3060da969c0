"""Exact, vectorised span decoding: start/end logits + :class:`~spanqa.features.EvalFeatures` ->
:class:`Prediction` per example.

**What is computed.** The best answer of a window is the argmax over token pairs ``i <= j < i + A`` of
``start[i] + end[j]``, both context tokens (``offsets != -1``), where ``A`` is the length cap. It is found
*exactly* (transformers' ``utils_qa`` only looks at the top-20 starts x top-20 ends and misses the best
span on flat logits), in ``O(L log A + k A)`` per window for the ``k`` best, with no Python loop over
windows or tokens: a sliding-window maximum gives every start's best score, only the starts that can hold
one of the ``k`` best spans are expanded (see :mod:`spanqa.decode._search`, the kernel).

Windows are searched in groups of similar context length, each group's arrays trimmed to the columns its
context tokens use, so padding costs little. The numpy and torch implementations share one plan; torch
stays on the logits' device (CPU or CUDA) until only the surviving candidates remain, and both give
identical answers (the same IEEE additions in float32, or float64 for float64 logits).

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

**Why one module over 400 lines.** :class:`SpanDecoder` and :class:`DecodeStream` are two halves of one
mechanism: the decoder resolves the strategies into a :class:`~spanqa.strategies.SearchPlan` and calls
them, the stream holds the per-batch state and runs the search and the merge with that plan and those
calls (it reads ``decoder.plan``, ``decoder._call`` and ``decoder._blame``). Split apart, each would
reach into the other's private parts across a module boundary; the kernel (:mod:`spanqa.decode._search`)
and the result types (:mod:`spanqa.decode.predictions`) are already out.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pluggy

from spanqa.decode._search import (
    NEG_INF,
    CharOffsets,
    NumpyOps,
    Ops,
    Scores,
    TorchOps,
    candidate_spans,
    first_of_groups,
    group_rank,
    monotone_windows,
    spans_at_least,
    top_distinct,
    top_k_per_row,
    unordered_rows,
)
from spanqa.decode.config import NULL_ANSWER, DecodingConfig
from spanqa.decode.predictions import Prediction, build_predictions
from spanqa.errors import ConfigError, DataError, PluginError
from spanqa.features import EvalFeatures
from spanqa.plugins import StrategyRegistry, registry_for
from spanqa.strategies.base import CandidateTable, SearchPlan, Strategy, predicts_null, ranking_order

__all__ = ["Backend", "DecodeStream", "SpanDecoder"]

#: Roughly how many logits (windows x context columns) one search step handles at once.
_CHUNK_ELEMENTS = 1 << 20
#: Fewest windows a search group holds before a much wider window starts a new group.
_MIN_GROUP_ROWS = 128

Backend = Literal["auto", "numpy", "torch"]


@attrs.frozen(eq=False)
class _WindowCandidates:
    """The candidates a batch of windows contributed: the only thing a stream keeps per batch. Rows are
    grouped by window and ranked inside each window; character spans and float64 scores are derived once,
    for all batches together, when the stream finishes."""

    window: npt.NDArray[np.int32]
    start_token: npt.NDArray[np.int32]
    end_token: npt.NDArray[np.int32]
    score: npt.NDArray[np.floating[Any]]

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, field.name).nbytes) for field in attrs.fields(_WindowCandidates))

    @classmethod
    def concat(cls, chunks: Sequence[_WindowCandidates]) -> _WindowCandidates:
        if not chunks:
            empty = np.zeros(0, dtype=np.int32)
            return cls(empty, empty, empty, np.zeros(0, dtype=np.float64))
        return cls(
            *(np.concatenate([getattr(chunk, field.name) for chunk in chunks]) for field in attrs.fields(cls))
        )


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
            want_null = bool(predicts_null(diff, threshold))
            if want_null == prediction.is_null:
                result[key] = prediction
            elif want_null:
                result[key] = attrs.evolve(
                    prediction,
                    text="",
                    start=None,
                    end=None,
                    score=prediction.null_score if prediction.null_score is not None else NEG_INF,
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
                    score=NEG_INF if best is None else best.score,
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
        # The tokens a window can answer with; one past the last of them (0 when none) groups and trims
        # the search. Windows whose context offsets strictly increase never need their token spans
        # checked against character spans (see _search.monotone_windows).
        context = np.array(features.context_mask, dtype=np.bool_)  # a copy: edited below
        short = np.flatnonzero(features.lengths < context.shape[1])
        if short.size:  # columns past a window's length are padding, never context
            context[short] &= np.arange(context.shape[1])[None, :] < features.lengths[short, None]
        last_from_end = context[:, ::-1].argmax(axis=1) if n else np.zeros(0, dtype=np.intp)
        self._context_end = np.where(context.any(axis=1), context.shape[1] - last_from_end, 0).astype(np.intp)
        self._context = context
        self._monotone = monotone_windows(features.offsets, context, self._context_end)
        self._flat_offsets = np.ascontiguousarray(features.offsets).reshape(-1)  # a view when contiguous
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
    def _backend(self, start_logits: Any, end_logits: Any) -> tuple[Ops, Any, Any]:
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
                return TorchOps(torch, start_logits.device, dtype), start_logits, end_logits
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
            ops = TorchOps(torch_module, torch_module.device("cpu"), dtype)
            start_tensor = torch_module.from_numpy(np.ascontiguousarray(start_logits))
            return ops, start_tensor, torch_module.from_numpy(np.ascontiguousarray(end_logits))
        return NumpyOps(np.dtype(np.float64 if wide else np.float32)), start_logits, end_logits

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
        increasing = bool((indices[1:] > indices[:-1]).all())  # the usual batch: no sort needed
        if not increasing and np.unique(indices).size != indices.size:
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
        ops: Ops,
        start_raw: Any,
        end_raw: Any,
        rows: npt.NDArray[np.intp] | slice,
        windows: npt.NDArray[np.intp],
    ) -> None:
        features, plan = self.features, self.decoder.plan
        width = int(start_raw.shape[1])
        lengths = features.lengths[windows].astype(np.intp)
        shift = (width - lengths) if features.padding_side == "left" else np.zeros_like(lengths)

        # Null scores at each window's real CLS position.
        cls_columns = shift + features.cls_index[windows]
        null = (ops.pick(start_raw, rows, cls_columns) + ops.pick(end_raw, rows, cls_columns)).astype(
            np.float64
        )
        if plan.null_scores or plan.relative_to_null:
            # A null score may be -inf (a masked CLS token) unless spans are scored relative to it.
            usable = np.isfinite(null) if plan.relative_to_null else null < math.inf
            if not usable.all():
                row = int(np.flatnonzero(~usable)[0])
                bad = int(windows[row])
                need = (
                    "spans can only be scored relative to a finite one (null-relative)"
                    if plan.relative_to_null
                    else "it must be finite or -inf"
                )
                raise DataError(
                    f"window {bad} (example {self._example_id(features, bad)!r}): the null score "
                    f"(CLS logits) is {float(null[row])}; {need}"
                )
        self._null[windows] = null

        # Context columns of this chunk, trimmed to the range any of its windows uses.
        context = self._context[windows, : int(self._context_end[windows].max())]
        used = np.flatnonzero(context.any(axis=0))
        if used.size == 0:
            return
        first, last = int(used[0]), int(used[-1]) + 1
        context = context[:, first:last]
        if features.padding_side == "right":
            columns: slice | npt.NDArray[np.intp] = slice(first, last)
        else:
            columns = np.minimum(shift[:, None] + np.arange(first, last)[None, :], width - 1)
        k = plan.n_best_size
        cap = last - first if plan.max_answer_length is None else min(plan.max_answer_length, last - first)
        start = ops.masked(start_raw, rows, columns, context)
        end_padded = ops.masked(end_raw, rows, columns, context, pad=cap - 1)
        scores = Scores.build(ops, start, end_padded, cap)
        # A NaN or +inf context logit makes some ``bound`` (a sum with a maximum that includes it) NaN or
        # +inf, and that reaches its maximum: one reduction screens every context logit. The precise
        # check only runs then (and lets a finite sum that overflowed to +inf through).
        peak = ops.peak(scores.bound)
        if math.isnan(peak) or peak == math.inf:
            finite = ops.to_numpy((start < math.inf) & (end_padded[:, : last - first] < math.inf))
            if not finite.all():
                window = int(windows[np.nonzero(~finite)[0][0]])
                raise DataError(
                    f"window {window} (example {self._example_id(features, window)!r}): logits of context "
                    "tokens must be finite or -inf, found NaN or +inf"
                )

        found = candidate_spans(ops, scores, k)
        chars = CharOffsets(self._flat_offsets, int(features.offsets.shape[1]), windows, first)
        suspect = unordered_rows(found, chars, np.flatnonzero(~self._monotone[windows]))
        if suspect.size:
            # Tokens that share offsets (byte-level pieces of one character) turn different token spans
            # into one character span: de-duplicate those rows, and where fewer than k distinct spans
            # remain above the threshold, enumerate every span of the row so none hides below it.
            distinct, counts = top_distinct(found.take(np.isin(found.row, suspect)), chars, k)
            short = suspect[counts[suspect] < k]
            if short.size:
                everything = spans_at_least(ops, scores, ops.full((short.size,), NEG_INF), short)
                distinct, _ = top_distinct(distinct.replace_rows(short, everything), chars, k)
            found = found.replace_rows(suspect, distinct)
        # Spans come ordered by row, start, end; ranking them stably by (row, score) makes that the tie
        # order.
        found = found.take(top_k_per_row(found, k, len(windows)))
        self._chunks.append(
            _WindowCandidates(
                window=windows[found.row].astype(np.int32, copy=False),
                start_token=(found.start + first).astype(np.int32, copy=False),
                end_token=(found.end + first).astype(np.int32, copy=False),
                score=found.score,
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
        return build_predictions(table, features, before, decoder.plan)

    def _merge(self) -> CandidateTable:
        features, plan = self.features, self.decoder.plan
        num_examples = features.num_examples
        merged = _WindowCandidates.concat(self._chunks)
        window = merged.window
        score = merged.score.astype(np.float64)
        if plan.relative_to_null:
            score = score - self._null[window]
        # Character spans of every candidate, read from the flattened offsets in two 1-d gathers.
        cells = window.astype(np.intp) * int(features.offsets.shape[1])
        start = self._flat_offsets[(cells + merged.start_token) * 2]
        end = self._flat_offsets[(cells + merged.end_token) * 2 + 1]
        example = features.example_index[window]
        windows_per_example = np.bincount(features.example_index, minlength=num_examples)
        # Single-window examples are ranked already, unless shifted scores could have rounded to ties.
        several = (windows_per_example[example] > 1) | plan.relative_to_null
        if several.any():
            # Candidates of examples with several windows: one row per character span (the best score,
            # then the lowest window), ranked again.
            rows = np.flatnonzero(several)
            keys = (example[rows], start[rows], end[rows])
            by_span = rows[np.lexsort((window[rows], -score[rows], keys[2], keys[1], keys[0]))]
            unique = by_span[first_of_groups(example[by_span], start[by_span], end[by_span])]
            ranked = unique[ranking_order(example[unique], score[unique], start[unique], end[unique])]
            order = np.concatenate([np.flatnonzero(~several), ranked])
            order = order[np.argsort(example[order], kind="stable")]
            order = order[group_rank(example[order]) < plan.n_best_size]
        else:
            order = np.argsort(example, kind="stable")

        null_score = np.full(num_examples, np.nan)
        if plan.null_scores and plan.relative_to_null:
            null_score[windows_per_example > 0] = 0.0  # every window's null score relative to itself
        elif plan.null_scores and len(features):
            np.fmin.at(null_score, features.example_index.astype(np.intp), self._null)
        return CandidateTable(
            num_examples=num_examples,
            example=example[order].astype(np.int32),
            start=start[order],
            end=end[order],
            score=score[order],
            window=window[order],
            start_token=merged.start_token[order],
            end_token=merged.end_token[order],
            null_score=null_score,
            is_null=np.zeros(num_examples, dtype=np.bool_),
            null_score_diff=np.full(num_examples, np.nan),
            contexts=features.contexts,
            plan=plan,
        )
