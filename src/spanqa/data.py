"""SQuAD-format data in, one flat record schema out, every answer checked against its context.

Extractive QA data comes in several shapes (nested SQuAD v1.1/v2.0 JSON, flat JSON or JSON lines written by
``datasets``, in-memory lists, ``datasets.Dataset``) and real files are dirty: offsets that are off by a few
characters, answers padded with spaces, integer ids. Everything downstream (the Aligner, the metrics) needs
one shape and one guarantee, so this module provides both:

* every reader produces :class:`QARecord` dictionaries, and structural problems (missing fields, wrong
  types, duplicate ids, invalid JSON) raise :class:`~spanqa.errors.DataError` naming the file and the record
  (its id, or its position such as ``data[3].paragraphs[0].qas[5]``) instead of a ``KeyError`` from deep
  inside;
* :func:`load_records` then guarantees ``context[start:start + len(text)] == text`` for every answer it
  keeps. How a mismatch is handled is an explicit policy (repair, drop or error), and whatever was repaired
  or dropped is listed, by id, in a :class:`DataReport`: nothing changes silently.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs

from spanqa.errors import ConfigError, DataError

if TYPE_CHECKING:
    import datasets

__all__ = [
    "DataReport",
    "DroppedItem",
    "LoadedRecords",
    "Policy",
    "QAAnswers",
    "QARecord",
    "RepairedAnswer",
    "load_records",
    "read_records",
    "records_to_dataset",
    "require_valid_unicode",
    "write_squad",
]

#: What :func:`load_records` does with an answer whose text is not at its ``answer_start``.
Policy = Literal["repair", "drop", "error"]
POLICIES: tuple[Policy, ...] = ("repair", "drop", "error")

#: The SQuAD versions :func:`write_squad` can write.
SquadVersion = Literal["v1.1", "v2.0"]

RepairReason = Literal["whitespace", "offset", "case"]
DropReason = Literal["empty-text", "mismatch", "not-found", "no-answers"]

#: File name suffixes read as JSON lines (other files are read as JSON, falling back to JSON lines).
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
#: Longest excerpt of an answer or context quoted in a message.
_EXCERPT = 60
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


# ----------------------------------------------------------------------------------------------- report


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
            return f"text {_excerpt(self.new_text)}"
        leading = len(self.old_text) - len(self.old_text.lstrip())
        trailing = len(self.old_text) - len(self.old_text.rstrip())
        if self.old_text.strip() == self.new_text:
            return (
                f"text {_excerpt(self.new_text)} ({leading} leading, {trailing} trailing whitespace removed)"
            )
        return f"text {_excerpt(self.old_text)} -> {_excerpt(self.new_text)}"

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


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")


@attrs.frozen(eq=False)
class LoadedRecords:
    """Validated records and the report of what validation changed (the result of :func:`load_records`)."""

    records: list[QARecord]
    report: DataReport

    def __len__(self) -> int:
        return len(self.records)

    def to_dataset(self) -> datasets.Dataset:
        """The records as a ``datasets.Dataset`` (see :func:`records_to_dataset`)."""
        return records_to_dataset(self.records)


# ---------------------------------------------------------------------------------------------- reading

#: What a reader accepts: a path, an already-parsed SQuAD JSON object, or records (a list, a Dataset...).
Source = str | os.PathLike[str] | Mapping[str, Any] | Iterable[Mapping[str, Any]]

_MISSING: Any = object()


def read_records(source: Source) -> list[QARecord]:
    """Read records from ``source`` into the flat schema, checking structure but not answer offsets.

    ``source`` is a path (SQuAD v1.1/v2.0 JSON, a flat JSON list of records or ``{"data": [records]}``,
    or JSON lines), an already-parsed SQuAD JSON object, or an iterable of record mappings such as a list
    of dicts or a ``datasets.Dataset``. Flat records may carry their answers ``datasets``-style
    (``{"text": [...], "answer_start": [...]}``) or SQuAD-style (a list of ``{"text", "answer_start"}``).

    Raises:
        DataError: on any structural problem, naming the file and the record's id or position.
    """
    return _read(source)[1]


def load_records(source: Source, *, policy: Policy = "repair") -> LoadedRecords:
    """Read records and guarantee ``context[start:start + len(text)] == text`` for every kept answer.

    Answers with leading/trailing whitespace are stripped and their offset moved accordingly under every
    policy (that is normalisation, not a correction; it is still reported, as ``"whitespace"``). An answer
    whose text is not at its offset is then handled by ``policy``:

    * ``"repair"`` (default): the nearest occurrence of the text to the given offset is taken; failing
      that, the nearest case-insensitive occurrence (the text becomes the context's spelling). Answers found
      nowhere are dropped.
    * ``"drop"``: the answer is dropped.
    * ``"error"``: :class:`~spanqa.errors.DataError` names the record id and the mismatch.

    A record left without answers that is not unanswerable is dropped too. Every repair and drop is
    listed in :attr:`LoadedRecords.report`. Input records are never modified.

    Raises:
        ConfigError: if ``policy`` is not one of ``"repair"``, ``"drop"``, ``"error"``.
        DataError: on structural problems (see :func:`read_records`), and on mismatches with ``"error"``.
    """
    if policy not in POLICIES:
        raise ConfigError(f"policy must be one of {', '.join(POLICIES)}; got {policy!r}")
    source_name, records = _read(source)
    return _validate(records, policy, source_name)


def _read(source: Source) -> tuple[str, list[QARecord]]:
    if isinstance(source, (str, os.PathLike)):
        prefix = f"{source}: "
        return str(source), _collect(_raw_records_from_file(Path(source), prefix), prefix)
    if isinstance(source, Mapping):
        return "<SQuAD object>", _collect(_raw_records_from_json(source, ""))
    if isinstance(source, (bytes, bytearray)):
        raise DataError(
            "expected a path, a SQuAD JSON object or records; got bytes (decode or save them first)"
        )
    if isinstance(source, Iterable):
        if hasattr(source, "column_names"):  # a datasets.Dataset: its rows are numbered
            raws = _raw_records_from_list(source, lambda index: f"row {index}")
        else:
            raws = _raw_records_from_list(source, lambda index: f"records[{index}]")
        return f"<{type(source).__name__}>", _collect(raws)
    raise DataError(
        f"expected a path, a SQuAD JSON object or an iterable of records; got {type(source).__name__}"
    )


@attrs.frozen
class _Raw:
    """One record as found in the input, with where it was found (for messages); nested SQuAD records take
    their title and context from the enclosing article and paragraph."""

    where: str
    record: Any
    title: Any = _MISSING
    context: Any = _MISSING


def _collect(raws: Iterator[_Raw], prefix: str = "") -> list[QARecord]:
    """Parse every raw record and reject duplicate ids, naming both positions (``prefix``, the file name
    that starts every position, is named once)."""
    records: list[QARecord] = []
    first_seen: dict[str, str] = {}
    for raw in raws:
        record = _parse_record(raw)
        previous = first_seen.get(record["id"])
        if previous is not None:
            raise DataError(f"{raw.where}: duplicate id {record['id']!r} (first used at {previous})")
        first_seen[record["id"]] = raw.where.removeprefix(prefix)
        records.append(record)
    return records


def _raw_records_from_file(path: Path, prefix: str) -> Iterator[_Raw]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a JSON or JSON lines file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start}: {error.reason})") from None
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return _raw_records_from_jsonl(text, prefix)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data":
            # ``datasets`` writes JSON lines under a ``.json`` name: several values, one per line.
            return _jsonl_fallback(text, prefix, error)
        raise DataError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except (RecursionError, ValueError) as error:
        raise DataError(f"{path}: unreadable JSON: {_json_limit(error)}") from None
    return _raw_records_from_json(document, prefix)


def _json_limit(error: BaseException) -> str:
    """The message for JSON that parses in principle but exceeds a limit of Python's ``json`` module:
    nesting deeper than the recursion limit (``RecursionError``) or an integer of more than 4,300 digits
    (``ValueError``); both escaped as bare exceptions, without the file name, before."""
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _jsonl_fallback(text: str, prefix: str, json_error: json.JSONDecodeError) -> Iterator[_Raw]:
    """Parse ``text`` as JSON lines, or report the original JSON error if it is not JSON lines either."""
    try:
        raws = list(_raw_records_from_jsonl(text, prefix))
    except DataError as jsonl_error:
        first_line = text.lstrip().split("\n", 1)[0]
        try:
            json.loads(first_line)
        except json.JSONDecodeError:
            # Not even the first line is a JSON value: the file is broken JSON, not JSON lines.
            raise DataError(
                f"{prefix}invalid JSON at line {json_error.lineno}, column {json_error.colno}: "
                f"{json_error.msg}"
            ) from None
        raise jsonl_error from None
    return iter(raws)


def _raw_records_from_jsonl(text: str, prefix: str) -> Iterator[_Raw]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(
                f"{prefix}line {number}: invalid JSON at column {error.colno}: {error.msg}"
            ) from None
        except (RecursionError, ValueError) as error:
            raise DataError(f"{prefix}line {number}: unreadable JSON: {_json_limit(error)}") from None
        yield _Raw(f"{prefix}line {number}", value)


def _raw_records_from_json(document: Any, prefix: str) -> Iterator[_Raw]:
    if isinstance(document, list):
        return _raw_records_from_list(document, lambda index: f"{prefix}[{index}]")
    if isinstance(document, Mapping) and isinstance(document.get("data"), list):
        entries: list[Any] = document["data"]
        first = next((entry for entry in entries if isinstance(entry, Mapping)), None)
        if first is not None and "paragraphs" in first:
            return _raw_records_from_articles(entries, prefix)
        return _raw_records_from_list(entries, lambda index: f"{prefix}data[{index}]")
    if isinstance(document, Mapping):
        keys = ", ".join(repr(key) for key in list(document)[:8])
        hint = ""
        if any(hasattr(value, "column_names") for value in document.values()):
            hint = " (a DatasetDict? pass one split, such as dataset['train'])"
        raise DataError(
            f"{prefix}unknown top-level shape: expected an object with a 'data' list (SQuAD), a list of "
            f"records or JSON lines; got an object with keys [{keys}]{hint}"
        )
    raise DataError(
        f"{prefix}unknown top-level shape: expected an object with a 'data' list (SQuAD), a list of "
        f"records or JSON lines; got {type(document).__name__}"
    )


def _raw_records_from_list(records: Iterable[Any], position: Callable[[int], str]) -> Iterator[_Raw]:
    return (_Raw(position(index), record) for index, record in enumerate(records))


def _raw_records_from_articles(articles: list[Any], prefix: str) -> Iterator[_Raw]:
    for a, article in enumerate(articles):
        where = f"{prefix}data[{a}]"
        if not isinstance(article, Mapping):
            raise DataError(f"{where}: expected an article object, got {type(article).__name__}")
        paragraphs = _field(article, "paragraphs", where)
        if not isinstance(paragraphs, list):
            raise DataError(f"{where}.paragraphs: expected a list, got {type(paragraphs).__name__}")
        title = article.get("title", _MISSING)
        for p, paragraph in enumerate(paragraphs):
            paragraph_where = f"{where}.paragraphs[{p}]"
            if not isinstance(paragraph, Mapping):
                raise DataError(
                    f"{paragraph_where}: expected a paragraph object, got {type(paragraph).__name__}"
                )
            context = _field(paragraph, "context", paragraph_where)
            qas = _field(paragraph, "qas", paragraph_where)
            if not isinstance(qas, list):
                raise DataError(f"{paragraph_where}.qas: expected a list, got {type(qas).__name__}")
            for q, qa in enumerate(qas):
                yield _Raw(f"{paragraph_where}.qas[{q}]", qa, title, context)


def _field(mapping: Mapping[str, Any], name: str, where: str) -> Any:
    value = mapping.get(name, _MISSING)
    if value is _MISSING:
        raise DataError(f"{where}: missing field {name!r}")
    return value


def _parse_record(raw: _Raw) -> QARecord:
    """Check one raw record's structure and convert it to a :class:`QARecord`."""
    record = raw.record
    if not isinstance(record, Mapping):
        raise DataError(f"{raw.where}: expected a record object, got {type(record).__name__}")
    record_id = _parse_id(_field(record, "id", raw.where), raw.where)
    where = f"{raw.where} (id {record_id!r})"
    title = record.get("title", _MISSING) if raw.title is _MISSING else raw.title
    if title is _MISSING or title is None:
        title = ""
    elif not isinstance(title, str):
        raise DataError(f"{where}: title must be a string, got {type(title).__name__}")
    context = _field(record, "context", where) if raw.context is _MISSING else raw.context
    question = _field(record, "question", where)
    for name, value in (("context", context), ("question", question)):
        if not isinstance(value, str):
            raise DataError(f"{where}: {name} must be a string, got {type(value).__name__}")
        if not value.strip():
            raise DataError(f"{where}: empty {name}")
        require_valid_unicode(value, f"{where}: {name}")
    is_impossible = record.get("is_impossible", _MISSING)
    if is_impossible is None:  # a Dataset built from records with and without the field fills in None
        is_impossible = _MISSING
    if is_impossible is not _MISSING and not isinstance(is_impossible, bool):
        raise DataError(f"{where}: is_impossible must be true or false, got {is_impossible!r}")
    raw_answers = record.get("answers", _MISSING)
    if raw_answers is _MISSING or raw_answers is None:
        if is_impossible is not True:
            raise DataError(f"{where}: missing field 'answers'")
        texts: list[str] = []
        starts: list[int] = []
    else:
        texts, starts = _parse_answers(raw_answers, where)
    if is_impossible is _MISSING:
        # The ``datasets`` convention (SQuAD 2.0 on the Hub has no is_impossible column).
        is_impossible = not texts
    elif is_impossible and texts:
        raise DataError(
            f"{where}: is_impossible is true but the record has {len(texts)} answer(s) "
            "(SQuAD 2.0 keeps those in 'plausible_answers')"
        )
    return {
        "id": record_id,
        "title": title,
        "context": context,
        "question": question,
        "answers": {"text": texts, "answer_start": starts},
        "is_impossible": is_impossible,
    }


def _parse_id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, Integral)):
        raise DataError(f"{where}: id must be a string or an integer, got {value!r}")
    record_id = str(int(value)) if isinstance(value, Integral) else value
    if not record_id.strip():
        raise DataError(f"{where}: empty id")
    require_valid_unicode(record_id, f"{where}: id")
    return record_id


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


