"""The record schema and the report: what every reader produces and what validation tells about it.

:class:`QARecord` is the one flat record shape all of spanqa reads (a ``TypedDict``, so records go
straight into ``datasets`` and JSON); :class:`DataReport` lists, by id, every answer
:func:`~spanqa.load_records` repaired (:class:`RepairedAnswer`) or dropped (:class:`DroppedItem`), and
:class:`LoadedRecords` carries both.
These types are shared by the readers, the repair step, the writers and the Aligner, so they live apart
from all of them; :func:`require_valid_unicode`, the one text rule every string of a record obeys, too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs

from spanqa.errors import DataError, excerpt

if TYPE_CHECKING:
    import datasets

__all__ = [
    "POLICIES",
    "DataReport",
    "DropReason",
    "DroppedItem",
    "LoadedRecords",
    "Policy",
    "QAAnswers",
    "QARecord",
    "RepairReason",
    "RepairedAnswer",
    "require_valid_unicode",
]

#: What :func:`load_records` does with an answer whose text is not at its ``answer_start``.
Policy = Literal["repair", "drop", "error"]
POLICIES: tuple[Policy, ...] = ("repair", "drop", "error")

RepairReason = Literal["whitespace", "offset", "case"]
DropReason = Literal["empty-text", "mismatch", "not-found", "no-answers"]

#: Entries per list that :meth:`DataReport.format` prints by default.
_DEFAULT_MAX_ITEMS = 20


class QAAnswers(TypedDict):
    """A record's answers, columnar (as in ``datasets``): ``text[k]`` starts at ``answer_start[k]``."""

    text: list[str]
    answer_start: list[int]


class QARecord(TypedDict):
    """One question about one context: the flat record schema every reader in spanqa produces.

    A ``TypedDict`` rather than a class so that records go straight into ``datasets.Dataset.from_list`` and
    JSON without conversion. ``answers`` is empty (both lists) exactly when ``is_impossible`` is true.
    """

    id: str
    title: str
    context: str
    question: str
    answers: QAAnswers
    is_impossible: bool


