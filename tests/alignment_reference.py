"""An independent reference for the Aligner's labels: the minimal token span of every gold answer.

The reference is computed here, from the tokenizer's own offset mapping of each context (tokenized alone,
``add_special_tokens=False``) and the gold character offsets, never from :mod:`spanqa.align`'s code or its
(normalised) offsets:

* a token *holds* the characters of its offsets with surrounding padding trimmed: whitespace
  (SentencePiece ``"▁word"`` and byte-level ``"Ġword"`` offsets may include the space before the word)
  and invisible format characters (Unicode category Cf, such as U+200B, which byte-level BPE gives a
  token of its own); a padding-only token holds nothing;
* an answer's first token is the first token of the window holding its first character, its last token
  the last one holding its last character (byte-level BPE may split one character over several tokens,
  each holding it). Characters no token of the context holds (a Thai tone mark that uncased BERT's
  normalizer drops, whitespace) are skipped at both ends of the answer first;
* a window holds an answer when its tokens hold both of those characters.

A labelled window's start and end positions must be exactly those two tokens: a label one token too long
or too short on either side fails, where the old check (the decoded label *contains* the gold text)
accepted any label covering the answer, up to the whole window.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: ``(first, last)`` token indices, or None when the tokens do not hold the answer.
Span = tuple[int, int] | None


def is_padding(character: str) -> bool:
    """Whitespace or an invisible format character: never the first or last character of an answer."""
    return character.isspace() or unicodedata.category(character) == "Cf"


def held_characters(context: str, offsets: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each token's ``(start, end)`` with padding trimmed from both ends (``(end, end)`` if none left)."""
    held = []
    for start, end in offsets:
        while start < end and is_padding(context[start]):
            start += 1
        while end > start and is_padding(context[end - 1]):
            end -= 1
        held.append((start, end))
    return held


def answer_characters(
    held: Sequence[tuple[int, int]], text: str, answer_start: int
) -> tuple[int, int] | None:
    """The answer's first and last character that some token of the context holds (None if there is none).

    Characters no token holds (surrounding whitespace, characters the normalizer drops) never start or
    end a token span, so they are skipped at both ends of the answer.
    """
    answer_end = answer_start + len(text)
    covered = np.zeros(answer_end - answer_start, dtype=bool)
    for start, end in held:
        if end > start and start < answer_end and end > answer_start:
            covered[max(start, answer_start) - answer_start : min(end, answer_end) - answer_start] = True
    inside = np.flatnonzero(covered)
    if not len(inside):
        return None
    return answer_start + int(inside[0]), answer_start + int(inside[-1])


def minimal_span(held: Sequence[tuple[int, int]], characters: tuple[int, int] | None) -> Span:
    """The first token (index into ``held``) holding the first character, the last holding the last one.

    None when the tokens do not hold both characters (the answer is not inside these tokens).
    """
    if characters is None:
        return None
    first_char, last_char = characters
    firsts = [j for j, (start, end) in enumerate(held) if start <= first_char < end]
    lasts = [j for j, (start, end) in enumerate(held) if start <= last_char < end]
    if not firsts or not lasts or firsts[0] > lasts[-1]:
        return None
    return firsts[0], lasts[-1]


def context_tokens(tokenizer: Any, contexts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """``(ids, held characters)`` of every context tokenized alone by ``tokenizer``."""
    encoding = tokenizer(list(contexts), add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    return [
        (list(ids), held_characters(context, [tuple(pair) for pair in offsets]))
        for context, ids, offsets in zip(
            contexts, encoding["input_ids"], encoding["offset_mapping"], strict=True
        )
    ]


def check_labels(aligner: Any, records: Sequence[Mapping[str, Any]], train: Any, evaluation: Any) -> None:
    """Prove ``train``'s labels and report against the reference minimal spans.

    * each window's context tokens are a run of its context's own tokens (consecutive windows of an example
      start ``len(previous window's context) - stride`` tokens apart), identical ids;
    * a window *holds* an answer when its tokens' characters reach over the answer's first and last
      character; a window holding an answer is labelled exactly with the minimal span, among its own
      tokens, of the first one (record order) it holds, and a window holding none with its CLS index;
    * the report counts as outside every window exactly the answers no window holds, and no failure.
    """
    tokenizer, stride = aligner.tokenizer, aligner.stride
    assert len(train) == len(evaluation)
    assert train.input_ids == evaluation.input_ids
    np.testing.assert_array_equal(train.cls_index, evaluation.cls_index)
    np.testing.assert_array_equal(train.example_index, evaluation.example_index)
    tokens = context_tokens(tokenizer, [rec["context"] for rec in records])
    characters = [
        [
            answer_characters(tokens[e][1], text, start)
            for text, start in zip(rec["answers"]["text"], rec["answers"]["answer_start"], strict=True)
        ]
        for e, rec in enumerate(records)
    ]
    held_answers: set[tuple[int, int]] = set()
    next_first: dict[int, int] = {}
    for w in range(len(train)):
        example = int(train.example_index[w])
        rec, (ids, held) = records[example], tokens[example]
        length = int(evaluation.lengths[w])
        positions = np.flatnonzero(evaluation.offsets[w, :length, 0] >= 0)
        first = next_first.get(example, 0)
        window_ids = [train.input_ids[w][p] for p in positions]
        assert window_ids == ids[first : first + len(positions)], (rec["id"], w, "window is not a run")
        next_first[example] = first + len(positions) - stride
        start, end = int(train.start_positions[w]), int(train.end_positions[w])
        window = held[first : first + len(positions)]
        spans = [(k, minimal_span(window, chars)) for k, chars in enumerate(characters[example])]
        holds = [(k, span) for k, span in spans if span is not None]
        held_answers.update((example, k) for k, _ in holds)
        if not holds:
            assert start == end == train.cls_index[w], (rec["id"], w, start, end)
            continue
        k, (first_token, last_token) = holds[0]
        expected = (int(positions[first_token]), int(positions[last_token]))
        context = rec["context"]
        assert (start, end) == expected, (
            rec["id"],
            w,
            "label",
            (start, end),
            "is not the minimal span",
            expected,
            context[evaluation.offsets[w, start, 0] : evaluation.offsets[w, end, 1]],
            rec["answers"]["text"][k],
        )
        decoded = context[evaluation.offsets[w, start, 0] : evaluation.offsets[w, end, 1]]
        # Padding never leads or trails a decoded label.
        assert not is_padding(decoded[0]) and not is_padding(decoded[-1]), (rec["id"], decoded)
    report = train.report
    n_answers = sum(len(rec["answers"]["text"]) for rec in records)
    assert report.answers == n_answers
    assert report.failed == 0, report.failed_ids[:10]
    assert report.outside_window == n_answers - len(held_answers)
    assert report.exact + report.covered == len(held_answers)
