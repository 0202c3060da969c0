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

The pieces live in their own modules, :mod:`spanqa.align` is the face that drives them: reading records
(:mod:`spanqa.examples_reader`), cutting over-long questions (:mod:`spanqa.questions`), window geometry and
offsets (:mod:`spanqa.windows`), labels and the self-check (:mod:`spanqa.labels`), and the results
(:class:`~spanqa.features.TrainFeatures`, :class:`~spanqa.features.EvalFeatures`,
:class:`~spanqa.alignment_report.AlignmentReport`). ``spanqa.align.AlignmentReport`` and
``spanqa.align.TrainFeatures`` (and the private helpers that lived here) still import, with a
:class:`DeprecationWarning`, for one release; ``spanqa.AlignmentReport`` and ``spanqa.TrainFeatures`` are
the stable paths.

The module is over 400 lines because :class:`Aligner` is about 300 of them: its settings, its public API
and the tokenizer calls it makes, which are the one job left here.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import numpy as np
import numpy.typing as npt

from spanqa._moved import moved_names

# Private aliases: spanqa.align.AlignmentReport / TrainFeatures are deprecated re-exports (__getattr__).
from spanqa.alignment_report import AlignmentReport as _AlignmentReport
from spanqa.errors import ConfigError, DataError, TokenizerError, some_ids
from spanqa.examples_reader import Examples, ids_where, read_examples
from spanqa.features import EvalFeatures, PaddingSide
from spanqa.features import TrainFeatures as _TrainFeatures
from spanqa.labels import label_windows
from spanqa.questions import risky_questions, truncate_questions
from spanqa.vocabulary import UnknownTokenWarning, check_vocabulary, describe_tokenizer
from spanqa.windows import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_QUESTION_TOKENS,
    DEFAULT_STRIDE,
    Windows,
    build_windows,
)
from spanqa.windows import WHITESPACE as WHITESPACE

if TYPE_CHECKING:
    from spanqa.alignment_report import AlignmentReport
    from spanqa.data.schema import LoadedRecords
    from spanqa.features import TrainFeatures

__all__ = [
    "Aligner",
    "AlignmentReport",
    "QuestionTruncatedWarning",
    "TrainFeatures",
    "UnknownTokenWarning",
]

#: With ``progress=None`` a progress bar is shown for more examples than this.
AUTO_PROGRESS_EXAMPLES = 5_000


class DataReportLike(Protocol):
    """What the Aligner reads from a data-layer report (:class:`spanqa.data.DataReport` fits)."""

    @property
    def repaired(self) -> Sequence[Any]: ...

    @property
    def dropped(self) -> Sequence[Any]: ...


