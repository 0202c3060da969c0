"""Built-in strategy ``length-capped``: answers of at most ``max_answer_length`` tokens.

The cap is part of the exact search (the decoder never scores a longer span), not a filter applied
afterwards, so capping can never cost an answer that a longer, filtered-out span displaced.
"""

from __future__ import annotations

import attrs

from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.strategies.base import SearchPlan, Strategy, int_at_least


@attrs.frozen
class LengthCappedOptions:
    """Options of ``length-capped``.

    Attributes:
        max_answer_length: longest answer in tokens (>= 1; 30 as in the transformers and google-research
            SQuAD recipes).
    """

    max_answer_length: int = attrs.field(default=30, validator=int_at_least(1))


class LengthCapped(Strategy):
    """Answers of at most max_answer_length tokens (enforced by the exact search itself)."""

    name = "length-capped"
    Options = LengthCappedOptions
    options: LengthCappedOptions

    def plan(self, plan: SearchPlan) -> SearchPlan:
        return plan.capped(self.options.max_answer_length)


@hookimpl
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    register(LengthCapped)
