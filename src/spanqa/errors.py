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
