"""Built-in strategy ``null-relative``: rank spans across windows by how much their window prefers them
over no answer.

A long context is read in overlapping windows, and the model scores each window on its own. The raw
``start + end`` logit sums of two windows share one scale only as far as the model keeps its logits on
one level, and it does not quite: a window the model finds hopeless can still have a span whose raw sum
beats the best span of the window that holds the answer, because the hopeless window's logits all sit
higher. Each window's null score (``start[cls] + end[cls]`` at its real CLS position) measures that level.
Fine-tuning teaches it too: a training window that does not hold the answer is labelled with its CLS
token (as in run_qa.py and spanqa's :class:`~spanqa.Aligner`). This strategy subtracts it, so a span scores
``start + end - (start_cls + end_cls)`` of its own window: the log-odds, in the model's own terms, of that
answer against no answer in that window.

Inside one window the shift is a constant: it changes no ranking there, only which window wins. The
per-window search is unchanged; the decoder applies the shift before it merges the windows of an example
(a span found in two windows keeps its better relative score). Every window's null score is then 0, so
with ``null-answer`` an example's null score is 0 and ``null_score_diff`` is minus the best relative span
score: tune the null threshold with this strategy in the composition.

Measured (``benchmarks/strategies.py``, docs/benchmarks.md): with the demo model no lower EM/F1 than raw
scores on XQuAD-en, SQuADShifts, TyDi QA and COVID-QA (+2.48 F1 on COVID-QA's long papers), and with
``same-text`` the transformers v4 pipeline's EM/F1 on XQuAD-en (whose per-window softmax also normalises
by the CLS score); with a second model (random batches) -0.07 F1 on TyDi QA and -0.67 EM on COVID-QA.
A model-dependent gain, so it is off by default. The CLS logits must be finite (the decoder names a
window whose are not).
"""

from __future__ import annotations

import attrs

from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.strategies.base import SearchPlan, Strategy


class NullRelative(Strategy):
    """Spans scored relative to their window's null (CLS) score, so windows compare on one scale."""

    name = "null-relative"

    def plan(self, plan: SearchPlan) -> SearchPlan:
        return attrs.evolve(plan, relative_to_null=True)


@hookimpl
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    register(NullRelative)