def _as_list(value: Any) -> list[Any] | None:
    """``value`` as a list if it is a list-like of values (numpy arrays included), else None."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        converted = value.tolist()
        return converted if isinstance(converted, list) else None
    return None


def _parse_answers(raw_answers: Any, where: str) -> tuple[list[str], list[int]]:
    if isinstance(raw_answers, Mapping):
        raw_texts = _as_list(_field(raw_answers, "text", f"{where}: answers"))
        raw_starts = _as_list(_field(raw_answers, "answer_start", f"{where}: answers"))
        if raw_texts is None or raw_starts is None:
            raise DataError(f"{where}: answers.text and answers.answer_start must be lists")
        if len(raw_texts) != len(raw_starts):
            raise DataError(
                f"{where}: answers has {len(raw_texts)} text(s) but {len(raw_starts)} answer_start(s)"
            )
        pairs = [
            (f"answers.text[{k}]", t, f"answers.answer_start[{k}]", s)
            for k, (t, s) in enumerate(zip(raw_texts, raw_starts, strict=True))
        ]
    else:
        answer_list = _as_list(raw_answers)
        if answer_list is None:
            raise DataError(
                f"{where}: answers must be a list of {{'text', 'answer_start'}} objects or an object of "
                f"lists, got {type(raw_answers).__name__}"
            )
        pairs = []
        for k, answer in enumerate(answer_list):
            answer_where = f"{where}: answers[{k}]"
            if not isinstance(answer, Mapping):
                raise DataError(f"{answer_where} must be an object, got {type(answer).__name__}")
            pairs.append(
                (
                    f"answers[{k}].text",
                    _field(answer, "text", answer_where),
                    f"answers[{k}].answer_start",
                    _field(answer, "answer_start", answer_where),
                )
            )
    texts: list[str] = []
    starts: list[int] = []
    for text_name, text, start_name, start in pairs:
        if not isinstance(text, str):
            raise DataError(f"{where}: {text_name} must be a string, got {text!r}")
        require_valid_unicode(text, f"{where}: {text_name}")
        if isinstance(start, bool) or not isinstance(start, Integral):
            raise DataError(f"{where}: {start_name} must be an integer, got {start!r}")
        texts.append(text)
        starts.append(int(start))
    return texts, starts


# ------------------------------------------------------------------------------------------- validation


@attrs.frozen
class _Located:
    """Where an answer's text really is: the outcome of checking one answer against its context."""

    start: int
    text: str
    reason: RepairReason | None  # None: the answer was right as given


