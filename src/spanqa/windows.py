"""Window geometry: a fast tokenizer's overflowing pair encoding -> columnar windows with exact offsets.

:func:`build_windows` locates the context and the CLS token of every window (through ``sequence_ids``,
never by position) and :func:`normalise_offsets` makes each context token's offsets cover exactly the text
it stands for (no surrounding padding, dropped characters joined to the token before them); the result
is :class:`Windows`, flat numpy arrays over a whole batch. What counts as padding (whitespace and
invisible format characters) is :mod:`spanqa.characters`'s rule. Separate from :mod:`spanqa.labels`,
which only reads windows, and from :mod:`spanqa.align`, which only drives the tokenizer.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.characters import WHITESPACE, is_padding_table
from spanqa.features import NOT_CONTEXT

if TYPE_CHECKING:
    from spanqa.examples_reader import Examples

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_MAX_QUESTION_TOKENS",
    "DEFAULT_STRIDE",
    "FAR",
    "WHITESPACE",
    "Windows",
    "build_windows",
    "normalise_offsets",
    "ragged_arange",
]

#: The window settings' defaults, named once for the Aligner, the Reader, the fine-tuner and the CLI:
#: tokens per window (question and special tokens included), the overlap between consecutive windows of a
#: long context, and the tokens a question keeps (run_qa.py's 384 / 128, and 64 for the question).
DEFAULT_MAX_LENGTH = 384
DEFAULT_STRIDE = 128
DEFAULT_MAX_QUESTION_TOKENS = 64


#: Larger than any character offset (used to pad "start" columns so that padding never matches).
FAR = np.iinfo(np.int32).max


@attrs.frozen(eq=False)
class Windows:
    """One tokenizer call's windows, columnar.

    ``offsets`` is flat ``int32 (n_tokens, 2)`` over all windows (window ``i`` owns the rows
    ``base[i]:base[i] + lengths[i]``), already normalised and set to -1 outside the context.
    The context of window ``i`` is the contiguous token range ``context_start[i]:context_end[i]``;
    ``question_tokens`` is the longest question of the batch, in tokens.
    """

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    token_type_ids: list[list[int]] | None
    offsets: npt.NDArray[np.int32]
    lengths: npt.NDArray[np.int64]
    base: npt.NDArray[np.int64]
    context_start: npt.NDArray[np.int64]
    context_end: npt.NDArray[np.int64]
    cls_index: npt.NDArray[np.int64]
    example_index: npt.NDArray[np.int64]
    question_tokens: int

    def __len__(self) -> int:
        return len(self.input_ids)

    def context_matrices(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Start and end offsets of each window's context tokens, ``(n_windows, longest_context)``.

        Padding is ``FAR`` in the start matrix and -1 in the end matrix, so that a padding column never
        satisfies ``start < x`` or ``end > x`` for a character position ``x``.
        """
        n = len(self)
        counts = self.context_end - self.context_start
        width = int(counts.max()) if n else 0
        starts = np.full((n, width), FAR, dtype=np.int32)
        ends = np.full((n, width), -1, dtype=np.int32)
        rows = np.repeat(np.arange(n), counts)
        columns = ragged_arange(counts)
        flat = np.repeat(self.base + self.context_start, counts) + columns
        starts[rows, columns] = self.offsets[flat, 0]
        ends[rows, columns] = self.offsets[flat, 1]
        return starts, ends

    def padded_offsets(self, width: int) -> npt.NDArray[np.int32]:
        """``int32 (n_windows, width, 2)`` offsets, -1 for non-context and padding tokens."""
        n = len(self)
        padded = np.full((n, width, 2), NOT_CONTEXT, dtype=np.int32)
        rows = np.repeat(np.arange(n), self.lengths)
        columns = ragged_arange(self.lengths)
        padded[rows, columns] = self.offsets
        return padded


