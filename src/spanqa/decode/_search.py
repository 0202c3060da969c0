"""The exact per-window span search behind :class:`~spanqa.decode.SpanDecoder` (private).

For a chunk of windows with masked logits (``-inf`` off the context) this finds, per window, every span
that can be among its ``k`` best, with no Python loop over windows or tokens:

1. a sliding-window maximum of the end logits over ``[i, i + A)`` (a sparse table: ``log2 A`` vectorised
   ``maximum`` calls) gives, for every start ``i``, the exact score of its best span, ``bound[i]``;
2. the ``k``-th largest ``bound`` of the window, ``tau``, is a score that at least ``k`` distinct spans
   reach, so each of the ``k`` best spans starts at a token with ``bound >= tau``: only those (about
   ``k``) starts are expanded over their ``A`` ends, and every span scoring ``>= tau`` is kept;
3. :func:`top_k_per_row` ranks those few spans per window (one integer sort) and keeps the ``k`` best.

The numpy and torch versions share this plan through a tiny array namespace (:class:`NumpyOps`,
:class:`TorchOps`); torch stays on the logits' device until only the surviving spans remain, and both
give identical answers (the same IEEE additions, in float32 or float64).

Everything here works on *token* spans. Where tokens share character offsets (byte-level pieces of one
character), two token spans can be one character span, or token order can differ from character order;
:func:`unordered_rows` finds the windows where that happens among the candidates and
:func:`top_distinct` ranks those windows by character span instead.

The module is over 400 lines because it is one kernel: the array namespaces, the three steps above and the
character-span repair all work on the same :class:`Scores` and :class:`Spans` through the same namespace,
and are read top to bottom as one algorithm (it moved here unchanged from ``spanqa._search``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.strategies.base import ranking_order

NEG_INF = float("-inf")


def row_positions(rows: npt.NDArray[np.intp] | slice) -> npt.NDArray[np.intp]:
    """Row positions as an index array (a contiguous slice becomes a range)."""
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop)
    return rows


# ========================================================================================================
# Array namespaces
# ========================================================================================================


class NumpyOps:
    """The few array operations the search needs, for numpy."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.neg_inf = dtype.type(NEG_INF)
        self.lowest = float(np.finfo(dtype).min)

    def masked(self, logits: Any, rows: Any, columns: Any, mask: Any, pad: int = 0) -> Any:
        """``logits[rows][:, columns]`` (``columns``: a slice, or per-row column indices) in the working
        dtype, ``-inf`` where ``mask`` is false, followed by ``pad`` columns of ``-inf``; only the
        selected cells are read, and the result is written once."""
        if isinstance(columns, slice):
            part = logits[rows, columns] if isinstance(rows, slice) else logits[:, columns][rows]
        else:
            part = np.take_along_axis(logits[rows], columns, axis=1)
        if not pad:
            return np.where(mask, part, self.neg_inf)
        out = np.full((mask.shape[0], mask.shape[1] + pad), self.neg_inf, dtype=self.dtype)
        np.copyto(out[:, : mask.shape[1]], part, where=mask, casting="same_kind")
        return out

    def pick(self, logits: Any, rows: Any, columns: Any) -> npt.NDArray[Any]:
        """``logits[rows[i], columns[i]]`` in the working dtype, on the host."""
        return np.asarray(logits[row_positions(rows), columns], dtype=self.dtype)

    def device_array(self, array: npt.NDArray[Any]) -> Any:
        return array

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        return np.asarray(array)

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        return np.full(shape, value, dtype=self.dtype)

    def maximum(self, left: Any, right: Any) -> Any:
        return np.maximum(left, right)

    def nonzero(self, mask: Any) -> tuple[Any, Any]:
        # flatnonzero + divmod is several times faster than 2-d nonzero; same row-major order.
        rows, columns = np.divmod(np.flatnonzero(mask), mask.shape[1])
        return rows, columns

    def select(self, values: Any, mask: Any) -> tuple[Any, Any, Any]:
        """Row, column and value of every true cell of ``mask`` (row-major order)."""
        flat = np.flatnonzero(mask)
        rows, columns = np.divmod(flat, mask.shape[1])
        return rows, columns, values.reshape(-1)[flat]

    def span_scores(self, scores: Scores, rows: Any, starts: Any) -> Any:
        """``(m, width)``: the scores of the spans starting at token ``starts[i]`` of row ``rows[i]``."""
        # Every start's ends are ``width`` contiguous cells of the padded end logits: one gather of whole
        # windows from a flat view is cheaper than a 2-d fancy index into the sliding-window view.
        padded = scores.end_padded
        windows = np.lib.stride_tricks.sliding_window_view(padded.reshape(-1), scores.width)
        ends = windows[rows * padded.shape[1] + starts]
        ends += scores.start[rows, starts][:, None]
        return ends

    def peak(self, array: Any) -> float:
        return float(array.max()) if array.size else NEG_INF

    def kth_largest(self, array: Any, k: int) -> Any:
        if k == 1:
            return array.max(axis=1)
        width = array.shape[1]
        return np.partition(array, width - k, axis=1)[:, width - k]


