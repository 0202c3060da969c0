"""Holding out a validation split by whole contexts.

Questions about one paragraph share its answers' neighbourhood: a model trained on some of them has read
the paragraph, so scores on the others would be optimistic. :func:`split_by_context` therefore keeps every
question of a context on one side. The split is a pure function of the records and the seed, so a resumed
run trains on exactly the questions the interrupted one did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spanqa.data.schema import QARecord

__all__ = ["split_by_context"]


def split_by_context(
    records: Sequence[QARecord], size: int, *, seed: int
) -> tuple[list[QARecord], list[QARecord]]:
    """``(kept, held_out)``: about ``size`` questions held out, whole contexts at a time.

    Contexts are taken in a random order (``seed``) until at least ``size`` questions are held out, so the
    held-out side can exceed ``size`` by the questions of its last context. Both sides keep the records'
    original order.
    """
    contexts: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        contexts.setdefault(record["context"], []).append(index)
    groups = list(contexts.values())
    held: set[int] = set()
    for group in np.random.default_rng(seed).permutation(len(groups)):
        if len(held) >= size:
            break
        held.update(groups[int(group)])
    kept = [record for index, record in enumerate(records) if index not in held]
    held_out = [record for index, record in enumerate(records) if index in held]
    return kept, held_out
