"""Built-in strategy ``n-best``: the top-k distinct answers of every example, with scores and
probabilities.

"Distinct" means distinct character spans: candidates from overlapping windows are merged before ranking,
and every window keeps its ``n_best_size`` best *distinct* spans, so an example always gets ``k`` answers
when its text has them (the transformers v4 pipeline filtered after taking the top-k and could return
fewer).
"""

from __future__ import annotations

import attrs

from spanqa.errors import ConfigError
from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.strategies.base import (
    CandidateTable,
    SearchPlan,
    Strategy,
    int_at_least,
    optional_int_at_least,
)


@attrs.frozen
class NBestOptions:
    """Options of ``n-best``.

    Attributes:
        n_best_size: candidates kept per window and per example; probabilities are a softmax over them
            (plus the null answer when ``null-answer`` is on). Default 20, as in run_squad / utils_qa.
        top_k: answers reported in ``Prediction.n_best`` (``None``: all ``n_best_size``).
    """

    n_best_size: int = attrs.field(default=20, validator=int_at_least(1))
    top_k: int | None = attrs.field(default=None, validator=optional_int_at_least(1))

    def __attrs_post_init__(self) -> None:
        if self.top_k is not None and self.top_k > self.n_best_size:
            raise ConfigError(
                f"NBestOptions.top_k ({self.top_k}) cannot exceed "
                f"NBestOptions.n_best_size ({self.n_best_size})"
            )

    @property
    def reported(self) -> int:
        """How many answers each prediction reports."""
        return self.n_best_size if self.top_k is None else self.top_k


class NBest(Strategy):
    """The top-k distinct answers of each example, with scores and probabilities."""

    name = "n-best"
    Options = NBestOptions
    options: NBestOptions

    def plan(self, plan: SearchPlan) -> SearchPlan:
        return attrs.evolve(plan.keeping(self.options.n_best_size), top_k=self.options.reported)

    def select(self, candidates: CandidateTable) -> CandidateTable:
        return candidates.top(self.options.n_best_size)


@hookimpl
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    register(NBest)