@attrs.frozen
class _Bad:
    reason: DropReason
    detail: str


def _locate(context: str, text: str, start: int, *, repair: bool) -> _Located | _Bad:
    """Check one answer, and with ``repair`` search for the text near ``start``.

    Whitespace around the text is never part of a span a model can predict, so it is stripped under every
    policy: the stripped text must then sit right after the leading whitespace (or, for annotations that
    padded the text but not the offset, at ``start`` itself). The search that ``repair`` adds looks for
    the nearest exact occurrence first and falls back to a case-insensitive one; ``str.find``/``rfind``
    and ``re`` do the scanning, so long contexts cost no Python loop per character.
    """
    stripped = text.strip()
    if not stripped:
        return _Bad("empty-text", f"the answer text {_excerpt(text)} is empty")
    lead = len(text) - len(text.lstrip())
    for candidate in (start + lead, start) if lead else (start,):
        if candidate >= 0 and context.startswith(stripped, candidate):
            if candidate == start and stripped == text:
                return _Located(start, text, None)
            return _Located(candidate, stripped, "whitespace")
    if not repair:
        return _Bad("mismatch", _mismatch(context, text, start))
    target = start + lead
    position = _nearest_exact(context, stripped, target)
    if position is not None:
        return _Located(position, stripped, "offset")
    span = _nearest_ignoring_case(context, stripped, target)
    if span is not None:
        return _Located(span[0], context[span[0] : span[1]], "case")
    return _Bad("not-found", f"the answer text {_excerpt(text)} occurs nowhere in the context")


