"""The bad-input corpus: malformed and hostile inputs, each with the outcome spanqa must produce.

Every case is one input file (records written as a flat JSON list, or raw bytes for broken files) and one
expected outcome of ``spanqa.load_records`` under the default ``repair`` policy:

* ``ok``: read unchanged (the report is clean);
* ``repaired``: read, with the answer moved or trimmed and listed in the report under ``reason``;
* ``dropped``: the answer (or record) left out and listed in the report under ``reason``;
* ``error``: a :class:`~spanqa.DataError` whose message names the file and contains ``reason`` (the record
  id, or the position for input that has no readable id).

Cases that load (``ok``/``repaired``) then go through the Aligner, the decoder and the Reader, whose own
checks (labels decode to the answer, spans lie inside the context) apply to every one of them. A table
rather than data files so that each case says in one place what it is and what must happen; the same
table generates ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

Outcome = Literal["ok", "repaired", "dropped", "error"]

CONTEXT = "The Denver Broncos won Super Bowl 50 in Santa Clara."
QUESTION = "Who won Super Bowl 50?"
#: A context of more than a million characters whose answer is its very last word.
MILLION_WORDS = 160_000


def record(
    record_id: Any,
    context: Any = CONTEXT,
    question: Any = QUESTION,
    text: Any = "Denver Broncos",
    start: Any = None,
    **fields: Any,
) -> dict[str, Any]:
    """A flat record whose answer ``text`` starts at ``start`` (default: where it really is)."""
    if start is None and isinstance(context, str) and isinstance(text, str):
        start = context.find(text)
    answers = fields.pop("answers", {"text": [text], "answer_start": [start]})
    return {
        "id": record_id,
        "title": "t",
        "context": context,
        "question": question,
        "answers": answers,
        **fields,
    }


@attrs.frozen
class Case:
    """One input and the outcome it must have.

    Attributes:
        name: the case's stable name (also the id of its record, when it has a usable one).
        kind: the class of input, as the docs table groups them.
        description: what is wrong with (or unusual about) the input.
        expect: the outcome of ``load_records`` (see the module docstring).
        reason: for ``repaired``/``dropped`` the report's reason code; for ``error`` a text the message
            must contain.
        records: the records written to the file (when ``raw`` is None).
        raw: the file's bytes, for inputs that are not a well-formed list of records.
        suffix: the file name suffix (``.jsonl`` selects JSON lines).
    """

    name: str
    kind: str
    description: str
    expect: Outcome
    reason: str = ""
    records: tuple[Mapping[str, Any], ...] = ()
    raw: bytes | None = None
    suffix: str = ".json"

    def write(self, directory: Path) -> Path:
        """Write the case's input file into ``directory`` and return its path."""
        path = directory / f"{self.name}{self.suffix}"
        if self.raw is not None:
            path.write_bytes(self.raw)
        else:
            # ensure_ascii keeps lone surrogates writable (as \\ud800 escapes, which json reads back).
            path.write_text(json.dumps(list(self.records), ensure_ascii=True), encoding="utf-8")
        return path

    @property
    def loads(self) -> bool:
        """Whether ``load_records`` keeps the case's record (so the later layers can run it)."""
        return self.expect in ("ok", "repaired")


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _million_character_context() -> str:
    filler = " ".join(f"word{i % 997}" for i in range(MILLION_WORDS))
    return f"{filler} The answer is Broncos"


