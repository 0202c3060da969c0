"""spanqa: extractive question answering on top of Hugging Face transformers.

The public API is small: data loading (:func:`load_records`), the :class:`Aligner` that turns records into
model features and proves every label, and the errors. See the README and ``docs/`` for a tour.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from spanqa.errors import ConfigError, DataError, PluginError, SpanQAError, TokenizerError

try:
    __version__ = version("spanqa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "ConfigError",
    "DataError",
    "PluginError",
    "SpanQAError",
    "TokenizerError",
    "__version__",
]
