"""Deprecated: the span search kernel moved to :mod:`spanqa.decode._search`.

This module only re-exports its names, each with a :class:`DeprecationWarning`, for one release.
"""

from __future__ import annotations

from spanqa._moved import moved_names

_NAMES = (
    "NEG_INF",
    "CharOffsets",
    "NumpyOps",
    "Ops",
    "Scores",
    "Spans",
    "TorchOps",
    "candidate_spans",
    "first_of_groups",
    "group_rank",
    "monotone_windows",
    "row_positions",
    "row_score_order",
    "sliding_max",
    "spans_at_least",
    "top_distinct",
    "top_k_per_row",
    "unordered_rows",
)

__getattr__ = moved_names(__name__, dict.fromkeys(_NAMES, "spanqa.decode._search"))
