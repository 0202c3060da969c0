"""Built-in strategy ``null-answer``: SQuAD 2.0 unanswerable questions.

The null score of a window is ``start[cls] + end[cls]`` at that window's *real* CLS position
(``EvalFeatures.cls_index``, never assumed to be 0); an example's null score is the **minimum** over its
windows, as in google-research ``run_squad`` and transformers' ``utils_qa``. The example is predicted
unanswerable iff ``null_score - best_span_score > null_threshold``; that difference is reported as
``Prediction.null_score_diff`` so the threshold can be tuned on a dev set in one pass
(:func:`spanqa.decode.tune_null_threshold`). An example without any span candidate is always null
(``null_score_diff = +inf``).
"""

from __future__ import annotations

import attrs
import numpy as np

from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.strategies.base import (
    CandidateTable,
    SearchPlan,
    Strategy,
    predicts_null,
    real_number,
    to_float,
)


@attrs.frozen
class NullAnswerOptions:
    """Options of ``null-answer``.

    Attributes:
        null_threshold: predict null iff ``null_score - best_span_score > null_threshold`` (default 0.0;
            tune it on a dev set with :func:`spanqa.decode.tune_null_threshold`).
    """

    null_threshold: float = attrs.field(
        default=0.0, converter=to_float, validator=real_number(allow_infinite=True)
    )


class NullAnswer(Strategy):
    """SQuAD 2.0 null answers: null iff min-over-windows CLS score - best span score > null_threshold."""

    name = "null-answer"
    Options = NullAnswerOptions
    options: NullAnswerOptions

    def plan(self, plan: SearchPlan) -> SearchPlan:
        return attrs.evolve(plan, null_scores=True)

    def select(self, candidates: CandidateTable) -> CandidateTable:
        best = candidates.best_score()
        null = np.where(np.isnan(candidates.null_score), -np.inf, candidates.null_score)
        has_span = best > -np.inf
        diff = np.full(candidates.num_examples, np.inf)
        diff[has_span] = null[has_span] - best[has_span]
        return candidates.with_null(predicts_null(diff, self.options.null_threshold), diff)


@hookimpl
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    register(NullAnswer)
