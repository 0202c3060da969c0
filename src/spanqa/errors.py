"""Exception types raised by spanqa.

Every error spanqa raises on bad input derives from :class:`SpanQAError`, so callers can catch one type,
and each message names the offending record, file or argument instead of surfacing a stack trace from
deep inside a dependency.
"""

from __future__ import annotations


class SpanQAError(Exception):
    """Base class of every error spanqa raises on purpose."""


class DataError(SpanQAError, ValueError):
    """A data file or record is malformed (the message names the record id or position)."""


class ConfigError(SpanQAError, ValueError):
    """An argument or configuration value is invalid (the message names it)."""


class TokenizerError(SpanQAError, TypeError):
    """The tokenizer cannot be used (for example a slow, pure-Python tokenizer without offsets)."""


class PluginError(SpanQAError):
    """A decoding-strategy plugin is missing, clashes with another or failed to load."""


#: Characters of a value that an error message shows at most (the rest is cut and marked with "...").
EXCERPT_CHARS = 60


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``repr(value)`` cut to about ``limit`` characters: an error message names a bad value without
    printing a whole file (a data file passed as predictions once printed 25 KB)."""
    text = value if isinstance(value, str) else None
    if text is not None:
        return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


#: How many ids an error or warning lists before it says "...".
IDS_SHOWN = 5


def some_ids(ids: list[str], shown: int = IDS_SHOWN) -> str:
    """The first ``shown`` ids, quoted and comma-separated, then ``", ..."`` when there are more: how
    spanqa's messages name the records they are about without listing thousands."""
    return ", ".join(repr(key) for key in ids[:shown]) + (", ..." if len(ids) > shown else "")
