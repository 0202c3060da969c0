"""Labels and the self-check: for every (window, gold answer) pair, the answer's token span and whether
it decodes back to the gold characters.

:func:`label_windows` gives each window its training label (the first gold answer it holds that aligns,
else its CLS index) and classifies every gold answer (exact, covered, outside every window, failed): the
numbers of the :class:`~spanqa.AlignmentReport`. It only reads :class:`~spanqa.windows.Windows` and
:class:`~spanqa.examples_reader.Examples`, so the proof of the labels can be read on its own.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.examples_reader import Examples
from spanqa.windows import FAR, Windows, ragged_arange

__all__ = ["Labels", "label_windows"]


@attrs.frozen(eq=False)
class Labels:
    """Labels of one batch of windows and the outcome of each of the batch's gold answers."""

    start_positions: npt.NDArray[np.int64]
    end_positions: npt.NDArray[np.int64]
    exact: npt.NDArray[np.bool_]
    covered: npt.NDArray[np.bool_]
    outside: npt.NDArray[np.bool_]
    failed: npt.NDArray[np.bool_]


def label_windows(windows: Windows, examples: Examples) -> Labels:
    """Label every window and classify every gold answer, vectorised over (window, answer) pairs.

    For a pair, the answer's token span in the window is the first context token ending after the
    answer's first character and the last context token starting before its end. The pair *holds* the
    answer when the window's context characters cover the answer's span; the span then *aligns* when its
    decoded characters ``[offsets[start][0], offsets[end][1])`` equal (exact) or contain (covered) the
    gold span. Comparing spans is comparing texts here, because every gold text was checked to be its
    span's text when the records were read.
    """
    n = len(windows)
    n_answers = len(examples.answer_start)
    starts, ends = windows.context_matrices()
    has_context = windows.context_end > windows.context_start
    window_first = np.where(has_context, starts.min(axis=1, initial=FAR), FAR)
    window_last = np.where(has_context, ends.max(axis=1, initial=-1), -1)

    # Every (window, gold answer of the window's example) pair, window-major, answers in record order.
    counts = np.diff(examples.answer_ptr)[windows.example_index]
    pair_window = np.repeat(np.arange(n), counts)
    pair_answer = np.repeat(examples.answer_ptr[windows.example_index], counts) + ragged_arange(counts)
    char_start = examples.answer_start[pair_answer]
    char_end = examples.answer_end[pair_answer]

    holds = (window_first[pair_window] <= char_start) & (char_end <= window_last[pair_window])
    first_token, last_token, exact, covered = _token_spans(starts, ends, pair_window, char_start, char_end)
    exact &= holds
    covered &= holds
    aligned = exact | covered

    # Window labels: the first gold answer the window holds and that aligns; otherwise the CLS index.
    start_positions = windows.cls_index.copy()
    end_positions = windows.cls_index.copy()
    aligned_pairs = np.flatnonzero(aligned)
    labelled, first = np.unique(pair_window[aligned_pairs], return_index=True)
    chosen = aligned_pairs[first]
    start_positions[labelled] = windows.context_start[labelled] + first_token[chosen]
    end_positions[labelled] = windows.context_start[labelled] + last_token[chosen]

    # Answer outcomes: judged in the first window that holds the answer (windows are in order).
    holding_pairs = np.flatnonzero(holds)
    held, first = np.unique(pair_answer[holding_pairs], return_index=True)
    judged = holding_pairs[first]
    answer_exact = np.zeros(n_answers, dtype=bool)
    answer_covered = np.zeros(n_answers, dtype=bool)
    answer_held = np.zeros(n_answers, dtype=bool)
    answer_exact[held] = exact[judged]
    answer_covered[held] = covered[judged]
    answer_held[held] = True
    return Labels(
        start_positions=start_positions,
        end_positions=end_positions,
        exact=answer_exact,
        covered=answer_covered,
        outside=~answer_held,
        failed=answer_held & ~answer_exact & ~answer_covered,
    )


def _token_spans(
    starts: npt.NDArray[np.int32],
    ends: npt.NDArray[np.int32],
    pair_window: npt.NDArray[np.int64],
    char_start: npt.NDArray[np.int64],
    char_end: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Each pair's minimal token span (first/last context token) and whether it decodes exact/covering.

    Boolean reductions over the pair's row of context offsets, so offsets need not even be monotonic.
    """
    n_pairs, width = len(pair_window), starts.shape[1]
    if n_pairs == 0 or width == 0:
        none = np.zeros(n_pairs, dtype=bool)
        return np.zeros(n_pairs, dtype=np.int64), np.zeros(n_pairs, dtype=np.int64), none, none.copy()
    pair_starts, pair_ends = starts[pair_window], ends[pair_window]
    after_start = pair_ends > char_start[:, None]
    before_end = pair_starts < char_end[:, None]
    first_token = after_start.argmax(axis=1)
    last_token = width - 1 - before_end[:, ::-1].argmax(axis=1)
    found = after_start.any(axis=1) & before_end.any(axis=1) & (first_token <= last_token)
    rows = np.arange(n_pairs)
    decoded_start = pair_starts[rows, first_token]
    decoded_end = pair_ends[rows, last_token]
    exact = found & (decoded_start == char_start) & (decoded_end == char_end)
    covered = found & ~exact & (decoded_start <= char_start) & (decoded_end >= char_end)
    return first_token, last_token, exact, covered
