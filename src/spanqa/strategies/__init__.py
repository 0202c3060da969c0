"""Decoding strategies: the protocol third-party strategies implement, and the built-ins.

Import what a plugin needs from here::

    from spanqa.hookspecs import hookimpl
    from spanqa.strategies import CandidateTable, SearchPlan, Strategy

The built-in strategies live in their own modules (``length_capped``, ``n_best``, ``null_answer``,
``same_text``) and are registered through the ``spanqa_register_strategies`` hook exactly like
third-party ones; importing this package registers nothing.
"""

from __future__ import annotations

from spanqa.strategies.base import (
    STRATEGY_NAME_PATTERN,
    CandidateTable,
    NoOptions,
    SearchPlan,
    Strategy,
    int_at_least,
    non_negative,
    optional_int_at_least,
    options_from_dict,
    options_to_dict,
    ranking_order,
    real_number,
    to_float,
)

__all__ = [
    "STRATEGY_NAME_PATTERN",
    "CandidateTable",
    "NoOptions",
    "SearchPlan",
    "Strategy",
    "int_at_least",
    "non_negative",
    "optional_int_at_least",
    "options_from_dict",
    "options_to_dict",
    "ranking_order",
    "real_number",
    "to_float",
]