def _mismatch(context: str, text: str, start: int) -> str:
    if not 0 <= start < len(context):
        return f"answer_start {start} is outside the context (length {len(context)}); text {_excerpt(text)}"
    found = context[start : start + len(text)]
    return f"answer_start {start} points at {_excerpt(found)}, not at the answer text {_excerpt(text)}"


def _nearest_exact(context: str, needle: str, target: int) -> int | None:
    """Start of the occurrence of ``needle`` nearest to ``target`` (the earlier one on a tie)."""
    target = min(max(target, 0), len(context))
    after = context.find(needle, target)
    # rfind within [0, target + len - 1) returns the last occurrence that starts before ``target``.
    before = context.rfind(needle, 0, target + len(needle) - 1)
    candidates = [position for position in (before, after) if position >= 0]
    if not candidates:
        return None
    return min(candidates, key=lambda position: (abs(position - target), position))


def _nearest_ignoring_case(context: str, needle: str, target: int) -> tuple[int, int] | None:
    """Span of the case-insensitive occurrence of ``needle`` nearest to ``target``."""
    spans = [match.span() for match in re.finditer(re.escape(needle), context, flags=re.IGNORECASE)]
    if not spans:
        return None
    return min(spans, key=lambda span: (abs(span[0] - target), span[0]))


