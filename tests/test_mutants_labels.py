"""Label cases found by mutation testing (``scripts/mutation_test.py labels``).

Each test pins an output that a surviving mutant of :mod:`spanqa.labels` changed while the rest of the
suite still passed. Expected values are worked out by hand from the real MiniLM (uncased WordPiece)
tokenizer's tokens.
"""

from __future__ import annotations

from typing import Any

import pytest

from spanqa.align import Aligner


def record(context: str, text: str, start: int) -> dict[str, Any]:
    return {
        "id": "r1",
        "title": "t",
        "context": context,
        "question": "What?",
        "answers": {"text": [text], "answer_start": [start]},
        "is_impossible": False,
    }


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("llo", 2),  # ends where the token ends, starts inside it
        ("hel", 0),  # starts where the token starts, ends inside it
    ],
)
def test_an_answer_inside_one_token_is_covered_not_exact(
    minilm_tokenizer: Any, text: str, start: int
) -> None:
    """ "hello" is one token, characters [0, 5): a part of it decodes to the whole word, which covers the
    gold text but is not it. The window is still labelled with that token."""
    features = Aligner(minilm_tokenizer, max_length=32, stride=8, max_question_tokens=8).train_features(
        [record("hello world", text, start)]
    )
    report = features.report
    assert (report.answers, report.exact, report.covered, report.failed) == (1, 0, 1, 0)
    label = int(features.start_positions[0])
    assert int(features.end_positions[0]) == label
    assert minilm_tokenizer.convert_ids_to_tokens(features.input_ids[0][label]) == "hello"


def test_an_answer_that_is_a_whole_token_is_exact(minilm_tokenizer: Any) -> None:
    features = Aligner(minilm_tokenizer, max_length=32, stride=8, max_question_tokens=8).train_features(
        [record("hello world", "world", 6)]
    )
    report = features.report
    assert (report.answers, report.exact, report.covered, report.failed) == (1, 1, 0, 0)
