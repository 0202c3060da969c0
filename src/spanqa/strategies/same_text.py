"""Built-in strategy ``same-text``: one answer per text, ranked by the summed probability of its spans.

The exact search ranks *spans*. When the same text occurs at several places of a context ("38" in a
table and again in a sentence), its probability is split over several spans, and a different text whose
single span scores a little higher wins, although the model gives the repeated text more probability in
all. SQuAD metrics judge the text, not the place, so the text with the highest total probability is the
better guess. This strategy merges the candidates of each example that have the same text, scores each
text by the log of the summed ``exp(score)`` of its spans (its probability is then the sum of theirs) and
keeps its best span. Texts must be identical: merging texts that are equal after SQuAD normalisation
("the Commission" with "Commission") was measured too and lost F1 (and EM on SQuADShifts), because the
class's best span is not its best text.

The transformers v4 pipeline summed duplicate texts too, but over probabilities normalised per window, so
a span in the overlap of two windows counted twice and scores of different windows did not compare. Here
spans are de-duplicated across windows first and scores share one scale, so the sum is a real marginal.

Put it before ``null-answer`` (the null decision then compares the null answer with the best *text*).
"""

from __future__ import annotations

import numpy as np

from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.strategies.base import CandidateTable, Strategy


class SameText(Strategy):
    """One answer per text, ranked by the summed probability of all its spans."""

    name = "same-text"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        if not len(candidates):
            return candidates
        texts = candidates.texts()
        # Group ids in order of first appearance: rows are ranked, so a group's first row is its best span,
        # and the groups' first rows are in the same order as the ids.
        ids: dict[tuple[int, str], int] = {}
        keys = zip(candidates.example.tolist(), texts, strict=True)
        group = np.fromiter((ids.setdefault(key, len(ids)) for key in keys), dtype=np.intp, count=len(texts))
        first = np.unique(group, return_index=True)[1]
        if first.size == len(candidates):
            return candidates  # every text is unique: nothing to merge
        peak = candidates.score[first]
        offset = np.where(np.isfinite(peak), peak, 0.0)
        with np.errstate(divide="ignore"):  # a group of -inf scores sums to 0 and stays -inf
            total = np.bincount(group, weights=np.exp(candidates.score - offset[group]), minlength=first.size)
            merged = offset + np.log(total)
        keep = np.zeros(len(candidates), dtype=np.bool_)
        keep[first] = True
        return candidates.filter(keep).rescore(merged)


@hookimpl
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    register(SameText)
