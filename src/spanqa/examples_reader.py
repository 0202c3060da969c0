"""Reading QA records into the Aligner's columnar examples, checking every answer on the way.

:func:`read_examples` validates each record (fields, types, valid Unicode, every answer at its
``answer_start``) and returns :class:`Examples`: ids, questions and contexts as lists, answers flattened
into numpy arrays, so that everything after the tokenizer works on whole batches. Kept apart from the
window and label code because it is the Aligner's only contact with untrusted record structure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.characters import strip_padding
from spanqa.data.schema import require_valid_unicode
from spanqa.errors import DataError

__all__ = ["Examples", "ids_where", "read_examples"]


@attrs.frozen(eq=False)
class Examples:
    """Records as columns; answers flattened (CSR): answers of example ``i`` are ``answer_ptr[i]:[i+1]``.

    Answer spans are the gold text's span with surrounding padding (whitespace, invisible format
    characters: :mod:`spanqa.characters`) left out, so that padding trimmed from token offsets and padding
    in the gold text cannot disagree.
    """

    ids: list[str]
    questions: list[str]
    contexts: list[str]
    answer_ptr: npt.NDArray[np.int64]
    answer_start: npt.NDArray[np.int64]
    answer_end: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> Examples:
        lo, hi = int(self.answer_ptr[start]), int(self.answer_ptr[stop])
        return Examples(
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


def read_examples(records: Iterable[Mapping[str, Any]], *, with_answers: bool) -> Examples:
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
    return Examples(
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
        lead, stripped = strip_padding(text)
        if not stripped:
            raise DataError(
                f"record {_where(record_id, position)}: answer {k} has no visible character (empty, or "
                "only whitespace and format characters)"
            )
        starts.append(start + lead)
        ends.append(start + lead + len(stripped))


def ids_where(examples: Examples, answer_mask: npt.NDArray[np.bool_]) -> tuple[str, ...]:
    """Ids of the examples owning a flagged answer, each once, in input order."""
    owners = np.searchsorted(examples.answer_ptr, np.flatnonzero(answer_mask), side="right") - 1
    return tuple(examples.ids[i] for i in np.unique(owners))