class TorchOps:
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

    def masked(self, logits: Any, rows: Any, columns: Any, mask: Any, pad: int = 0) -> Any:
        if isinstance(columns, slice):
            part = logits.detach()[:, columns][self._index(rows)]
        else:
            part = self.torch.gather(logits.detach()[self._index(rows)], 1, self._index(columns))
        part = part.to(dtype=self.dtype).masked_fill(~self.device_array(mask), NEG_INF)
        if not pad:
            return part
        return self.torch.cat([part, self.full((int(part.shape[0]), pad), NEG_INF)], dim=1)

    def pick(self, logits: Any, rows: Any, columns: Any) -> npt.NDArray[Any]:
        picked = logits.detach()[self._index(row_positions(rows)), self._index(columns)]
        return np.asarray(picked.to(dtype=self.dtype).cpu().numpy())

    def device_array(self, array: npt.NDArray[Any]) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        return np.asarray(array.cpu().numpy())

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        return self.torch.full(shape, value, dtype=self.dtype, device=self.device)

    def maximum(self, left: Any, right: Any) -> Any:
        return self.torch.maximum(left, right)

    def nonzero(self, mask: Any) -> tuple[Any, Any]:
        rows, columns = self.torch.nonzero(mask, as_tuple=True)
        return rows, columns

    def select(self, values: Any, mask: Any) -> tuple[Any, Any, Any]:
        rows, columns = self.torch.nonzero(mask, as_tuple=True)
        return rows, columns, values[rows, columns]

    def span_scores(self, scores: Scores, rows: Any, starts: Any) -> Any:
        windows = scores.end_padded.unfold(1, scores.width, 1)
        return scores.start[rows, starts][:, None] + windows[rows, starts]

    def peak(self, array: Any) -> float:
        return float(array.max().item()) if array.numel() else NEG_INF

    def kth_largest(self, array: Any, k: int) -> Any:
        if k == 1:
            return array.amax(dim=1)
        return self.torch.topk(array, k, dim=1, sorted=False).values.amin(dim=1)


Ops = NumpyOps | TorchOps


# ========================================================================================================
# The search
# ========================================================================================================


def sliding_max(ops: Ops, padded: Any, length: int, width: int) -> Any:
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
class Scores:
    """The masked logits of a chunk of windows (``-inf`` off the context), ready for the span search.

    Attributes:
        start: ``(rows, L)`` start logits.
        end_padded: ``(rows, L + width - 1)`` end logits followed by ``width - 1`` columns of ``-inf``:
            the spans starting at ``i`` end in ``end_padded[r, i : i + width]``.
        bound: ``(rows, L)`` the exact best score of a span starting at each token (``-inf``: none).
        width: the length cap, in tokens.
    """

    start: Any
    end_padded: Any
    bound: Any
    width: int

    @classmethod
    def build(cls, ops: Ops, start: Any, end_padded: Any, width: int) -> Scores:
        """``end_padded`` must already carry its ``width - 1`` columns of ``-inf``
        (:meth:`NumpyOps.masked` with ``pad``)."""
        length = int(start.shape[1])
        return cls(
            start=start,
            end_padded=end_padded,
            bound=start + sliding_max(ops, end_padded, length, width),
            width=width,
        )


@attrs.frozen(eq=False)
class Spans:
    """Spans of a chunk of windows, on the host: ``row`` (window of the chunk), token positions
    ``start``/``end`` (inclusive, chunk columns) and ``score`` (in the working dtype)."""

    row: npt.NDArray[np.intp]
    start: npt.NDArray[np.intp]
    end: npt.NDArray[np.intp]
    score: npt.NDArray[np.floating[Any]]

    def take(self, index: npt.NDArray[Any]) -> Spans:
        return Spans(self.row[index], self.start[index], self.end[index], self.score[index])

    @staticmethod
    def concat(parts: Sequence[Spans]) -> Spans:
        return Spans(
            np.concatenate([part.row for part in parts]),
            np.concatenate([part.start for part in parts]),
            np.concatenate([part.end for part in parts]),
            np.concatenate([part.score for part in parts]),
        )

    def replace_rows(self, rows: npt.NDArray[np.intp], spans: Spans) -> Spans:
        """These spans with every span of ``rows`` replaced by ``spans`` (which cover exactly those rows),
        grouped by row again."""
        merged = Spans.concat([self.take(~np.isin(self.row, rows)), spans])
        return merged.take(np.argsort(merged.row, kind="stable"))