def _cases() -> tuple[Case, ...]:
    c = CONTEXT
    arabic = "فاز فريق دنفر برونكوز بالسوبر بول 50 في سانتا كلارا."
    hebrew = "\u200fהקבוצה דנבר ברונקוס ניצחה בסופרבול 50 בסנטה קלרה."
    emoji = "The 🏈 Denver Broncos 🐴🇺🇸 won Super Bowl 50 👨‍👩‍👧 in Santa Clara 🎉."
    nfc = "The café in Zürich served crème brûlée to the Broncos."
    zalgo = "The D̷̢͎e̵͖n̸v̷e̶r̵ Broncos won."
    return (
        # ---- offsets
        Case("offset-off-by-three", "wrong offsets", "answer_start 3 characters too far", "repaired",
             "offset", (record("offset-off-by-three", start=c.find("Denver") + 3),)),
        Case("offset-negative", "wrong offsets", "answer_start -7", "repaired", "offset",
             (record("offset-negative", start=-7),)),
        Case("offset-past-end", "wrong offsets", "answer_start 10**9, far past the end of the context",
             "repaired", "offset", (record("offset-past-end", start=10**9),)),
        Case("offset-huge-integer", "wrong offsets", "answer_start with 40 digits", "repaired", "offset",
             (record("offset-huge-integer", start=10**40),)),
        Case("answer-not-in-context", "wrong offsets", "answer text occurs nowhere in the context",
             "dropped", "not-found", (record("answer-not-in-context", text="Seattle Seahawks", start=4),)),
        Case("answer-wrong-case", "wrong offsets", "answer text differs from the context only in case",
             "repaired", "case", (record("answer-wrong-case", text="denver broncos", start=4),)),
        Case("answer-padded", "empty strings", "answer text padded with spaces and a newline",
             "repaired", "whitespace", (record("answer-padded", text=" Denver Broncos\n", start=3),)),
        # ---- empty strings
        Case("answer-empty", "empty strings", "answer text is the empty string", "dropped", "empty-text",
             (record("answer-empty", text="", start=0),)),
        Case("answer-whitespace", "empty strings", "answer text is only whitespace", "dropped",
             "empty-text", (record("answer-whitespace", text=" \t ", start=3),)),
        Case("context-empty", "empty strings", "empty context", "error", "'context-empty'",
             (record("context-empty", context="", text="x", start=0),)),
        Case("question-empty", "empty strings", "empty question", "error", "empty question",
             (record("question-empty", question=""),)),
        Case("question-whitespace", "empty strings", "question of spaces, tabs and newlines", "error",
             "'question-whitespace'", (record("question-whitespace", question=" \t\n "),)),
        Case("id-empty", "empty strings", "empty id", "error", "empty id", (record(""),)),
        Case("no-answers", "empty strings", "no answers but not marked unanswerable", "dropped",
             "no-answers", (record("no-answers", answers={"text": [], "answer_start": []},
                                   is_impossible=False),)),
        Case("unanswerable", "empty strings", "SQuAD 2.0 unanswerable question, no answers", "ok", "",
             (record("unanswerable", answers={"text": [], "answer_start": []}, is_impossible=True),)),
        # ---- positions
        Case("answer-at-start", "context edges", "answer is the first word (offset 0)", "ok", "",
             (record("answer-at-start", text="The", start=0),)),
        Case("answer-at-end", "context edges", "answer ends at the last character", "ok", "",
             (record("answer-at-end", text="Santa Clara.", start=c.rfind("Santa")),)),
        Case("answer-is-context", "context edges", "answer is the whole context", "ok", "",
             (record("answer-is-context", text=c, start=0),)),
        Case("context-one-character", "context edges", "context and answer of one character", "ok", "",
             (record("context-one-character", context="7", text="7", start=0),)),
        # ---- sizes
        Case("context-million", "sizes", "context of more than a million characters, answer at its end",
             "ok", "", (record("context-million", context=_million_character_context(), text="Broncos"),)),
        Case("question-longer-than-max-length", "sizes",
             "question of 600 words, longer than any window", "ok", "",
             (record("question-longer-than-max-length", question="Who won " + "the big game " * 200 + "?"),)),
        Case("answer-many", "sizes", "200 gold answers on one record", "ok", "",
             (record("answer-many", answers={"text": ["Denver Broncos"] * 200,
                                              "answer_start": [4] * 200}),)),
        # ---- Unicode
        Case("unicode-nfc", "Unicode", "precomposed accents (NFC) in context and answer", "ok", "",
             (record("unicode-nfc", context=nfc, text="crème brûlée"),)),
        Case("unicode-nfd", "Unicode", "decomposed accents (NFD: letter + combining mark) throughout",
             "ok", "", (record("unicode-nfd", context=_nfd(nfc), text=_nfd("crème brûlée")),)),
        Case("unicode-nfd-answer-nfc-context", "Unicode",
             "answer in NFD, context in NFC: not the same code points", "dropped", "not-found",
             (record("unicode-nfd-answer-nfc-context", context=nfc, text=_nfd("crème brûlée"),
                     start=nfc.find("crème")),)),
        Case("zero-width-space", "Unicode", "zero-width spaces inside and around the answer", "ok", "",
             (record("zero-width-space", context="The Denver\u200bBroncos \u200bwon.",
                     text="Denver\u200bBroncos"),)),
        Case("answer-zero-width-space-edge", "Unicode",
             "answer starts with a zero-width space (U+200B) that no token carries", "ok", "",
             (record("answer-zero-width-space-edge", context="The \u200bDenver Broncos won.",
                     text="\u200bDenver Broncos"),)),
        Case("answer-format-characters-edges", "Unicode",
             "answer wrapped in a word joiner (U+2060) and a byte-order mark (U+FEFF)", "ok", "",
             (record("answer-format-characters-edges", context="The \u2060Denver Broncos\ufeff won.",
                     text="\u2060Denver Broncos\ufeff"),)),
        Case("answer-zero-width-joiner-end", "Unicode", "answer ends with a zero-width joiner (U+200D)",
             "ok", "", (record("answer-zero-width-joiner-end", context="The Denver Broncos\u200d won.",
                               text="Denver Broncos\u200d"),)),
        Case("zero-width-space-after-answer", "Unicode",
             "a zero-width space right after the answer, outside its text", "ok", "",
             (record("zero-width-space-after-answer", context="The Denver Broncos\u200b won.",
                     text="Denver Broncos"),)),
        Case("answer-invisible-only", "empty strings", "answer text is only a zero-width space", "dropped",
             "empty-text", (record("answer-invisible-only", context="The \u200bDenver Broncos won.",
                                   text="\u200b", start=4),)),
        Case("zero-width-joiner-emoji", "Unicode", "answer is an emoji ZWJ sequence (family)", "ok", "",
             (record("zero-width-joiner-emoji", context=emoji, text="👨‍👩‍👧"),)),
        Case("non-breaking-space", "Unicode", "non-breaking, narrow and ideographic spaces", "ok", "",
             (record("non-breaking-space", context="The Denver\u00a0Broncos won Super\u202fBowl\u300050.",
                     text="Denver\u00a0Broncos"),)),
        Case("right-to-left-arabic", "Unicode", "Arabic context and answer", "ok", "",
             (record("right-to-left-arabic", context=arabic, question="من فاز؟", text="دنفر برونكوز"),)),
        Case("right-to-left-hebrew-mark", "Unicode", "Hebrew with a right-to-left mark and digits", "ok", "",
             (record("right-to-left-hebrew-mark", context=hebrew, question="מי ניצח?",
                     text="דנבר ברונקוס"),)),
        Case("bidi-override", "Unicode", "right-to-left override and pop characters in the context", "ok",
             "", (record("bidi-override", context="The \u202eDenver Broncos\u202c won.",
                         text="Denver Broncos"),)),
        Case("emoji", "Unicode", "emoji, a flag and a skin-tone-free pictograph in the answer", "ok", "",
             (record("emoji", context=emoji, text="🏈 Denver Broncos 🐴🇺🇸"),)),
        Case("combining-marks-stacked", "Unicode", "'zalgo' text: many stacked combining marks", "ok", "",
             (record("combining-marks-stacked", context=zalgo, text="Broncos"),)),
        Case("chinese-no-spaces", "Unicode", "Chinese, no spaces between words", "ok", "",
             (record("chinese-no-spaces", context="丹佛野马队赢得了第50届超级碗。", question="谁赢了？",
                     text="丹佛野马队"),)),
        Case("lone-surrogate", "Unicode", "unpaired UTF-16 surrogate (\\ud800 escape) in the context",
             "error", "unpaired surrogate",
             (record("lone-surrogate", context="The \ud800 Denver Broncos won."),)),
        # ---- control characters
        Case("control-characters", "control characters", "NUL, BEL, ESC, CR LF and tabs in the context",
             "ok", "", (record("control-characters", context="The\x00 Denver\tBroncos\x07 won\r\n\x1b[1m 50.",
                               text="Denver\tBroncos"),)),
        Case("control-in-question", "control characters", "NUL and ESC in the question", "ok", "",
             (record("control-in-question", question="Who\x00 won\x1b?"),)),
        # ---- types
        Case("id-integer", "wrong types", "integer id (as in the COVID-QA draft)", "ok", "", (record(42),)),
        Case("id-list", "wrong types", "id is a list", "error", "id must be a string or an integer",
             (record([1]),)),
        Case("id-boolean", "wrong types", "id is true", "error", "id must be a string or an integer",
             (record(True),)),
        Case("context-number", "wrong types", "context is a number", "error", "context must be a string",
             (record("context-number", context=123, text="1", start=0),)),
        Case("question-null", "wrong types", "question is null", "error", "question must be a string",
             (record("question-null", question=None),)),
        Case("answer-start-string", "wrong types", "answer_start is the string \"4\"", "error",
             "must be an integer", (record("answer-start-string", start="4"),)),
        Case("answer-start-float", "wrong types", "answer_start is 4.0", "error", "must be an integer",
             (record("answer-start-float", start=4.0),)),
        Case("answer-start-nan", "wrong types", "answer_start is NaN", "error", "must be an integer",
             (record("answer-start-nan", start=float("nan")),)),
        Case("answer-start-boolean", "wrong types", "answer_start is true", "error", "must be an integer",
             (record("answer-start-boolean", start=True),)),
        Case("answer-text-number", "wrong types", "answer text is a number", "error", "must be a string",
             (record("answer-text-number", text=50, start=23),)),
        Case("answers-string", "wrong types", "answers is a string", "error", "'answers-string'",
             (record("answers-string", answers="Denver Broncos"),)),
        Case("answers-length-mismatch", "wrong types", "two answer texts, one answer_start", "error",
             "2 text(s) but 1 answer_start(s)",
             (record("answers-length-mismatch",
                     answers={"text": ["Denver", "Broncos"], "answer_start": [4]}),)),
        Case("impossible-with-answers", "wrong types", "is_impossible true but answers given", "error",
             "is_impossible is true", (record("impossible-with-answers", is_impossible=True),)),
        Case("impossible-string", "wrong types", "is_impossible is the string \"false\"", "error",
             "is_impossible must be true or false", (record("impossible-string", is_impossible="false"),)),
        Case("missing-question", "wrong types", "record without a question field", "error",
             "missing field 'question'",
             ({k: v for k, v in record("missing-question").items() if k != "question"},)),
        Case("record-not-object", "wrong types", "a record that is a string", "error",
             "expected a record object", raw=b'["not a record"]'),
        # ---- duplicates
        Case("duplicate-ids", "duplicate ids", "two records with the same id", "error",
             "duplicate id 'duplicate-ids'",
             (record("duplicate-ids"), record("duplicate-ids", text="Santa Clara"))),
        Case("duplicate-ids-int-and-str", "duplicate ids", "ids 7 and \"7\" (the same once read)", "error",
             "duplicate id '7'", (record(7), record("7"))),
        # ---- broken files
        Case("invalid-json", "invalid JSON", "truncated JSON document", "error", "invalid JSON at line 1",
             raw=b'{"data": [{"title": "t", "paragraphs": ['),
        Case("invalid-json-trailing-comma", "invalid JSON", "trailing comma", "error", "invalid JSON",
             raw=b'[{"id": "a", "context": "c", "question": "q", "answers": [],}]'),
        Case("empty-file", "invalid JSON", "empty file", "error", "invalid JSON", raw=b""),
        Case("not-utf8", "invalid JSON", "Latin-1 bytes, not UTF-8", "error", "not UTF-8",
             raw='[{"id": "caf\u00e9"}]'.encode("latin-1")),
        Case("utf8-bom", "invalid JSON", "UTF-8 with a byte-order mark", "ok", "",
             raw=b"\xef\xbb\xbf" + json.dumps([record("utf8-bom")]).encode()),
        Case("deeply-nested", "invalid JSON", "arrays nested 100,000 deep", "error", "nested too deeply",
             raw=b"[" * 100_000 + b"]" * 100_000),
        Case("integer-5000-digits", "invalid JSON", "an integer of 5,000 digits", "error",
             "unreadable JSON", raw=b'{"data": [' + b"1" * 5000 + b"]}"),
        Case("top-level-string", "invalid JSON", "the document is a string", "error",
             "unknown top-level shape", raw=b'"hello"'),
        Case("squad-paragraphs-not-list", "invalid JSON", "SQuAD article whose paragraphs is an object",
             "error", "data[0].paragraphs: expected a list",
             raw=b'{"data": [{"title": "t", "paragraphs": {}}]}'),
        Case("jsonl-bad-line", "invalid JSON", "JSON lines with a broken second line", "error", "line 2",
             raw=(json.dumps(record("jsonl-ok")) + "\n{broken\n").encode(), suffix=".jsonl"),
    )  # fmt: skip


#: Every case, in table order.
CASES: tuple[Case, ...] = _cases()
#: Cases whose records load, for the layers after the data layer.
LOADING: tuple[Case, ...] = tuple(case for case in CASES if case.loads)
#: Loading cases small enough to run through every tokenizer family and the Reader quickly.
SMALL_LOADING: tuple[Case, ...] = tuple(case for case in LOADING if case.name != "context-million")


def case_named(name: str) -> Case:
    """The case called ``name``."""
    return next(case for case in CASES if case.name == name)
