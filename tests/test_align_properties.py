"""Property-based tests of the Aligner: random contexts, answers and window settings, every tokenizer.

Contexts are built from words that real tokenizers find hard (punctuation glued to words, accents both
precomposed and decomposed, CJK and Thai without spaces, emoji, ligatures, odd whitespace); answers are
random runs of those words. Whatever hypothesis draws, two things must hold:

* every label is exactly its gold answer's minimal token span, a window is labelled CLS exactly when it
  holds no answer, and nothing fails (checked independently by ``alignment_reference.check_labels``);
* a window never mixes question and context: its context tokens are one contiguous run, exactly the
  tokens the tokenizer's own ``sequence_ids`` assign to the context, and every other token has offsets -1.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_reference import check_labels
from spanqa.align import Aligner

WORDS = (
    "the", "river", "Rhine", "flows", "through", "Basel", "1990s", "3.5", "(1066)", "U.S.", "don't", "—",
    "well-known", "café", "cafe\u0301", "naïve", "Zürich", "ﬁnance", "北京", "是", "首都", "ประเทศ", "ไทย",
    "สี่", "١٢٣", "🙂", "x²", "Ωmega", "ÆON", "straße", "İstanbul", ",", ".", ";", "?", "'", '"',
)  # fmt: skip
SEPARATORS = (" ", " ", " ", "  ", "\n", "\t", "\u00a0", "")


@st.composite
def examples(draw: st.DrawFn) -> tuple[list[dict[str, Any]], tuple[int, int, int]]:
    """A few records over random contexts, with random answers, and (max_length, stride, max_question)."""
    max_length = draw(st.sampled_from((40, 64, 96)))
    max_question = draw(st.integers(4, 12))
    stride = draw(st.integers(0, max_length - max_question - 4 - 1))
    records = []
    for index in range(draw(st.integers(1, 3))):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=80))
        separators = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
        starts, context = [], ""
        for word, separator in zip(words, separators, strict=True):
            starts.append(len(context))
            context += word + separator
        answers: list[tuple[str, int]] = []
        for _ in range(draw(st.integers(0, 3))):
            first = draw(st.integers(0, len(words) - 1))
            last = draw(st.integers(first, min(len(words) - 1, first + 12)))
            text = context[starts[first] : starts[last] + len(words[last])]
            if text.strip() == text:
                answers.append((text, starts[first]))
        question = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30)))
        records.append(
            {
                "id": f"p{index}",
                "title": "",
                "context": context,
                "question": question,
                "answers": {"text": [t for t, _ in answers], "answer_start": [s for _, s in answers]},
                "is_impossible": not answers,
            }
        )
    return records, (max_length, stride, max_question)


@settings(max_examples=40, deadline=None)
@given(drawn=examples())
def test_labels_always_decode_to_their_answer(any_tokenizer: Any, drawn: Any) -> None:
    records, (max_length, stride, max_question) = drawn
    aligner = Aligner(any_tokenizer, max_length=max_length, stride=stride, max_question_tokens=max_question)
    train = aligner.train_features(records)
    evaluation = aligner.eval_features(records)
    check_labels(aligner, records, train, evaluation)
    for label in (train.start_positions, train.end_positions):
        assert ((label >= 0) & (label < evaluation.lengths)).all()


@settings(max_examples=40, deadline=None)
@given(drawn=examples())
def test_windows_never_mix_question_and_context(any_tokenizer: Any, drawn: Any) -> None:
    records, (max_length, stride, max_question) = drawn
    aligner = Aligner(any_tokenizer, max_length=max_length, stride=stride, max_question_tokens=max_question)
    train = aligner.train_features(records)
    evaluation = aligner.eval_features(records)
    truncated = set(train.report.truncated_question_ids)
    question_first = any_tokenizer.padding_side == "right"
    context_sequence = 1 if question_first else 0
    for example, rec in enumerate(records):
        windows = np.flatnonzero(evaluation.example_index == example)
        assert len(windows) >= 1
        for w in windows:
            length = int(evaluation.lengths[w])
            is_context = evaluation.offsets[w, :length, 0] >= 0
            positions = np.flatnonzero(is_context)
            if len(positions):
                assert positions[-1] - positions[0] + 1 == len(positions)
            assert (evaluation.offsets[w, length:] == -1).all()
            assert not is_context[int(evaluation.cls_index[w])]
        if rec["id"] in truncated:
            continue
        # The tokenizer's own view of the same windows: context tokens are exactly its context sequence.
        pair = (rec["question"], rec["context"]) if question_first else (rec["context"], rec["question"])
        encoding = any_tokenizer(
            *pair,
            truncation="only_second" if question_first else "only_first",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
        )
        assert len(encoding["input_ids"]) == len(windows)
        for k, w in enumerate(windows):
            sequence_ids = encoding.sequence_ids(k)
            assert encoding["input_ids"][k] == evaluation.input_ids[w]
            # sequence ids never interleave: specials, one sequence, specials, the other, specials
            runs = [key for key, _ in itertools.groupby(s for s in sequence_ids if s is not None)]
            assert runs in ([0, 1], [0], [1], [])
            length = int(evaluation.lengths[w])
            from_tokenizer = np.array([s == context_sequence for s in sequence_ids])
            np.testing.assert_array_equal(from_tokenizer, evaluation.offsets[w, :length, 0] >= 0)