def spans_at_least(ops: Ops, scores: Scores, tau: Any, rows: npt.NDArray[np.intp] | None = None) -> Spans:
    """Every span of the given rows (all by default) whose score is finite and ``>= tau`` (one threshold
    per row), found by expanding only the starts whose ``bound`` reaches ``tau``: ``O(starts x width)``.
    Ordered by row, then start, then end."""
    bound = scores.bound if rows is None else scores.bound[ops.device_array(rows)]
    # A -inf threshold becomes the lowest finite value: one comparison then also drops -inf scores.
    tau = ops.maximum(tau, ops.full(tuple(tau.shape), ops.lowest))
    local, starts = ops.nonzero(bound >= tau[:, None])
    chunk_rows = local if rows is None else ops.device_array(rows)[local]
    values = ops.span_scores(scores, chunk_rows, starts)
    hit, offset, score = ops.select(values, values >= tau[local][:, None])
    found_starts = starts[hit]
    return Spans(
        row=ops.to_numpy(chunk_rows[hit]).astype(np.intp, copy=False),
        start=ops.to_numpy(found_starts).astype(np.intp, copy=False),
        end=ops.to_numpy(found_starts + offset).astype(np.intp, copy=False),
        score=ops.to_numpy(score),
    )


def candidate_spans(ops: Ops, scores: Scores, k: int) -> Spans:
    """For every row, a superset of its ``k`` best spans: every span scoring at least ``tau``, the k-th
    largest ``bound`` of the row. At least ``k`` distinct spans reach ``tau`` (the best span of each of the
    top-k starts), so every top-k span does too, and its start has ``bound >= tau``: only those (about
    ``k``) starts are expanded. A row with fewer than ``k`` valid starts has ``tau = -inf``: all its spans."""
    rows, length = scores.start.shape
    if k > length:  # fewer starts than k: every span of the row may be among its top k
        return spans_at_least(ops, scores, ops.full((rows,), NEG_INF))
    return spans_at_least(ops, scores, ops.kth_largest(scores.bound, k))


# ========================================================================================================
# Ranking
# ========================================================================================================


def row_score_order(row: npt.NDArray[np.intp], score: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.intp]:
    """A stable order by row (ascending), then score (descending): rows that tie keep their order."""
    if score.dtype == np.float32 and row.size:
        # One integer key instead of a two-key lexsort: the float32 bits, made monotone as signed
        # integers, below the row (``+ 0.0`` folds -0.0 into +0.0, which compare equal as floats). The
        # keys come in runs (rows ascending), which the stable sort (timsort) exploits.
        bits = (score + np.float32(0.0)).view(np.int32)
        bits = bits ^ ((bits >> 31) & 0x7FFFFFFF)  # int32 work; only the key is int64
        key = row.astype(np.int64) << 32
        key -= bits
        key += 0x7FFFFFFF  # row << 32 + (0x7FFFFFFF - bits), the low part in [0, 2**32)
        order: npt.NDArray[np.intp] = np.argsort(key, kind="stable")
        return order
    order = np.lexsort((-score, row))
    return order