def _non_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _optional_non_negative(
    _instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be None or >= 0, got {value}")


@attrs.frozen
class RepairedAnswer:
    """An answer that :func:`load_records` changed to make it match its context.

    ``reason`` says what was wrong: ``"whitespace"`` (the text carried leading/trailing whitespace, now
    stripped, and the offset moved past it), ``"offset"`` (the text sits elsewhere in the context: the
    nearest occurrence to the given offset was taken) or ``"case"`` (only a case-insensitive match exists:
    the text became the context's own spelling).
    """

    id: str
    answer_index: int = attrs.field(validator=_non_negative)
    old_start: int
    new_start: int = attrs.field(validator=_non_negative)
    reason: RepairReason = attrs.field(validator=attrs.validators.in_(("whitespace", "offset", "case")))
    old_text: str
    new_text: str

    def describe_change(self) -> str:
        """The text change in words: whitespace counts, or old and new text (quoted, shortened)."""
        if self.old_text == self.new_text:
            return f"text {excerpt(self.new_text)}"
        leading = len(self.old_text) - len(self.old_text.lstrip())
        trailing = len(self.old_text) - len(self.old_text.rstrip())
        if self.old_text.strip() == self.new_text:
            return (
                f"text {excerpt(self.new_text)} ({leading} leading, {trailing} trailing whitespace removed)"
            )
        return f"text {excerpt(self.old_text)} -> {excerpt(self.new_text)}"

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class DroppedItem:
    """An answer (``answer_index`` set) or a whole record (``answer_index`` None) left out of the result.

    ``reason`` is a stable code for programs (``"empty-text"``, ``"mismatch"``, ``"not-found"``,
    ``"no-answers"``); ``detail`` is the human explanation, quoting the offending text.
    """

    id: str
    answer_index: int | None = attrs.field(validator=_optional_non_negative)
    reason: DropReason = attrs.field(
        validator=attrs.validators.in_(("empty-text", "mismatch", "not-found", "no-answers"))
    )
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _tuple_of_repairs(value: Iterable[RepairedAnswer]) -> tuple[RepairedAnswer, ...]:
    return tuple(value)


def _tuple_of_drops(value: Iterable[DroppedItem]) -> tuple[DroppedItem, ...]:
    return tuple(value)


def _tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class DataReport:
    """What :func:`load_records` read, repaired and dropped, with the ids, so that nothing is silent.

    Attributes:
        source: the file (or a description of the in-memory input) the records came from.
        policy: the policy the records were validated with.
        num_records: records read.
        num_answers: answers read (over all records).
        repaired: every answer that was changed, with its old and new offset.
        dropped: every answer and every record that was left out, with the reason.
        unanswerable: ids of the unanswerable (SQuAD 2.0 ``is_impossible``) records, all kept.
    """

    source: str
    policy: Policy = attrs.field(validator=attrs.validators.in_(POLICIES))
    num_records: int = attrs.field(validator=_non_negative)
    num_answers: int = attrs.field(validator=_non_negative)
    repaired: tuple[RepairedAnswer, ...] = attrs.field(default=(), converter=_tuple_of_repairs)
    dropped: tuple[DroppedItem, ...] = attrs.field(default=(), converter=_tuple_of_drops)
    unanswerable: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)

    @property
    def num_repaired(self) -> int:
        return len(self.repaired)

    @property
    def num_dropped_answers(self) -> int:
        return sum(1 for item in self.dropped if item.answer_index is not None)

    @property
    def num_dropped_records(self) -> int:
        return sum(1 for item in self.dropped if item.answer_index is None)

    @property
    def num_kept_records(self) -> int:
        return self.num_records - self.num_dropped_records

    @property
    def num_kept_answers(self) -> int:
        return self.num_answers - self.num_dropped_answers

    @property
    def num_unanswerable(self) -> int:
        return len(self.unanswerable)

    @property
    def clean(self) -> bool:
        """True when every record was kept exactly as read."""
        return not self.repaired and not self.dropped

    def repaired_by_reason(self) -> dict[str, int]:
        """Number of repaired answers per reason (every reason present, in a fixed order)."""
        counts = {"whitespace": 0, "offset": 0, "case": 0}
        for item in self.repaired:
            counts[item.reason] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form: the counts, then every repaired and dropped entry and unanswerable id."""
        return {
            "source": self.source,
            "policy": self.policy,
            "counts": {
                "records": self.num_records,
                "answers": self.num_answers,
                "kept_records": self.num_kept_records,
                "kept_answers": self.num_kept_answers,
                "unanswerable": self.num_unanswerable,
                "repaired_answers": self.num_repaired,
                "repaired_by_reason": self.repaired_by_reason(),
                "dropped_answers": self.num_dropped_answers,
                "dropped_records": self.num_dropped_records,
            },
            "repaired": [item.to_dict() for item in self.repaired],
            "dropped": [item.to_dict() for item in self.dropped],
            "unanswerable": list(self.unanswerable),
        }

    def format(self, *, max_items: int | None = _DEFAULT_MAX_ITEMS) -> str:
        """A readable multi-line report; ``max_items`` caps each list of entries (None lists them all)."""
        by_reason = ", ".join(f"{count:,} {reason}" for reason, count in self.repaired_by_reason().items())
        lines = [
            f"{self.source} (policy: {self.policy})",
            f"  records:      {self.num_records:,} read, {self.num_kept_records:,} kept"
            f" ({self.num_unanswerable:,} unanswerable)",
            f"  answers:      {self.num_answers:,} read, {self.num_kept_answers:,} kept",
            f"  repaired:     {self.num_repaired:,} answers ({by_reason})",
            f"  dropped:      {self.num_dropped_answers:,} answers, {self.num_dropped_records:,} records",
        ]
        if self.repaired:
            lines.append("repaired answers:")
            lines.extend(
                f"  {item.id} answer {item.answer_index}: start {item.old_start} -> {item.new_start}"
                f" ({item.reason}): {item.describe_change()}"
                for item in _capped(self.repaired, max_items)
            )
            lines.extend(_more(len(self.repaired), max_items))
        if self.dropped:
            lines.append("dropped:")
            lines.extend(
                f"  {item.id} {'record' if item.answer_index is None else f'answer {item.answer_index}'}:"
                f" {item.reason}: {item.detail}"
                for item in _capped(self.dropped, max_items)
            )
            lines.extend(_more(len(self.dropped), max_items))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _capped(items: tuple[Any, ...], max_items: int | None) -> tuple[Any, ...]:
    return items if max_items is None else items[:max_items]


def _more(total: int, max_items: int | None) -> list[str]:
    if max_items is None or total <= max_items:
        return []
    return [f"  ... and {total - max_items:,} more"]


@attrs.frozen(eq=False)
class LoadedRecords:
    """Validated records and the report of what validation changed (the result of :func:`load_records`)."""

    records: list[QARecord]
    report: DataReport

    def __len__(self) -> int:
        return len(self.records)

    def to_dataset(self) -> datasets.Dataset:
        """The records as a ``datasets.Dataset`` (see :func:`~spanqa.data.records_to_dataset`)."""
        from spanqa.data.writers import records_to_dataset

        return records_to_dataset(self.records)


def require_valid_unicode(text: str, what: str) -> None:
    """Reject a string holding an unpaired surrogate (``"\\ud800"``), naming ``what`` and the position.

    ``json`` decodes a lone ``\\ud800`` escape without complaint, but such a string is not Unicode text:
    the Rust tokenizers, ``datasets`` and every UTF-8 writer fail on it later, far from the record, with a
    bare ``UnicodeEncodeError``. Encoding is one C call (about a millisecond per million characters).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise DataError(
            f"{what}: unpaired surrogate {text[error.start]!r} at character {error.start} "
            "(not valid Unicode text)"
        ) from None
