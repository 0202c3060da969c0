"""Answer validation and repair: guarantee ``context[start:start + len(text)] == text`` for every answer
kept, under an explicit policy.

Real files are dirty: offsets that are off by a few characters, answers padded with spaces, a different
case. :func:`validate_records` checks every answer of every record against its context and, by the policy
(``"repair"``, ``"drop"`` or ``"error"``), moves it to where its text really is, leaves it out, or raises;
whatever was repaired or dropped is listed, by id, in the :class:`~spanqa.data.DataReport`: nothing changes
silently. Kept apart from the readers, which only check structure.
"""

from __future__ import annotations

import re

import attrs

from spanqa.characters import strip_padding
from spanqa.data.schema import (
    DataReport,
    DroppedItem,
    DropReason,
    LoadedRecords,
    Policy,
    QARecord,
    RepairedAnswer,
    RepairReason,
)
from spanqa.errors import DataError, excerpt

__all__ = ["validate_records"]


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

    An answer with no visible character (empty, or only whitespace and format characters such as U+200B,
    :mod:`spanqa.characters`) has nothing to label and is dropped. Whitespace around the text is never
    part of a span a model can predict, so it is stripped under every policy (format characters at the
    edges stay in the text, which the official scripts score with them; the Aligner labels the text
    without them): the stripped text must then sit right after the leading whitespace (or, for
    annotations that padded the text but not the offset, at ``start`` itself). The search that ``repair``
    adds looks for the nearest exact occurrence first and falls back to a case-insensitive one;
    ``str.find``/``rfind`` and ``re`` do the scanning, so long contexts cost no Python loop per character.
    """
    if not strip_padding(text)[1]:
        return _Bad("empty-text", f"the answer text {excerpt(text)} has no visible character")
    stripped = text.strip()
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
    return _Bad("not-found", f"the answer text {excerpt(text)} occurs nowhere in the context")


def _mismatch(context: str, text: str, start: int) -> str:
    if not 0 <= start < len(context):
        return f"answer_start {start} is outside the context (length {len(context)}); text {excerpt(text)}"
    found = context[start : start + len(text)]
    return f"answer_start {start} points at {excerpt(found)}, not at the answer text {excerpt(text)}"


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


def validate_records(records: list[QARecord], policy: Policy, source: str) -> LoadedRecords:
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