def _validate(records: list[QARecord], policy: Policy, source: str) -> LoadedRecords:
    repair = policy == "repair"
    kept: list[QARecord] = []
    repaired: list[RepairedAnswer] = []
    dropped: list[DroppedItem] = []
    unanswerable: list[str] = []
    num_answers = 0
    for record in records:
        record_id = record["id"]
        texts = record["answers"]["text"]
        starts = record["answers"]["answer_start"]
        num_answers += len(texts)
        if record["is_impossible"]:
            unanswerable.append(record_id)
            kept.append(record)
            continue
        if not texts:
            detail = "the record has no answers and is not marked is_impossible"
            if policy == "error":
                raise DataError(f"{source}: record {record_id!r}: {detail}")
            dropped.append(DroppedItem(record_id, None, "no-answers", detail))
            continue
        new_texts: list[str] = []
        new_starts: list[int] = []
        for index, (text, start) in enumerate(zip(texts, starts, strict=True)):
            outcome = _locate(record["context"], text, start, repair=repair)
            if isinstance(outcome, _Bad):
                if policy == "error":
                    raise DataError(f"{source}: record {record_id!r}, answer {index}: {outcome.detail}")
                dropped.append(DroppedItem(record_id, index, outcome.reason, outcome.detail))
                continue
            if outcome.reason is not None:
                repaired.append(
                    RepairedAnswer(record_id, index, start, outcome.start, outcome.reason, text, outcome.text)
                )
            new_texts.append(outcome.text)
            new_starts.append(outcome.start)
        if not new_texts:
            dropped.append(
                DroppedItem(record_id, None, "no-answers", "every answer of the record was dropped")
            )
            continue
        if new_texts == texts and new_starts == starts:
            kept.append(record)
        else:
            kept.append({**record, "answers": {"text": new_texts, "answer_start": new_starts}})
    report = DataReport(
        source=source,
        policy=policy,
        num_records=len(records),
        num_answers=num_answers,
        repaired=repaired,
        dropped=dropped,
        unanswerable=unanswerable,
    )
    return LoadedRecords(records=kept, report=report)