def top_k_per_row(spans: Spans, k: int, n_rows: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` best spans of every row (``spans`` grouped by row, ascending), ordered by row,
    then score (highest first), then their order in ``spans`` (the tie order)."""
    order = row_score_order(spans.row, spans.score)
    # Sorted by row, a span's rank is its position minus where its row begins.
    begins = np.zeros(n_rows + 1, dtype=np.intp)
    np.cumsum(np.bincount(spans.row, minlength=n_rows), out=begins[1:])
    rank = np.arange(order.size) - begins[spans.row[order]]
    kept: npt.NDArray[np.intp] = order[rank < k]
    return kept


def first_of_groups(*keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """For rows already sorted by ``keys``: True where a row starts a new group of equal keys."""
    n = keys[0].shape[0]
    first = np.ones(n, dtype=np.bool_)
    if n > 1:
        same = np.ones(n - 1, dtype=np.bool_)
        for key in keys:
            same &= key[1:] == key[:-1]
        first[1:] = ~same
    return first


def group_rank(sorted_groups: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Rank of each row inside its group, for rows sorted by group."""
    n = sorted_groups.shape[0]
    first = first_of_groups(sorted_groups)
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    rank: npt.NDArray[np.intp] = np.arange(n) - np.repeat(starts, counts)
    return rank


# ========================================================================================================
# Character spans
# ========================================================================================================


@attrs.frozen(eq=False)
class CharOffsets:
    """Where the token spans of a chunk are in their contexts, read from the features' offsets without
    copying the chunk's block of them.

    Attributes:
        flat: the features' ``(n_windows, max_length, 2)`` offsets, flattened (C order).
        max_length: the offsets' second dimension.
        windows: ``(rows,)`` the window of each chunk row.
        first: the window column of chunk column 0.
    """

    flat: npt.NDArray[np.int32]
    max_length: int
    windows: npt.NDArray[np.intp]
    first: int

    @property
    def rows(self) -> int:
        return int(self.windows.shape[0])

    def _cells(self, spans: Spans, tokens: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        # Flat positions of the tokens' (start, end) pairs: one 1-d gather instead of a 3-d fancy index.
        cells: npt.NDArray[np.intp] = (self.windows[spans.row] * self.max_length + (tokens + self.first)) * 2
        return cells

    def starts(self, spans: Spans) -> npt.NDArray[np.int32]:
        """Start character of every span."""
        return self.flat[self._cells(spans, spans.start)]

    def ends(self, spans: Spans) -> npt.NDArray[np.int32]:
        """End character (exclusive) of every span."""
        return self.flat[self._cells(spans, spans.end) + 1]


def monotone_windows(
    offsets: npt.NDArray[np.int32], context: npt.NDArray[np.bool_], context_end: npt.NDArray[np.intp]
) -> npt.NDArray[np.bool_]:
    """``(n_windows,)``: windows whose context tokens form one run with strictly increasing start and end
    characters. Token spans of such a window, ordered by start token then end token, are distinct
    character spans in strictly increasing character order, so :func:`unordered_rows` can skip them.

    ``context`` marks the tokens that can answer (offsets ``>= 0``), ``context_end`` is one past the
    last of them in each window (0: none)."""
    n, length = context.shape
    if length < 2:
        return np.ones(n, dtype=np.bool_)
    # One comparison over the interleaved (start, end) pairs of neighbouring tokens; the two bytes of a
    # pair, read as one uint16, are nonzero where the start or the end fails to increase. Only pairs
    # that end on a context token matter: one that starts off the context compares with -1 and passes.
    flat = np.ascontiguousarray(offsets[:, :length]).reshape(n, 2 * length)
    not_increasing = (flat[:, 2:] <= flat[:, :-2]).view(np.uint16) != 0
    bad = (not_increasing & context[:, 1:]).any(axis=1)
    # One run: as many context tokens as columns from the first to the last.
    count = np.count_nonzero(context, axis=1)
    one_run = (count == 0) | (count == context_end - context.argmax(axis=1))
    monotone: npt.NDArray[np.bool_] = ~bad & one_run
    return monotone


def unordered_rows(spans: Spans, chars: CharOffsets, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Those of ``rows`` whose spans (ordered by row, start token, end token) are not in strictly
    increasing character order: only there can two token spans be one character span (tokens sharing
    offsets) or token order differ from character order (the tie order). Every other row's spans are
    distinct character spans, ranked alike by tokens and by characters."""
    if rows.size == 0:
        return rows
    spans = spans.take(np.isin(spans.row, rows))
    if spans.row.size < 2:
        return np.zeros(0, dtype=np.intp)
    start, end = chars.starts(spans), chars.ends(spans)
    same_row = spans.row[1:] == spans.row[:-1]
    increasing = (start[1:] > start[:-1]) | ((start[1:] == start[:-1]) & (end[1:] > end[:-1]))
    found: npt.NDArray[np.intp] = np.unique(spans.row[1:][same_row & ~increasing])
    return found


def top_distinct(spans: Spans, chars: CharOffsets, k: int) -> tuple[Spans, npt.NDArray[np.intp]]:
    """The ``k`` best distinct *character* spans of every row (in ranking order), and how many distinct
    character spans each of the ``chars.rows`` rows had."""
    rows = spans.row
    start, end = chars.starts(spans), chars.ends(spans)
    order = ranking_order(rows, spans.score, start, end)
    # Group equal (row, character span) pairs with a stable sort over ranking positions: the first of
    # each group is the best-ranked copy, the one to keep.
    by_span = order[np.lexsort((np.arange(order.size), end[order], start[order], rows[order]))]
    keep = np.zeros(rows.shape[0], dtype=np.bool_)
    keep[by_span[first_of_groups(rows[by_span], start[by_span], end[by_span])]] = True
    distinct = order[keep[order]]
    counts = np.bincount(rows[distinct], minlength=chars.rows)
    return spans.take(distinct[group_rank(rows[distinct]) < k]), counts
