"""Over-long questions: which ones could break the tokenizer's pair call, and how they are cut.

A question longer than ``max_question_tokens`` is cut in its text, at a token boundary, and counted in the
report instead of crashing the tokenizer or crowding out the context. Tokenizing every question up front
would cost a tenth of the alignment, so :func:`risky_questions` first bounds each question's token count
from its text and the tokenizer's normalizer, and only those that might not fit are tokenized
(:func:`truncate_questions`). Kept out of :mod:`spanqa.align` because it is tokenizer arithmetic, not
alignment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["risky_questions", "truncate_questions"]


def risky_questions(tokenizer: Any, questions: Sequence[str], crash_limit: int) -> list[int]:
    """Indices of the questions that might have more than ``crash_limit`` tokens (above which the pair
    call fails).

    Tokenizing every question up front costs a tenth of the whole alignment, so only questions that
    could break the pair call are: no standard tokenizer makes more tokens than the UTF-8 bytes of
    the normalized text (every WordPiece, BPE and Unigram piece, byte fallback included, covers at
    least one byte), plus a prefix space or ``"▁"``. An ASCII question under a normalizer that never
    lengthens ASCII text needs no normalizing to know that. Every other question goes straight into
    the pair call, and its exact token count is then read from the windows (see
    :meth:`spanqa.Aligner._tokenize`).
    """
    normalizer = getattr(tokenizer.backend_tokenizer, "normalizer", None)
    normalize = normalizer.normalize_str if normalizer is not None else str
    ascii_safe = _keeps_ascii_length(normalizer)
    limit = crash_limit - 2
    return [
        i
        for i, question in enumerate(questions)
        if len(question) > limit
        or (
            not (ascii_safe and question.isascii())
            and len(normalize(question).encode("utf-8", "surrogatepass")) > limit
        )
    ]


def truncate_questions(
    tokenizer: Any, questions: list[str], indices: Iterable[int], *, max_question_tokens: int, max_length: int
) -> tuple[list[str], list[int]]:
    """``questions`` with those at ``indices`` cut to ``max_question_tokens`` tokens; also which were cut.

    A question is cut in its text, at the end of its last kept token, so that the pair encoding keeps
    the tokenizer's own handling of the question; the cut text is re-tokenized to make sure it fits
    (a merge across the cut can change the count).
    """
    indices = list(indices)
    if not indices:
        return questions, []
    limit = max_question_tokens
    encoded = tokenizer(
        [questions[i] for i in indices],
        add_special_tokens=False,
        truncation=True,
        max_length=max_length,
        return_attention_mask=False,
        return_token_type_ids=False,
    )["input_ids"]
    long = [i for i, ids in zip(indices, encoded, strict=True) if len(ids) > limit]
    if not long:
        return questions, []
    questions = list(questions)
    for i in long:
        question = questions[i]
        while True:
            # Only the first ``limit`` tokens matter: truncating keeps a huge question cheap and spares
            # users transformers' "longer than the maximum sequence length" warning.
            offsets = tokenizer(
                question,
                add_special_tokens=False,
                return_offsets_mapping=True,
                truncation=True,
                max_length=limit + 1,
            )["offset_mapping"]
            if len(offsets) <= limit:
                break
            # Cut after the last kept token; when that cuts nothing (several tokens of one character,
            # as byte-level BPE makes), cut before it. Either way the text gets shorter, so this ends.
            cut = offsets[limit - 1][1]
            if cut >= len(question):
                cut = offsets[limit - 1][0]
            question = question[: min(cut, len(question) - 1)]
        questions[i] = question
    return questions, long


#: Normalizers that never make ASCII text longer (lowercasing, Unicode normal forms, accent stripping,
#: whitespace cleaning). ``Replace``, ``Prepend`` and SentencePiece's ``Precompiled`` maps may, so they are
#: not listed.
_ASCII_KEEPING_NORMALIZERS = frozenset(
    {"BertNormalizer", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents", "Strip", "Nmt"}
)


def _keeps_ascii_length(normalizer: Any) -> bool:
    """Whether a ``tokenizers`` normalizer (or None) provably never lengthens ASCII text."""
    if normalizer is None:
        return True
    try:
        description = json.loads(normalizer.__getstate__())
    except (AttributeError, TypeError, ValueError):
        return False
    return _described_keeps_ascii_length(description)


def _described_keeps_ascii_length(description: Any) -> bool:
    if not isinstance(description, Mapping):
        return False
    if description.get("type") == "Sequence":
        return all(_described_keeps_ascii_length(part) for part in description.get("normalizers", ()))
    return description.get("type") in _ASCII_KEEPING_NORMALIZERS
