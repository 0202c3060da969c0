"""Writing QA data: records -> nested SQuAD JSON (:func:`write_squad`) or a ``datasets.Dataset`` with
explicit features (:func:`records_to_dataset`).

The writers are the inverse of :mod:`spanqa.data.readers`: :func:`write_squad` checks records with the
same structural rules before writing, and :func:`~spanqa.data.read_records` reads its output back
unchanged.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from spanqa.data.readers import parse_records
from spanqa.data.schema import QARecord
from spanqa.errors import ConfigError, DataError

if TYPE_CHECKING:
    import datasets

__all__ = ["SquadVersion", "records_to_dataset", "write_squad"]

#: The SQuAD versions :func:`write_squad` can write.
SquadVersion = Literal["v1.1", "v2.0"]


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
    for record in parse_records(records):
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
