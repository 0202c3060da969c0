"""An example third-party spanqa plugin: the ``prefer-shorter`` decoding strategy.

Readers trained on SQuAD-style data often put a little too much probability on long spans that contain
the answer plus its surroundings. ``prefer-shorter`` re-ranks every example's candidates by
``score - length_penalty * (tokens - 1)``, so between two spans of similar score the shorter one wins.

It takes part in both decoding stages:

- ``plan``: asks the exact search for at least ``pool_size`` candidates per window, so there are shorter
  alternatives to promote;
- ``select``: re-scores the merged candidates with :meth:`CandidateTable.rescore` (vectorised, one numpy
  expression for all examples), which re-ranks them and keeps the table's invariants.

Put it before ``n-best`` and ``null-answer`` in a composition so that they see the re-ranked scores::

    DecodingConfig.compose(["length-capped", "prefer-shorter", "n-best", "null-answer"])
"""

from __future__ import annotations

import attrs

from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.strategies import (
    CandidateTable,
    SearchPlan,
    Strategy,
    int_at_least,
    non_negative,
    real_number,
    to_float,
)

__all__ = ["PreferShorter", "PreferShorterOptions", "spanqa_register_strategies"]


@attrs.frozen
class PreferShorterOptions:
    """Options of ``prefer-shorter``.

    Attributes:
        length_penalty: score subtracted per token beyond the first (>= 0; 0 changes nothing).
        pool_size: candidates kept per window and example for the re-ranking to choose from.
    """

    length_penalty: float = attrs.field(
        default=0.5, converter=to_float, validator=[real_number(), non_negative]
    )
    pool_size: int = attrs.field(default=20, validator=int_at_least(1))


class PreferShorter(Strategy):
    """Re-rank candidates by score minus length_penalty per extra token (prefers shorter answers)."""

    name = "prefer-shorter"
    Options = PreferShorterOptions
    options: PreferShorterOptions

    def plan(self, plan: SearchPlan) -> SearchPlan:
        return plan.keeping(self.options.pool_size)

    def select(self, candidates: CandidateTable) -> CandidateTable:
        penalty = self.options.length_penalty * (candidates.token_length - 1)
        return candidates.rescore(candidates.score - penalty)


@hookimpl
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    """Register ``prefer-shorter``."""
    register(PreferShorter)
