"""Does the tokenizer know the text? Refuse one that maps nearly all of it to its unknown token.

A tokenizer that is not the model's (transformers 5 builds a five-word placeholder from a ``config.json``
alone) still "aligns": offsets survive, so labels decode back and reports say "exact", while answers and
scores are garbage with exit status 0. The share of context tokens that are the unknown token tells:
real tokenizers leave a few percent on text in their languages.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from spanqa.errors import TokenizerError
from spanqa.windows import Windows

__all__ = [
    "REFUSED_UNKNOWN_SHARE",
    "WARNED_UNKNOWN_SHARE",
    "UnknownTokenWarning",
    "check_vocabulary",
    "describe_tokenizer",
]

#: Share of a batch's context tokens mapped to the unknown token above which the tokenizer is refused
#: (the five-word placeholder transformers builds from a config.json alone maps all of them), and above
#: which it is warned about (the English MiniLM tokenizer maps 50-61% of Thai and Chinese XQuAD to
#: ``[UNK]``: alignable, but a poor fit for the text).
REFUSED_UNKNOWN_SHARE = 0.9
WARNED_UNKNOWN_SHARE = 0.5


class UnknownTokenWarning(UserWarning):
    """The tokenizer maps most of the text to its unknown token (a poor fit for the data's language)."""


#: Context tokens a batch needs before that share is judged (a few odd characters prove nothing).
MIN_TOKENS_FOR_VOCABULARY_CHECK = 20


def describe_tokenizer(tokenizer: Any) -> str:
    """``<ClassName 'name_or_path'>``, how spanqa's messages name a tokenizer."""
    name = getattr(tokenizer, "name_or_path", "") or "?"
    return f"<{type(tokenizer).__name__} {name!r}>"


def check_vocabulary(tokenizer: Any, windows: Windows, ids: Sequence[str]) -> None:
    """Refuse a tokenizer that maps (nearly) all of a batch's context tokens to its unknown token, and
    warn (:class:`UnknownTokenWarning`) when it maps most of them; ``ids`` name the batch's records."""
    unknown = tokenizer.unk_token_id
    if unknown is None:
        return
    total = int((windows.context_end - windows.context_start).sum())
    if total < MIN_TOKENS_FOR_VOCABULARY_CHECK:
        return
    found = sum(
        row[start:end].count(unknown)
        for row, start, end in zip(
            windows.input_ids, windows.context_start.tolist(), windows.context_end.tolist(), strict=True
        )
    )
    if found <= WARNED_UNKNOWN_SHARE * total:
        return
    message = (
        f"the tokenizer {describe_tokenizer(tokenizer)} maps {found / total:.0%} of the context tokens "
        f"to its unknown token {tokenizer.unk_token!r} (records {ids[0]!r} to {ids[-1]!r})"
    )
    if found > REFUSED_UNKNOWN_SHARE * total:
        raise TokenizerError(f"{message}: it does not know this text; is it the model's own tokenizer?")
    warnings.warn(
        f"{message}: answers in those words cannot be told apart", UnknownTokenWarning, stacklevel=4
    )