# ---------------------------------------------------------------------------------------------- writing


def write_squad(
    records: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    version: SquadVersion = "v2.0",
) -> Path:
    """Write records as nested SQuAD JSON, grouping them by title into articles and by context into
    paragraphs (both in order of first appearance), so that :func:`read_records` reads them back unchanged.

    ``"v2.0"`` writes ``is_impossible`` on every question; ``"v1.1"`` has no unanswerable questions, so an
    unanswerable record is an error there. The file is written to a temporary name and renamed, so a
    failure never leaves a half-written file behind.

    Raises:
        ConfigError: for an unknown ``version``.
        DataError: for a malformed record (as in :func:`read_records`), or an unanswerable one in v1.1.
    """
    if version not in ("v1.1", "v2.0"):
        raise ConfigError(f"version must be 'v1.1' or 'v2.0'; got {version!r}")
    articles: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for record in _collect(_raw_records_from_list(records, lambda index: f"records[{index}]")):
        if record["is_impossible"] and version == "v1.1":
            raise DataError(f"record {record['id']!r} is unanswerable, which SQuAD v1.1 cannot express")
        answers = record["answers"]
        qa: dict[str, Any] = {
            "id": record["id"],
            "question": record["question"],
            "answers": [
                {"text": text, "answer_start": start}
                for text, start in zip(answers["text"], answers["answer_start"], strict=True)
            ],
        }
        if version == "v2.0":
            qa["is_impossible"] = record["is_impossible"]
        articles.setdefault(record["title"], {}).setdefault(record["context"], []).append(qa)
    document = {
        "version": version,
        "data": [
            {
                "title": title,
                "paragraphs": [{"context": context, "qas": qas} for context, qas in paragraphs.items()],
            }
            for title, paragraphs in articles.items()
        ],
    }
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, ensure_ascii=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def records_to_dataset(records: Iterable[QARecord]) -> datasets.Dataset:
    """Records as a ``datasets.Dataset`` with explicit features, so that a set whose answers are all empty
    (or an empty set) still gets ``list<string>``/``list<int32>`` answer columns instead of ``null`` ones.
    """
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "title": datasets.Value("string"),
            "context": datasets.Value("string"),
            "question": datasets.Value("string"),
            "answers": {"text": [datasets.Value("string")], "answer_start": [datasets.Value("int32")]},
            "is_impossible": datasets.Value("bool"),
        }
    )
    # Columnar, because ``from_list([])`` loses the features; ``from_dict`` keeps them for an empty set too.
    columns: dict[str, list[Any]] = {name: [] for name in features}
    for rec in records:
        row: Mapping[str, object] = rec
        for name, column in columns.items():
            column.append(row[name])
    return datasets.Dataset.from_dict(columns, features=features)
