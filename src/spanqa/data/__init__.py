"""SQuAD-format data in, one flat record schema out, every answer checked against its context.

Extractive QA data comes in several shapes (nested SQuAD v1.1/v2.0 JSON, flat JSON or JSON lines written by
``datasets``, in-memory lists, ``datasets.Dataset``) and real files are dirty: offsets that are off by a few
characters, answers padded with spaces, integer ids. Everything downstream (the Aligner, the metrics) needs
one shape and one guarantee, so this package provides both:

* every reader produces :class:`QARecord` dictionaries, and structural problems (missing fields, wrong
  types, duplicate ids, invalid JSON) raise :class:`~spanqa.errors.DataError` naming the file and the record
  (its id, or its position such as ``data[3].paragraphs[0].qas[5]``) instead of a ``KeyError`` from deep
  inside;
* :func:`load_records` then guarantees ``context[start:start + len(text)] == text`` for every answer it
  keeps. How a mismatch is handled is an explicit policy (repair, drop or error), and whatever was repaired
  or dropped is listed, by id, in a :class:`DataReport`: nothing changes silently.

The package is split by concept; this module re-exports every public name, so ``from spanqa.data import
...`` works as before:

* :mod:`spanqa.data.schema`: the record schema (:class:`QARecord`) and the report types
  (:class:`DataReport`, :class:`RepairedAnswer`, :class:`DroppedItem`, :class:`LoadedRecords`);
* :mod:`spanqa.data.readers`: :func:`read_records` and :func:`load_records` (files, objects, records);
* :mod:`spanqa.data.repair`: the answer check and the repair/drop/error policy behind :func:`load_records`;
* :mod:`spanqa.data.writers`: :func:`write_squad` and :func:`records_to_dataset`;
* :mod:`spanqa.data.split`: :func:`split_by_context`, a validation split by whole contexts.

Private names of the former single module ``spanqa.data`` still import from here, with a
:class:`DeprecationWarning`, for one release.
"""

from __future__ import annotations

from spanqa._moved import moved_names
from spanqa.data.readers import Source as Source
from spanqa.data.readers import load_questions, load_records, read_records
from spanqa.data.schema import POLICIES as POLICIES
from spanqa.data.schema import (
    DataReport,
    DroppedItem,
    LoadedRecords,
    Policy,
    QAAnswers,
    QARecord,
    RepairedAnswer,
    require_valid_unicode,
)
from spanqa.data.schema import DropReason as DropReason
from spanqa.data.schema import RepairReason as RepairReason
from spanqa.data.split import split_by_context
from spanqa.data.writers import SquadVersion as SquadVersion
from spanqa.data.writers import records_to_dataset, write_squad

__all__ = [
    "DataReport",
    "DroppedItem",
    "LoadedRecords",
    "Policy",
    "QAAnswers",
    "QARecord",
    "RepairedAnswer",
    "load_questions",
    "load_records",
    "read_records",
    "records_to_dataset",
    "require_valid_unicode",
    "split_by_context",
    "write_squad",
]

_SCHEMA, _READERS, _REPAIR = "spanqa.data.schema", "spanqa.data.readers", "spanqa.data.repair"
__getattr__ = moved_names(
    __name__,
    {
        "_EXCERPT": "spanqa.errors:EXCERPT_CHARS",
        "_DEFAULT_MAX_ITEMS": _SCHEMA,
        "_non_negative": _SCHEMA,
        "_optional_non_negative": _SCHEMA,
        "_tuple_of_repairs": _SCHEMA,
        "_tuple_of_drops": _SCHEMA,
        "_tuple_of_str": _SCHEMA,
        "_capped": _SCHEMA,
        "_more": _SCHEMA,
        "_excerpt": "spanqa.errors:excerpt",
        "_JSONL_SUFFIXES": _READERS,
        "_MISSING": _READERS,
        "_read": _READERS,
        "_Raw": _READERS,
        "_collect": _READERS,
        "_raw_records_from_file": _READERS,
        "_json_limit": _READERS,
        "_jsonl_fallback": _READERS,
        "_raw_records_from_jsonl": _READERS,
        "_raw_records_from_json": _READERS,
        "_raw_records_from_list": _READERS,
        "_raw_records_from_articles": _READERS,
        "_field": _READERS,
        "_parse_record": _READERS,
        "_parse_id": _READERS,
        "_as_list": _READERS,
        "_parse_answers": _READERS,
        "_Located": _REPAIR,
        "_Bad": _REPAIR,
        "_locate": _REPAIR,
        "_mismatch": _REPAIR,
        "_nearest_exact": _REPAIR,
        "_nearest_ignoring_case": _REPAIR,
        "_validate": f"{_REPAIR}:validate_records",
    },
)