def ragged_arange(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``concatenate([arange(c) for c in counts])`` without a Python loop."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


def normalise_offsets(
    offsets: npt.NDArray[np.int32], token_context: npt.NDArray[np.int64], contexts: Sequence[str]
) -> None:
    """Make each context token's offsets cover exactly the text it stands for, in place.

    Two corrections, both so that ``context[start:end]`` of a token span is the text a reader expects:

    * **Surrounding padding is trimmed** (whitespace and invisible format characters such as U+200B, see
      :mod:`spanqa.characters`). Byte-level BPE without ``trim_offsets`` and SentencePiece (Metaspace)
      tokenizers report ``"Ġword"`` / ``"▁word"`` with the preceding space inside the offsets, so a span
      starting on such a token would decode with a leading space; byte-level BPE gives a zero-width space
      a token of its own. A padding-only token (a lone ``"▁"``) becomes the empty span at its end: it
      carries no text, and a span that starts or ends on it then decodes without the padding.
    * **Characters the tokenizer dropped join the token before them.** An accent-stripping normalizer
      (uncased BERT) deletes combining marks, and Thai vowel and tone marks, Arabic harakat or Devanagari
      signs *are* separate combining code points; control characters are deleted too. No token covers
      them, so ``"สี่"`` would decode as ``"ส"``. A token's end is moved over the run of such uncovered
      characters that directly follows it, padding excepted (BERT deletes a zero-width space too, and
      ``"Denver\u200b"`` must still decode as ``"Denver"``).

    ``token_context`` gives each row's index into ``contexts`` (-1 for rows that are not context tokens,
    which are left untouched). The rows of all windows of a context together cover its whole text.
    """
    text = "".join(contexts)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    size = len(codes)
    rows = np.flatnonzero((token_context >= 0) & (offsets[:, 1] > offsets[:, 0]))
    if not len(rows):
        return
    lengths = np.fromiter(map(len, contexts), dtype=np.int64, count=len(contexts))
    context_base = np.cumsum(lengths) - lengths
    base = context_base[token_context[rows]]
    first = base + offsets[rows, 0]
    end = base + offsets[rows, 1]

    blank = np.append(is_padding_table(codes), False)
    covered = np.cumsum(np.bincount(first, minlength=size + 1) - np.bincount(end, minlength=size + 1)) > 0
    kept = covered | blank
    kept[size] = True
    # Most tokens need nothing (WordPiece: nearly all); only the others go through the rest.
    todo = np.flatnonzero(blank[first] | blank[end - 1] | ~kept[end])
    if not len(todo):
        return
    rows, base, first, end = rows[todo], base[todo], first[todo], end[todo]
    context_end = base + lengths[token_context[rows]]

    positions = np.arange(size + 1, dtype=np.int64)
    next_kept = np.minimum.accumulate(np.where(kept, positions, size)[::-1])[::-1]
    next_solid = np.minimum.accumulate(np.where(blank, size, positions)[::-1])[::-1]
    prev_solid = np.maximum.accumulate(np.where(blank, -1, positions))

    new_first = next_solid[first]
    solid = new_first < end
    trimmed_end = prev_solid[end - 1] + 1
    extended_end = np.minimum(next_kept[trimmed_end], context_end)
    offsets[rows, 0] = np.where(solid, new_first, end) - base
    offsets[rows, 1] = np.where(solid, extended_end, end) - base


def build_windows(
    encoding: Any, examples: Examples, *, question_first: bool, cls_id: int | None, special_tokens: int
) -> Windows:
    """Locate context, CLS and normalised offsets in each window of a pair call's ``encoding``.

    ``question_first``: the question is the first sequence of the pair (else the context is);
    ``cls_id``: the tokenizer's CLS token id (``None``: position 0); ``special_tokens``: special tokens per
    window.
    """
    input_ids: list[list[int]] = encoding["input_ids"]
    n = len(input_ids)
    lengths = np.fromiter(map(len, input_ids), dtype=np.int64, count=n)
    base = np.cumsum(lengths) - lengths
    offsets = np.fromiter(
        itertools.chain.from_iterable(itertools.chain.from_iterable(encoding["offset_mapping"])),
        dtype=np.int32,
        count=2 * int(lengths.sum()),
    ).reshape(-1, 2)
    example_index = np.asarray(encoding["overflow_to_sample_mapping"], dtype=np.int64)

    context_sequence = 1 if question_first else 0
    context_start = np.zeros(n, dtype=np.int64)
    context_end = np.zeros(n, dtype=np.int64)
    cls_index = np.zeros(n, dtype=np.int64)
    for i in range(n):
        sequence_ids = encoding.sequence_ids(i)
        # The context is one contiguous run of tokens: where it starts and how long it is.
        with contextlib.suppress(ValueError):
            context_start[i] = sequence_ids.index(context_sequence)
            context_end[i] = context_start[i] + sequence_ids.count(context_sequence)
        if cls_id is not None:
            cls_index[i] = _cls_position(input_ids[i], sequence_ids, cls_id)
    # Whatever is neither context nor special token is question.
    question_tokens = int(np.max(lengths - (context_end - context_start), initial=0)) - special_tokens

    # Context tokens keep their (normalised) offsets; every other token gets -1.
    size = len(offsets)
    boundaries = np.bincount(base + context_start, minlength=size + 1) - np.bincount(
        base + context_end, minlength=size + 1
    )
    in_context = np.cumsum(boundaries[:size]) > 0
    # Examples often share a context (SQuAD: ~5 questions per paragraph): normalise against each once.
    unique: dict[str, int] = {}
    slot = np.fromiter(
        (unique.setdefault(context, len(unique)) for context in examples.contexts),
        dtype=np.int64,
        count=len(examples),
    )
    token_context = np.where(in_context, np.repeat(slot[example_index], lengths), -1)
    normalise_offsets(offsets, token_context, list(unique))
    offsets[~in_context] = NOT_CONTEXT
    return Windows(
        input_ids=input_ids,
        attention_mask=encoding["attention_mask"],
        token_type_ids=encoding.get("token_type_ids"),
        offsets=offsets,
        lengths=lengths,
        base=base,
        context_start=context_start,
        context_end=context_end,
        cls_index=cls_index,
        example_index=example_index,
        question_tokens=question_tokens,
    )


def _cls_position(input_ids: list[int], sequence_ids: list[int | None], cls_id: int) -> int:
    """Position of the CLS *special* token in a window (0 when the window has none).

    A context may spell the CLS token literally (``"[CLS]"`` in a web page), which the tokenizer maps to
    the same id, so only positions outside both sequences count. The usual answer is the first token
    (BERT) or the last (XLNet); 0 is the documented fallback for tokenizers without a CLS token.
    """
    start = 0
    while True:
        try:
            position = input_ids.index(cls_id, start)
        except ValueError:
            return 0
        if sequence_ids[position] is None:
            return position
        start = position + 1
