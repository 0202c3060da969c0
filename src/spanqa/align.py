"""The Aligner: records -> model windows, with character-exact answer labels that are proven, not assumed.

Extractive QA trains on *token* positions while data sets give *character* offsets, and a long context is
split into overlapping windows. Every piece of that is a known source of silent damage: RoBERTa-like
tokenizers put the leading space into a token's offsets, SentencePiece ``"▁"`` tokens do the same,
context-first tokenizers (XLNet) break code that assumes the question comes first, answers that no window
holds are quietly labelled "no answer", and over-long questions crash the tokenizer. The :class:`Aligner`
handles each of these explicitly and then *checks its own work*: every label is decoded back to characters
and compared with the gold answer, and the :class:`AlignmentReport` counts the outcome of every gold answer
(exact, covered by a wider token span, outside every window, failed) with the ids of the bad ones.

How it works, and why it is fast:

* Records are tokenized in batches by the fast tokenizer itself (``return_overflowing_tokens=True``,
  ``return_offsets_mapping=True``, ``stride`` = the overlap between windows), so windows are exactly what the
  tokenizer's own truncation produces for the question/context order the tokenizer expects.
* The question and the context are located in each window with ``sequence_ids`` (never by position), and
  the CLS index is looked up among the special tokens of each window.
* Questions longer than ``max_question_tokens`` are cut (and counted) instead of crashing the tokenizer;
  only questions that could break the pair call are tokenized up front, the others are measured in the
  windows themselves.
* Everything after the tokenizer call is columnar numpy over the whole batch: offsets are normalised (no
  surrounding whitespace; characters the tokenizer dropped join the token before them), and labels and the
  decode-back check are boolean reductions over the context offsets of every (window, gold answer) pair.
  There is no per-token Python loop.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.data import require_valid_unicode
from spanqa.errors import ConfigError, DataError, TokenizerError
from spanqa.features import NOT_CONTEXT, EvalFeatures, PaddingSide

if TYPE_CHECKING:
    import datasets

    from spanqa.data import LoadedRecords

__all__ = ["Aligner", "AlignmentReport", "TrainFeatures"]

#: Every character for which ``str.isspace()`` is true. Token offsets are trimmed of these so that a token
#: such as RoBERTa's ``"Ġword"`` or SentencePiece's ``"▁word"`` (whose offsets may include the space before
#: the word) decodes to ``"word"``. Spelled out rather than computed so importing the module costs nothing.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: ``_IS_WHITESPACE[min(code, _LAST_CODE)]``: a lookup table over code points (every whitespace code point is
#: below ``_LAST_CODE``, whose own entry is False).
_LAST_CODE = max(map(ord, WHITESPACE)) + 1
_IS_WHITESPACE = np.zeros(_LAST_CODE + 1, dtype=bool)
_IS_WHITESPACE[[ord(char) for char in WHITESPACE]] = True

#: With ``progress=None`` a progress bar is shown for more examples than this.
AUTO_PROGRESS_EXAMPLES = 5_000

#: Larger than any character offset (used to pad "start" columns so that padding never matches).
_FAR = np.iinfo(np.int32).max

#: How many ids each id list of the text report prints.
_MAX_LISTED_IDS = 20


class DataReportLike(Protocol):
    """What the Aligner reads from a data-layer report (:class:`spanqa.data.DataReport` fits)."""

    @property
    def repaired(self) -> Sequence[Any]: ...

    @property
    def dropped(self) -> Sequence[Any]: ...


# ------------------------------------------------------------------------------------------ the report


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"AlignmentReport.{attribute.name} must be >= 0, got {value}")


def _str_tuple(value: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(item) for item in value)


def _count() -> Any:
    return attrs.field(default=0, validator=_non_negative)


@attrs.frozen
class AlignmentReport:
    """The outcome of aligning every gold answer, with the ids of every answer that did not align.

    Counting rules. ``answers`` counts *every* gold answer of every answerable example (SQuAD dev sets give
    up to three per question, often identical), and each is checked on its own: it is ``outside_window`` when
    no window holds its whole character span; otherwise its minimal token span in the first window that holds
    it is decoded back to characters and it is ``exact`` (the decoded text equals the gold text, whose
    surrounding whitespace, if any, is ignored),
    ``covered`` (a token crosses the answer's boundary, so the decoded text is wider but contains the gold
    text) or ``failed`` (the decoded text does not contain the gold text, for example when the answer
    consists of characters the tokenizer drops). So ``exact + covered + outside_window + failed == answers``.
    Training labels follow the same check: a window is labelled with the first gold answer (in record order)
    that it holds and that aligns; a window holding none is labelled with its CLS index.

    Attributes:
        answers: gold answers checked (all answers of all answerable examples).
        exact: answers whose label decodes to exactly the gold text.
        covered: answers whose label decodes to a wider text containing the gold text.
        outside_window: answers that no window holds entirely (lost to ``max_length``/``stride``).
        failed: answers inside a window whose label does not decode to a text containing them.
        repaired: answers the data layer repaired (from its ``DataReport``; 0 when none was given).
        dropped: answers and records the data layer dropped (likewise).
        features: windows produced.
        seconds: wall-clock time of the alignment.
        examples: examples (records) aligned.
        unanswerable: examples without an answer (SQuAD 2.0), labelled with CLS in every window.
        truncated_questions: questions cut to ``max_question_tokens`` tokens.
        failed_ids: ids of the examples with a failed answer (each id once, in input order).
        outside_window_ids: ids of the examples with an answer outside every window.
        truncated_question_ids: ids of the examples whose question was truncated.
    """

    answers: int = _count()
    exact: int = _count()
    covered: int = _count()
    outside_window: int = _count()
    failed: int = _count()
    repaired: int = _count()
    dropped: int = _count()
    features: int = _count()
    seconds: float = attrs.field(default=0.0, validator=_non_negative)
    examples: int = _count()
    unanswerable: int = _count()
    truncated_questions: int = _count()
    failed_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    outside_window_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    truncated_question_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    def __attrs_post_init__(self) -> None:
        checked = self.exact + self.covered + self.outside_window + self.failed
        if checked != self.answers:
            raise ValueError(
                f"AlignmentReport counts do not add up: exact {self.exact} + covered {self.covered} + "
                f"outside_window {self.outside_window} + failed {self.failed} != answers {self.answers}"
            )

    @property
    def ok(self) -> bool:
        """True when no answer failed (answers outside every window are a setting, not an error)."""
        return self.failed == 0

    @property
    def aligned(self) -> int:
        """Answers that a window labels correctly (``exact + covered``)."""
        return self.exact + self.covered

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts (``answers`` ... ``seconds`` first), then the extra counts and id lists."""
        payload = attrs.asdict(self)
        for name in ("failed_ids", "outside_window_ids", "truncated_question_ids"):
            payload[name] = list(payload[name])
        return payload

    def format(self, *, max_ids: int | None = _MAX_LISTED_IDS) -> str:
        """A readable multi-line report; ``max_ids`` caps each id list (None prints every id)."""

        def share(count: int) -> str:
            return f" ({100.0 * count / self.answers:.1f}%)" if self.answers else ""

        lines = [
            f"examples:            {self.examples:,} ({self.unanswerable:,} unanswerable) -> "
            f"{self.features:,} windows in {self.seconds:.2f} s",
            f"answers:             {self.answers:,}",
            f"  exact:             {self.exact:,}{share(self.exact)}",
            f"  covered:           {self.covered:,}{share(self.covered)}",
            f"  outside window:    {self.outside_window:,}{share(self.outside_window)}",
            f"  failed:            {self.failed:,}{share(self.failed)}",
            f"data layer:          {self.repaired:,} repaired, {self.dropped:,} dropped",
            f"truncated questions: {self.truncated_questions:,}",
        ]
        for title, ids in (
            ("failed", self.failed_ids),
            ("outside every window", self.outside_window_ids),
            ("truncated questions", self.truncated_question_ids),
        ):
            if ids:
                shown = ids if max_ids is None else ids[:max_ids]
                more = f" ... and {len(ids) - len(shown):,} more" if len(shown) < len(ids) else ""
                lines.append(f"ids ({title}): {', '.join(shown)}{more}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


# -------------------------------------------------------------------------------------- train features


def _int64_1d(value: Any) -> npt.NDArray[np.int64]:
    array = np.asarray(value, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-d integer array, got shape {array.shape}")
    return array


@attrs.frozen(eq=False)
class TrainFeatures:
    """Training windows with their answer labels, unpadded (a collator pads each batch to its longest row).

    Label positions are positions inside the *unpadded* window, like every position in spanqa: a collator
    that pads on the left must add the number of pad tokens (``spanqa.batching.QADataCollator`` does).

    Attributes:
        input_ids: token ids of each window.
        attention_mask: attention mask of each window.
        token_type_ids: segment ids of each window, or None when the tokenizer returns none.
        start_positions: ``int64 (n_windows,)``: the answer's first token, or the window's CLS index.
        end_positions: ``int64 (n_windows,)``: the answer's last token (inclusive), or the CLS index.
        cls_index: ``int64 (n_windows,)``: the position of each window's CLS token.
        example_index: ``int64 (n_windows,)``: index of the window's example in ``example_ids``.
        example_ids: id of every example, in input order.
        padding_side: the tokenizer's padding side.
        report: the alignment report of these features.
    """

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    token_type_ids: list[list[int]] | None
    start_positions: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    end_positions: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    cls_index: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    example_index: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    example_ids: list[str]
    padding_side: PaddingSide
    report: AlignmentReport

    def __attrs_post_init__(self) -> None:
        n = len(self.input_ids)
        for name in ("attention_mask", "start_positions", "end_positions", "cls_index", "example_index"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"TrainFeatures.{name} has {len(getattr(self, name))} rows, expected {n}")
        if self.token_type_ids is not None and len(self.token_type_ids) != n:
            rows = len(self.token_type_ids)
            raise ValueError(f"TrainFeatures.token_type_ids has {rows} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        """``int64 (n_windows,)``: tokens in each window (for length-grouped batching)."""
        return np.fromiter(map(len, self.input_ids), dtype=np.int64, count=len(self.input_ids))

    def to_dataset(self) -> datasets.Dataset:
        """A ``datasets.Dataset`` with the model columns and the labels, unpadded (dynamic padding later).

        Columns: ``input_ids``, ``attention_mask``, ``token_type_ids`` (when the tokenizer has them),
        ``start_positions`` and ``end_positions``.
        """
        import datasets

        columns: dict[str, Any] = {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        if self.token_type_ids is not None:
            columns["token_type_ids"] = self.token_type_ids
        columns["start_positions"] = self.start_positions.tolist()
        columns["end_positions"] = self.end_positions.tolist()
        return datasets.Dataset.from_dict(columns)


# ------------------------------------------------------------------------------------- the examples


@attrs.frozen(eq=False)
class _Examples:
    """Records as columns; answers flattened (CSR): answers of example ``i`` are ``answer_ptr[i]:[i+1]``.

    Answer spans are the gold text's span with surrounding whitespace left out, so that whitespace
    trimmed from token offsets and whitespace in the gold text cannot disagree.
    """

    ids: list[str]
    questions: list[str]
    contexts: list[str]
    answer_ptr: npt.NDArray[np.int64]
    answer_start: npt.NDArray[np.int64]
    answer_end: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> _Examples:
        lo, hi = int(self.answer_ptr[start]), int(self.answer_ptr[stop])
        return _Examples(
            ids=self.ids[start:stop],
            questions=self.questions[start:stop],
            contexts=self.contexts[start:stop],
            answer_ptr=self.answer_ptr[start : stop + 1] - lo,
            answer_start=self.answer_start[lo:hi],
            answer_end=self.answer_end[lo:hi],
        )


#: What the answer columns of a record may be (a ``datasets`` row gives lists; numpy formatting, arrays).
_LISTS = (list, tuple, np.ndarray)


def _where(record_id: Any, position: int) -> str:
    """How messages name a record: its id and position, or its position alone when it has no id."""
    return f"#{position}" if record_id is None else f"{str(record_id)!r} (#{position})"


def _read_examples(records: Iterable[Mapping[str, Any]], *, with_answers: bool) -> _Examples:
    """Validate records and turn them into columns (answers only when ``with_answers``).

    The Aligner trusts nothing it cannot check cheaply: every answer must sit at its ``answer_start``
    (``spanqa.load_records`` repairs the ones that do not), otherwise the label would point at the wrong
    characters and the self-check would blame the tokenizer.
    """
    ids: list[str] = []
    questions: list[str] = []
    contexts: list[str] = []
    ptr = [0]
    starts: list[int] = []
    ends: list[int] = []
    for position, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise DataError(f"record #{position} is a {type(record).__name__}, not a mapping")
        try:
            record_id = str(record["id"])
            question = record["question"]
            context = record["context"]
        except KeyError as missing:
            where = _where(record.get("id"), position)
            raise DataError(f"record {where} has no {missing.args[0]!r} field") from None
        if not isinstance(question, str) or not isinstance(context, str):
            raise DataError(f"record {_where(record_id, position)}: 'question' and 'context' must be strings")
        require_valid_unicode(question, f"record {_where(record_id, position)}: question")
        require_valid_unicode(context, f"record {_where(record_id, position)}: context")
        ids.append(record_id)
        questions.append(question)
        contexts.append(context)
        if with_answers and not record.get("is_impossible", False):
            answers = record.get("answers")
            if answers is not None:
                _read_answers(answers, context, record_id, position, starts, ends)
        ptr.append(len(starts))
    return _Examples(
        ids=ids,
        questions=questions,
        contexts=contexts,
        answer_ptr=np.asarray(ptr, dtype=np.int64),
        answer_start=np.asarray(starts, dtype=np.int64),
        answer_end=np.asarray(ends, dtype=np.int64),
    )


def _read_answers(
    answers: Any, context: str, record_id: str, position: int, starts: list[int], ends: list[int]
) -> None:
    if not isinstance(answers, Mapping):
        raise DataError(
            f"record {_where(record_id, position)}: 'answers' must be a mapping with 'text' and "
            "'answer_start' lists"
        )
    texts = answers.get("text", [])
    offsets = answers.get("answer_start", [])
    if not isinstance(texts, _LISTS) or not isinstance(offsets, _LISTS):
        where = _where(record_id, position)
        raise DataError(f"record {where}: answers 'text' and 'answer_start' must be lists")
    if len(texts) != len(offsets):
        raise DataError(
            f"record {_where(record_id, position)}: answers have {len(texts)} texts but {len(offsets)} "
            "answer_start values"
        )
    for k, (text, start) in enumerate(zip(texts, offsets, strict=True)):
        if type(text) is not str or type(start) is not int:  # the exact types are checked fastest
            if (
                not isinstance(text, str)
                or isinstance(start, bool)
                or not isinstance(start, (int, np.integer))
            ):
                raise DataError(
                    f"record {_where(record_id, position)}: answer {k} must be a text (str) and an "
                    "answer_start (int)"
                )
            start = int(start)
        if start < 0 or not context.startswith(text, start):
            raise DataError(
                f"record {_where(record_id, position)}: answer {k} {text[:40]!r} is not at answer_start "
                f"{start} of its context; load the data with spanqa.load_records(..., policy='repair') "
                "to repair or report it"
            )
        stripped = text.strip(WHITESPACE)
        if not stripped:
            raise DataError(f"record {_where(record_id, position)}: answer {k} is empty or whitespace only")
        lead = len(text) - len(text.lstrip(WHITESPACE))
        starts.append(start + lead)
        ends.append(start + lead + len(stripped))


# --------------------------------------------------------------------------------------- the windows


@attrs.frozen(eq=False)
class _Windows:
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

        Padding is ``_FAR`` in the start matrix and -1 in the end matrix, so that a padding column never
        satisfies ``start < x`` or ``end > x`` for a character position ``x``.
        """
        n = len(self)
        counts = self.context_end - self.context_start
        width = int(counts.max()) if n else 0
        starts = np.full((n, width), _FAR, dtype=np.int32)
        ends = np.full((n, width), -1, dtype=np.int32)
        rows = np.repeat(np.arange(n), counts)
        columns = _ragged_arange(counts)
        flat = np.repeat(self.base + self.context_start, counts) + columns
        starts[rows, columns] = self.offsets[flat, 0]
        ends[rows, columns] = self.offsets[flat, 1]
        return starts, ends

    def padded_offsets(self, width: int) -> npt.NDArray[np.int32]:
        """``int32 (n_windows, width, 2)`` offsets, -1 for non-context and padding tokens."""
        n = len(self)
        padded = np.full((n, width, 2), NOT_CONTEXT, dtype=np.int32)
        rows = np.repeat(np.arange(n), self.lengths)
        columns = _ragged_arange(self.lengths)
        padded[rows, columns] = self.offsets
        return padded


def _ragged_arange(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``concatenate([arange(c) for c in counts])`` without a Python loop."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


def _normalise_offsets(
    offsets: npt.NDArray[np.int32], token_context: npt.NDArray[np.int64], contexts: Sequence[str]
) -> None:
    """Make each context token's offsets cover exactly the text it stands for, in place.

    Two corrections, both so that ``context[start:end]`` of a token span is the text a reader expects:

    * **Surrounding whitespace is trimmed.** Byte-level BPE without ``trim_offsets`` and SentencePiece
      (Metaspace) tokenizers report ``"Ġword"`` / ``"▁word"`` with the preceding space inside the offsets,
      so a span starting on such a token would decode with a leading space. A whitespace-only token (a
      lone ``"▁"``) becomes the empty span at its end: it carries no text, and a span that starts or ends
      on it then decodes without the space.
    * **Characters the tokenizer dropped join the token before them.** An accent-stripping normalizer
      (uncased BERT) deletes combining marks, and Thai vowel and tone marks, Arabic harakat or Devanagari
      signs *are* separate combining code points; zero-width and control characters are deleted too. No
      token covers them, so ``"สี่"`` would decode as ``"ส"``. A token's end is moved over the run of
      such uncovered, non-whitespace characters that directly follows it.

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

    blank = np.append(_IS_WHITESPACE[np.minimum(codes, _LAST_CODE)], False)
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


# ------------------------------------------------------------------------------------------- labels


@attrs.frozen(eq=False)
class _Labels:
    """Labels of one batch of windows and the outcome of each of the batch's gold answers."""

    start_positions: npt.NDArray[np.int64]
    end_positions: npt.NDArray[np.int64]
    exact: npt.NDArray[np.bool_]
    covered: npt.NDArray[np.bool_]
    outside: npt.NDArray[np.bool_]
    failed: npt.NDArray[np.bool_]


def _label(windows: _Windows, examples: _Examples) -> _Labels:
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
    window_first = np.where(has_context, starts.min(axis=1, initial=_FAR), _FAR)
    window_last = np.where(has_context, ends.max(axis=1, initial=-1), -1)

    # Every (window, gold answer of the window's example) pair, window-major, answers in record order.
    counts = np.diff(examples.answer_ptr)[windows.example_index]
    pair_window = np.repeat(np.arange(n), counts)
    pair_answer = np.repeat(examples.answer_ptr[windows.example_index], counts) + _ragged_arange(counts)
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
    return _Labels(
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


def _ids_where(examples: _Examples, answer_mask: npt.NDArray[np.bool_]) -> tuple[str, ...]:
    """Ids of the examples owning a flagged answer, each once, in input order."""
    owners = np.searchsorted(examples.answer_ptr, np.flatnonzero(answer_mask), side="right") - 1
    return tuple(examples.ids[i] for i in np.unique(owners))


# ------------------------------------------------------------------------------------------ the Aligner


def _check_tokenizer(_instance: object, _attribute: attrs.Attribute[Any], tokenizer: Any) -> None:
    from transformers import PreTrainedTokenizerBase

    if not isinstance(tokenizer, PreTrainedTokenizerBase):
        hint = ""
        if type(tokenizer).__module__.startswith("tokenizers"):
            hint = "; wrap it: transformers.PreTrainedTokenizerFast(tokenizer_object=...)"
        raise TokenizerError(
            f"the Aligner needs a transformers tokenizer, got {type(tokenizer).__name__}{hint}"
        )
    if not getattr(tokenizer, "is_fast", False):
        raise TokenizerError(
            f"{type(tokenizer).__name__} is a slow (pure-Python) tokenizer: the Aligner needs the character "
            "offsets and overflowing windows that only a fast (Rust `tokenizers`) tokenizer provides; load "
            "it with AutoTokenizer.from_pretrained(..., use_fast=True) or save it with a tokenizer.json"
        )


def _positive_int(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{attribute.name} must be a positive integer, got {value!r}")


def _non_negative_int(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{attribute.name} must be an integer >= 0, got {value!r}")


def _optional_bool(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ConfigError(f"{attribute.name} must be True, False or None, got {value!r}")


def _tokenizer_repr(tokenizer: Any) -> str:
    name = getattr(tokenizer, "name_or_path", "") or "?"
    return f"<{type(tokenizer).__name__} {name!r}>"


@attrs.frozen(eq=False)
class Aligner:
    """Turns QA records into model windows: labelled training features and decodable evaluation features.

    Args:
        tokenizer: a *fast* transformers tokenizer (``tokenizer.is_fast``); its ``padding_side`` decides
            the order of question and context (``"right"``: question first, as BERT/RoBERTa;
            ``"left"``: context first, as XLNet) exactly as transformers' QA examples do.
        max_length: tokens per window, question and special tokens included.
        stride: the **overlap** between consecutive windows of a long context, in tokens (the fast
            tokenizer's ``stride``; not the step). Must be smaller than the room a window leaves for
            context: ``max_length - max_question_tokens - special tokens``.
        max_question_tokens: longer questions are cut to this many tokens (and counted in the report)
            instead of crashing the tokenizer or crowding out the context.
        batch_size: examples per tokenizer call (memory vs. call overhead).
        progress: show a progress bar; ``None`` shows one for more than ``AUTO_PROGRESS_EXAMPLES``.

    Every window records the position of its CLS token (``tokenizer.cls_token_id`` among the window's
    special tokens): the "no answer" label and the null score live there. For a tokenizer without a CLS
    token, position 0 is used.

    Raises:
        TokenizerError: for a slow tokenizer or anything that is not a transformers tokenizer.
        ConfigError: for invalid settings, naming the argument and the numbers involved.
    """

    tokenizer: Any = attrs.field(validator=_check_tokenizer, repr=_tokenizer_repr)
    max_length: int = attrs.field(default=384, kw_only=True, validator=_positive_int)
    stride: int = attrs.field(default=128, kw_only=True, validator=_non_negative_int)
    max_question_tokens: int = attrs.field(default=64, kw_only=True, validator=_positive_int)
    batch_size: int = attrs.field(default=1000, kw_only=True, validator=_positive_int)
    progress: bool | None = attrs.field(default=None, kw_only=True, validator=_optional_bool)

    def __attrs_post_init__(self) -> None:
        model_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and 0 < model_max < self.max_length:
            raise ConfigError(
                f"max_length {self.max_length} exceeds the tokenizer's model_max_length {model_max}"
            )
        room = self.context_room
        if room <= 0:
            raise ConfigError(
                f"max_length {self.max_length} leaves no room for context after max_question_tokens "
                f"{self.max_question_tokens} and {self.special_tokens} special tokens"
            )
        if self.stride >= room:
            raise ConfigError(
                f"stride {self.stride} must be smaller than the room left for context in a window: "
                f"max_length {self.max_length} - max_question_tokens {self.max_question_tokens} - "
                f"{self.special_tokens} special tokens = {room} (stride is the overlap between windows)"
            )

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str], **settings: Any) -> Aligner:
        """An Aligner over the tokenizer saved in a local ``directory`` (nothing is downloaded).

        Raises:
            TokenizerError: when the directory does not exist or holds no usable tokenizer.
        """
        from transformers import AutoTokenizer

        path = Path(directory)
        if not path.is_dir():
            raise TokenizerError(f"tokenizer directory {str(path)!r} does not exist (or is not a directory)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, ImportError) as error:
            reason = " ".join(str(error).split())
            raise TokenizerError(f"cannot load a tokenizer from {str(path)!r}: {reason}") from error
        return cls(tokenizer, **settings)

    # ------------------------------------------------------------------ properties

    @property
    def padding_side(self) -> PaddingSide:
        """The tokenizer's padding side (travels with the features so positions can be un-padded)."""
        return "left" if self.tokenizer.padding_side == "left" else "right"

    @property
    def question_first(self) -> bool:
        """Question before context (right padding) or context first (left padding, XLNet-like)."""
        return self.padding_side == "right"

    @property
    def special_tokens(self) -> int:
        """Special tokens the tokenizer adds to a (question, context) pair."""
        return int(self.tokenizer.num_special_tokens_to_add(pair=True))

    @property
    def context_room(self) -> int:
        """Context tokens a window holds at least (with a question of ``max_question_tokens`` tokens)."""
        return self.max_length - self.max_question_tokens - self.special_tokens

    # ------------------------------------------------------------------ public API

    def train_features(
        self,
        records: Iterable[Mapping[str, Any]] | LoadedRecords,
        *,
        data_report: DataReportLike | None = None,
    ) -> TrainFeatures:
        """Windows of ``records`` with answer labels and the :class:`AlignmentReport` proving them.

        ``records`` are flat QA records (see ``spanqa.data.QARecord``), a ``datasets.Dataset`` of them, or
        the result of ``spanqa.load_records`` (whose report then fills ``repaired``/``dropped`` unless
        ``data_report`` is given). Unanswerable examples (``is_impossible`` true or no answers; the answers
        of an ``is_impossible`` record are ignored) and windows that hold none of their example's answers
        are labelled with the window's CLS index; with several gold answers a window is labelled with the
        first one (in record order) it holds and that aligns.

        Raises:
            DataError: for malformed records or an answer that is not at its ``answer_start``.
        """
        began = time.perf_counter()
        rows, data_report = self._unpack(records, data_report)
        examples = _read_examples(rows, with_answers=True)
        input_ids: list[list[int]] = []
        attention_mask: list[list[int]] = []
        token_type_ids: list[list[int]] | None = []
        starts: list[npt.NDArray[np.int64]] = []
        ends: list[npt.NDArray[np.int64]] = []
        cls_index: list[npt.NDArray[np.int64]] = []
        example_index: list[npt.NDArray[np.int64]] = []
        answer_flags: list[tuple[npt.NDArray[np.bool_], ...]] = []
        truncated: list[str] = []
        n_windows = 0
        for first, batch in self._batches(examples):
            windows = self._tokenize(batch, truncated)
            labels = _label(windows, batch)
            input_ids.extend(windows.input_ids)
            attention_mask.extend(windows.attention_mask)
            if windows.token_type_ids is None:
                token_type_ids = None
            elif token_type_ids is not None:
                token_type_ids.extend(windows.token_type_ids)
            starts.append(labels.start_positions)
            ends.append(labels.end_positions)
            cls_index.append(windows.cls_index)
            example_index.append(windows.example_index + first)
            answer_flags.append((labels.exact, labels.covered, labels.outside, labels.failed))
            n_windows += len(windows)
        exact, covered, outside, failed = (
            np.concatenate([flags[k] for flags in answer_flags]) if answer_flags else np.zeros(0, dtype=bool)
            for k in range(4)
        )
        n_answers = len(examples.answer_start)
        report = AlignmentReport(
            answers=n_answers,
            exact=int(exact.sum()),
            covered=int(covered.sum()),
            outside_window=int(outside.sum()),
            failed=int(failed.sum()),
            repaired=len(data_report.repaired) if data_report is not None else 0,
            dropped=len(data_report.dropped) if data_report is not None else 0,
            features=n_windows,
            seconds=time.perf_counter() - began,
            examples=len(examples),
            unanswerable=int(np.count_nonzero(np.diff(examples.answer_ptr) == 0)),
            truncated_questions=len(truncated),
            failed_ids=_ids_where(examples, failed),
            outside_window_ids=_ids_where(examples, outside),
            truncated_question_ids=tuple(truncated),
        )
        return TrainFeatures(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            start_positions=_concat(starts),
            end_positions=_concat(ends),
            cls_index=_concat(cls_index),
            example_index=_concat(example_index),
            example_ids=examples.ids,
            padding_side=self.padding_side,
            report=report,
        )

    def eval_features(self, records: Iterable[Mapping[str, Any]] | LoadedRecords) -> EvalFeatures:
        """Windows of ``records`` with the columnar offsets a decoder maps logits back to characters with.

        Answers are not needed (and not read). Offsets are -1 on question, special and padding tokens;
        context offsets are normalised (no surrounding whitespace, characters the tokenizer dropped joined
        to the token before them), so a decoded span never starts or ends with a space.

        Raises:
            DataError: for malformed records.
        """
        rows, _ = self._unpack(records, None)
        examples = _read_examples(rows, with_answers=False)
        parts: list[tuple[int, _Windows]] = [
            (first, self._tokenize(batch, [])) for first, batch in self._batches(examples)
        ]
        width = max((int(windows.lengths.max()) for _, windows in parts if len(windows)), default=0)
        token_type_ids: list[list[int]] | None = None
        if parts and all(windows.token_type_ids is not None for _, windows in parts):
            token_type_ids = [row for _, windows in parts for row in windows.token_type_ids or ()]
        return EvalFeatures(
            input_ids=[row for _, windows in parts for row in windows.input_ids],
            attention_mask=[row for _, windows in parts for row in windows.attention_mask],
            token_type_ids=token_type_ids,
            offsets=(
                np.concatenate([windows.padded_offsets(width) for _, windows in parts])
                if parts
                else np.zeros((0, 0, 2), dtype=np.int32)
            ),
            lengths=_concat([windows.lengths for _, windows in parts]),
            cls_index=_concat([windows.cls_index for _, windows in parts]),
            example_index=_concat([windows.example_index + first for first, windows in parts]),
            example_ids=examples.ids,
            contexts=examples.contexts,
            padding_side=self.padding_side,
        )

    def align_report(
        self,
        records: Iterable[Mapping[str, Any]] | LoadedRecords,
        data_report: DataReportLike | None = None,
    ) -> AlignmentReport:
        """Align ``records`` for training and return only the report (see :meth:`train_features`)."""
        return self.train_features(records, data_report=data_report).report

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _unpack(
        records: Iterable[Mapping[str, Any]] | LoadedRecords, data_report: DataReportLike | None
    ) -> tuple[Iterable[Mapping[str, Any]], DataReportLike | None]:
        from spanqa.data import LoadedRecords

        if isinstance(records, LoadedRecords):
            return records.records, data_report if data_report is not None else records.report
        if isinstance(records, (str, bytes, os.PathLike)):
            raise DataError(
                f"the Aligner takes records, not a path ({os.fspath(records)!r}); "
                "read the file with spanqa.load_records first"
            )
        return records, data_report

    def _batches(self, examples: _Examples) -> Iterable[tuple[int, _Examples]]:
        from tqdm.auto import tqdm

        n = len(examples)
        show = self.progress if self.progress is not None else n > AUTO_PROGRESS_EXAMPLES
        with tqdm(total=n, desc="Aligning", unit="example", disable=not show) as bar:
            for first in range(0, n, self.batch_size):
                stop = min(first + self.batch_size, n)
                yield first, examples.slice(first, stop)
                bar.update(stop - first)

    @property
    def _crash_limit(self) -> int:
        """Question tokens above which the pair call fails (no room left for ``stride`` context tokens)."""
        return self.max_length - self.special_tokens - self.stride - 1

    def _risky_questions(self, questions: Sequence[str]) -> list[int]:
        """Indices of the questions that might have more than :attr:`_crash_limit` tokens.

        Tokenizing every question up front costs a tenth of the whole alignment, so only questions that
        could break the pair call are: no standard tokenizer makes more tokens than the UTF-8 bytes of
        the normalized text (every WordPiece, BPE and Unigram piece, byte fallback included, covers at
        least one byte), plus a prefix space or ``"▁"``. An ASCII question under a normalizer that never
        lengthens ASCII text needs no normalizing to know that. Every other question goes straight into
        the pair call, and its exact token count is then read from the windows (see :meth:`_tokenize`).
        """
        normalizer = getattr(self.tokenizer.backend_tokenizer, "normalizer", None)
        normalize = normalizer.normalize_str if normalizer is not None else str
        ascii_safe = _keeps_ascii_length(normalizer)
        limit = self._crash_limit - 2
        return [
            i
            for i, question in enumerate(questions)
            if len(question) > limit
            or (
                not (ascii_safe and question.isascii())
                and len(normalize(question).encode("utf-8", "surrogatepass")) > limit
            )
        ]

    def _truncate_questions(
        self, questions: list[str], indices: Iterable[int]
    ) -> tuple[list[str], list[int]]:
        """``questions`` with those at ``indices`` cut to ``max_question_tokens`` tokens; also which were cut.

        A question is cut in its text, at the end of its last kept token, so that the pair encoding keeps
        the tokenizer's own handling of the question; the cut text is re-tokenized to make sure it fits
        (a merge across the cut can change the count).
        """
        indices = list(indices)
        if not indices:
            return questions, []
        limit = self.max_question_tokens
        encoded = self.tokenizer(
            [questions[i] for i in indices],
            add_special_tokens=False,
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        long = [i for i, ids in zip(indices, encoded, strict=True) if len(ids) > limit]
        if not long:
            return questions, []
        questions = list(questions)
        for i in long:
            question = questions[i]
            while True:
                # Only the first ``limit`` tokens matter: truncating keeps a huge question cheap and spares
                # users transformers' "longer than the maximum sequence length" warning.
                offsets = self.tokenizer(
                    question,
                    add_special_tokens=False,
                    return_offsets_mapping=True,
                    truncation=True,
                    max_length=limit + 1,
                )["offset_mapping"]
                if len(offsets) <= limit:
                    break
                # Cut after the last kept token; when that cuts nothing (several tokens of one character,
                # as byte-level BPE makes), cut before it. Either way the text gets shorter, so this ends.
                cut = offsets[limit - 1][1]
                if cut >= len(question):
                    cut = offsets[limit - 1][0]
                question = question[: min(cut, len(question) - 1)]
            questions[i] = question
        return questions, long

    def _encode(self, questions: Sequence[str], contexts: Sequence[str]) -> Any:
        """The fast tokenizer's pair call: overflowing windows with offsets, in the tokenizer's order."""
        first, second = (questions, contexts) if self.question_first else (contexts, questions)
        return self.tokenizer(
            list(first),
            list(second),
            truncation="only_second" if self.question_first else "only_first",
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )

    def _tokenize(self, examples: _Examples, truncated: list[str]) -> _Windows:
        """Tokenize a batch into windows; ids of the examples whose question was cut go to ``truncated``.

        Questions go into the pair call as they are (only those that might break it are checked first,
        see :meth:`_risky_questions`); when a window then shows a question longer than
        ``max_question_tokens``, the batch is encoded again with every question cut to that length.
        """
        questions, cut = self._truncate_questions(
            examples.questions, self._risky_questions(examples.questions)
        )
        try:
            encoding = self._encode(questions, examples.contexts)
        except Exception:  # `tokenizers` raises a bare Exception when a question leaves no room for context
            encoding = None
        windows = None if encoding is None else self._windows(encoding, examples)
        if windows is None or windows.question_tokens > self.max_question_tokens:
            questions, cut = self._truncate_questions(examples.questions, range(len(examples)))
            windows = self._windows(self._encode(questions, examples.contexts), examples)
        truncated.extend(examples.ids[i] for i in sorted(cut))
        return windows

    def _windows(self, encoding: Any, examples: _Examples) -> _Windows:
        """Locate context, CLS and normalised offsets in each window of a pair call's ``encoding``."""
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

        context_sequence = 1 if self.question_first else 0
        context_start = np.zeros(n, dtype=np.int64)
        context_end = np.zeros(n, dtype=np.int64)
        cls_index = np.zeros(n, dtype=np.int64)
        cls_id = self.tokenizer.cls_token_id
        for i in range(n):
            sequence_ids = encoding.sequence_ids(i)
            # The context is one contiguous run of tokens: where it starts and how long it is.
            with contextlib.suppress(ValueError):
                context_start[i] = sequence_ids.index(context_sequence)
                context_end[i] = context_start[i] + sequence_ids.count(context_sequence)
            if cls_id is not None:
                cls_index[i] = _cls_position(input_ids[i], sequence_ids, cls_id)
        # Whatever is neither context nor special token is question.
        question_tokens = (
            int(np.max(lengths - (context_end - context_start), initial=0)) - self.special_tokens
        )

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
        _normalise_offsets(offsets, token_context, list(unique))
        offsets[~in_context] = NOT_CONTEXT
        return _Windows(
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


#: Normalizers that never make ASCII text longer (lowercasing, Unicode normal forms, accent stripping,
#: whitespace cleaning). ``Replace``, ``Prepend`` and SentencePiece's ``Precompiled`` maps may, so they are
#: not listed.
_ASCII_KEEPING_NORMALIZERS = frozenset(
    {"BertNormalizer", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents", "Strip", "Nmt"}
)


def _keeps_ascii_length(normalizer: Any) -> bool:
    """Whether a ``tokenizers`` normalizer (or None) provably never lengthens ASCII text."""
    if normalizer is None:
        return True
    try:
        description = json.loads(normalizer.__getstate__())
    except (AttributeError, TypeError, ValueError):
        return False
    return _described_keeps_ascii_length(description)


def _described_keeps_ascii_length(description: Any) -> bool:
    if not isinstance(description, Mapping):
        return False
    if description.get("type") == "Sequence":
        return all(_described_keeps_ascii_length(part) for part in description.get("normalizers", ()))
    return description.get("type") in _ASCII_KEEPING_NORMALIZERS


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


def _concat(arrays: Sequence[npt.NDArray[Any]]) -> npt.NDArray[np.int64]:
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(arrays).astype(np.int64, copy=False)
