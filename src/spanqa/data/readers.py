"""Reading QA data: SQuAD JSON, flat JSON, JSON lines, in-memory records or a ``datasets.Dataset`` ->
:class:`~spanqa.data.QARecord` dictionaries, every structural problem a :class:`~spanqa.errors.DataError`.

Extractive QA data comes in several shapes (nested SQuAD v1.1/v2.0 JSON, flat JSON or JSON lines written by
``datasets``, in-memory lists, ``datasets.Dataset``). Every reader here produces the flat record schema, and
structural problems (missing fields, wrong types, duplicate ids, invalid JSON) raise
:class:`~spanqa.errors.DataError` naming the file and the record (its id, or its position such as
``data[3].paragraphs[0].qas[5]``) instead of a ``KeyError`` from deep inside. :func:`load_records` then
hands the records to :mod:`spanqa.data.repair`, which checks every answer against its context.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from numbers import Integral
from pathlib import Path
from typing import Any

import attrs

from spanqa.data.repair import validate_records
from spanqa.data.schema import POLICIES, LoadedRecords, Policy, QARecord, require_valid_unicode
from spanqa.errors import ConfigError, DataError

__all__ = ["Source", "load_questions", "load_records", "parse_records", "read_records"]

#: File name suffixes read as JSON lines (other files are read as JSON, falling back to JSON lines).
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})

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
        DataError: on any structural problem, naming the file and the record's id or position, and for a
            file in which no question is found (in-memory sources may be empty).
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
    return validate_records(records, policy, source_name)


def load_questions(
    source: Source | LoadedRecords, *, policy: Policy = "repair", what: str = "input"
) -> LoadedRecords:
    """:func:`load_records` for a run that needs questions (training, evaluation, prediction): records
    already loaded pass through; validation that leaves none (every answer dropped) is a
    :class:`~spanqa.errors.DataError` naming the ``what`` data and its source, with the data report."""
    if isinstance(source, LoadedRecords):
        return source
    loaded = load_records(source, policy=policy)
    if not loaded.records:
        raise DataError(
            f"the {what} data is empty (no usable question after validation): {source!s:.200}\n"
            f"{loaded.report}"
        )
    return loaded


def _read(source: Source) -> tuple[str, list[QARecord]]:
    if isinstance(source, (str, os.PathLike)):
        prefix = f"{source}: "
        records = _collect(_raw_records_from_file(Path(source), prefix), prefix)
        if not records:
            # An empty file, a wrong schema or paragraphs without questions: never an empty result.
            raise DataError(
                f"{source}: no question found (expected SQuAD JSON, {{'data': [{{'paragraphs': "
                "[{'context': ..., 'qas': [...]}]}]}, or records with 'id', 'question' and 'context', "
                "as a JSON list or JSON lines)"
            )
        return str(source), records
    if isinstance(source, Mapping):
        return "<SQuAD object>", _collect(_raw_records_from_json(source, ""))
    if isinstance(source, (bytes, bytearray)):
        raise DataError(
            "expected a path, a SQuAD JSON object or records; got bytes (decode or save them first)"
        )
    if isinstance(source, Iterable):
        if hasattr(source, "column_names"):  # a datasets.Dataset: its rows are numbered
            records = _collect(_raw_records_from_list(source, lambda index: f"row {index}"))
        else:
            records = parse_records(source)
        return f"<{type(source).__name__}>", records
    raise DataError(
        f"expected a path, a SQuAD JSON object or an iterable of records; got {type(source).__name__}"
    )


def parse_records(records: Iterable[Any]) -> list[QARecord]:
    """Check the structure of in-memory records (``records[i]`` in messages) and convert them to the
    flat schema, rejecting duplicate ids."""
    return _collect(_raw_records_from_list(records, lambda index: f"records[{index}]"))


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