class QuestionTruncatedWarning(UserWarning):
    """Questions longer than ``max_question_tokens`` were cut: the model read only their beginning."""


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

    tokenizer: Any = attrs.field(validator=_check_tokenizer, repr=describe_tokenizer)
    max_length: int = attrs.field(default=DEFAULT_MAX_LENGTH, kw_only=True, validator=_positive_int)
    stride: int = attrs.field(default=DEFAULT_STRIDE, kw_only=True, validator=_non_negative_int)
    max_question_tokens: int = attrs.field(
        default=DEFAULT_MAX_QUESTION_TOKENS, kw_only=True, validator=_positive_int
    )
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

        Loaded by :func:`spanqa.models.load_tokenizer`, the loader the Reader, the fine-tuner and every
        command use, so the same directories are refused with the same errors.

        Raises:
            TokenizerError: when the directory does not exist or holds no usable tokenizer.
        """
        from spanqa.models import load_tokenizer

        path = Path(directory)
        if not path.is_dir():
            raise TokenizerError(f"tokenizer directory {str(path)!r} does not exist (or is not a directory)")
        tokenizer = load_tokenizer(path)
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
        examples = read_examples(rows, with_answers=True)
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
            labels = label_windows(windows, batch)
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
        report = _AlignmentReport(
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
            failed_ids=ids_where(examples, failed),
            outside_window_ids=ids_where(examples, outside),
            truncated_question_ids=tuple(truncated),
        )
        return _TrainFeatures(
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

        Questions longer than ``max_question_tokens`` are cut to that length with a
        :class:`QuestionTruncatedWarning` naming them (training counts them in its alignment report).

        Raises:
            DataError: for malformed records.
        """
        rows, _ = self._unpack(records, None)
        examples = read_examples(rows, with_answers=False)
        truncated: list[str] = []
        parts: list[tuple[int, Windows]] = [
            (first, self._tokenize(batch, truncated)) for first, batch in self._batches(examples)
        ]
        if truncated:
            warnings.warn(
                f"{len(truncated)} question(s) longer than max_question_tokens ({self.max_question_tokens}) "
                f"were cut to their first {self.max_question_tokens} tokens ({some_ids(truncated)}); raise "
                "max_question_tokens to read them whole",
                QuestionTruncatedWarning,
                stacklevel=2,
            )
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
        from spanqa.data.schema import LoadedRecords

        if isinstance(records, LoadedRecords):
            return records.records, data_report if data_report is not None else records.report
        if isinstance(records, (str, bytes, os.PathLike)):
            raise DataError(
                f"the Aligner takes records, not a path ({os.fspath(records)!r}); "
                "read the file with spanqa.load_records first"
            )
        return records, data_report

    def _batches(self, examples: Examples) -> Iterable[tuple[int, Examples]]:
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
        """Indices of the questions that might have more than :attr:`_crash_limit` tokens (see
        :func:`spanqa.questions.risky_questions`); the others go straight into the pair call."""
        return risky_questions(self.tokenizer, questions, self._crash_limit)

    def _truncate_questions(
        self, questions: list[str], indices: Iterable[int]
    ) -> tuple[list[str], list[int]]:
        """``questions`` with those at ``indices`` cut to ``max_question_tokens`` tokens; also which were cut
        (see :func:`spanqa.questions.truncate_questions`)."""
        return truncate_questions(
            self.tokenizer,
            questions,
            indices,
            max_question_tokens=self.max_question_tokens,
            max_length=self.max_length,
        )

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

    def _tokenize(self, examples: Examples, truncated: list[str]) -> Windows:
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
        check_vocabulary(self.tokenizer, windows, examples.ids)
        return windows

    def _windows(self, encoding: Any, examples: Examples) -> Windows:
        """The windows of a pair call's ``encoding`` (see :func:`spanqa.windows.build_windows`)."""
        return build_windows(
            encoding,
            examples,
            question_first=self.question_first,
            cls_id=self.tokenizer.cls_token_id,
            special_tokens=self.special_tokens,
        )


def _concat(arrays: Sequence[npt.NDArray[Any]]) -> npt.NDArray[np.int64]:
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(arrays).astype(np.int64, copy=False)


__getattr__ = moved_names(
    __name__,
    {
        "AlignmentReport": "spanqa.alignment_report",
        "TrainFeatures": "spanqa.features",
        "_non_negative": "spanqa.alignment_report",
        "_str_tuple": "spanqa.alignment_report",
        "_count": "spanqa.alignment_report",
        "_MAX_LISTED_IDS": "spanqa.alignment_report",
        "_int64_1d": "spanqa.features",
        "_Examples": "spanqa.examples_reader:Examples",
        "_LISTS": "spanqa.examples_reader",
        "_where": "spanqa.examples_reader",
        "_read_examples": "spanqa.examples_reader:read_examples",
        "_read_answers": "spanqa.examples_reader",
        "_ids_where": "spanqa.examples_reader:ids_where",
        "_FAR": "spanqa.windows:FAR",
        "_Windows": "spanqa.windows:Windows",
        "_ragged_arange": "spanqa.windows:ragged_arange",
        "_normalise_offsets": "spanqa.windows:normalise_offsets",
        "_cls_position": "spanqa.windows",
        "_Labels": "spanqa.labels:Labels",
        "_label": "spanqa.labels:label_windows",
        "_token_spans": "spanqa.labels",
        "_ASCII_KEEPING_NORMALIZERS": "spanqa.questions",
        "_keeps_ascii_length": "spanqa.questions",
        "_described_keeps_ascii_length": "spanqa.questions",
    },
)
