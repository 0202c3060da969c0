"""Choosing the decoding that answers best for one model: a small grid scored on a validation split.

The best answer-length cap and whether the optional strategies help (``same-text``: one answer per text,
by the summed probability of its spans; ``null-relative``: spans of different windows ranked relative to
their window's null score) depend on the model and the data: the transformers 4 pipeline caps answers at
15 tokens, run_qa.py at 30, and on the demo model the pipeline's defaults scored 1.6 F1 above spanqa's
fixed ones on XQuAD. So a fine-tuned model is decoded every way of a :class:`DecodingGrid` on held-out
questions, and the best is kept (:func:`choose_decoding`); on SQuAD 2.0 data the null threshold is tuned
for each way first (:func:`~spanqa.decode.threshold.tune_null_threshold`), so each is scored at its best.

The choice is made on questions that are *not* reported: scores on the data a decoding was chosen on are
optimistic, and :class:`DecodingChoice` says which data it was (``source``). The grid runs one forward
pass: every decoding reads the same logits (``spanqa.inference.predict_records_each``).

Ties are broken towards the grid's first decodings, and the first is the one the grid was built from, so a
model keeps its decoding unless another scores strictly better.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from spanqa.decode.config import LENGTH_CAPPED, NULL_ANSWER, DecodingConfig
from spanqa.decode.predictions import Prediction
from spanqa.decode.threshold import tune_null_threshold
from spanqa.errors import ConfigError
from spanqa.metrics import GoldSource, load_gold
from spanqa.metrics import evaluate as squad_evaluate

__all__ = ["NULL_RELATIVE", "SAME_TEXT", "DecodingChoice", "DecodingGrid", "GridScore", "choose_decoding"]

#: The optional strategies the grid switches on and off.
SAME_TEXT, NULL_RELATIVE = "same-text", "null-relative"


def _sorted_unique_caps(value: Any) -> tuple[int, ...]:
    caps = tuple(dict.fromkeys(value))
    if not caps or any(not isinstance(cap, int) or isinstance(cap, bool) or cap < 1 for cap in caps):
        raise ConfigError(f"DecodingGrid.max_answer_lengths must be positive integers, got {value!r}")
    return caps


def _switches(value: Any) -> tuple[bool, ...]:
    switches = tuple(dict.fromkeys(value))
    if not switches or any(not isinstance(switch, bool) for switch in switches):
        raise ConfigError(f"DecodingGrid switches must be a non-empty list of True/False, got {value!r}")
    return switches


@attrs.frozen
class DecodingGrid:
    """The decodings to try: every answer-length cap x ``same-text`` on/off x ``null-relative`` on/off.

    The defaults (6 x 2 x 2 = 24 decodings) span the caps in use (the pipeline's 15, run_qa.py's 30) and
    both strategies. Fix a dimension by giving it one value, for example ``same_text=(False,)``.
    """

    max_answer_lengths: tuple[int, ...] = attrs.field(
        default=(10, 15, 20, 30, 40, 50), converter=_sorted_unique_caps
    )
    same_text: tuple[bool, ...] = attrs.field(default=(False, True), converter=_switches)
    null_relative: tuple[bool, ...] = attrs.field(default=(False, True), converter=_switches)

    def configs(self, base: DecodingConfig) -> list[DecodingConfig]:
        """Every decoding of the grid, built from ``base`` (its other strategies and options stay).

        ``base`` itself, with its own cap and switches, comes first whenever the grid holds it.
        """
        own = (
            base.max_answer_length,
            SAME_TEXT in base.strategies,
            NULL_RELATIVE in base.strategies,
        )
        cells = list(itertools.product(self.max_answer_lengths, self.same_text, self.null_relative))
        cells.sort(key=lambda cell: cell != own)  # stable: the base first, the grid's order otherwise
        configs = []
        for cap, same_text, null_relative in cells:
            config = base.with_strategy(LENGTH_CAPPED, {"max_answer_length": cap})
            for strategy, on in ((SAME_TEXT, same_text), (NULL_RELATIVE, null_relative)):
                config = config.with_strategy(strategy) if on else config.without_strategy(strategy)
            configs.append(config)
        return configs


def _describe(config: DecodingConfig) -> str:
    """The grid's view of a decoding, in a few words: cap and optional strategies."""
    parts = [f"cap {config.max_answer_length}"]
    parts += [name for name in (SAME_TEXT, NULL_RELATIVE) if name in config.strategies]
    return ", ".join(parts)


@attrs.frozen
class GridScore:
    """One decoding of the grid and what it scored (EM/F1 in percent) on the validation questions.

    ``decoding`` carries the tuned null threshold on SQuAD 2.0 data.
    """

    decoding: DecodingConfig
    exact: float
    f1: float

    def describe(self) -> str:
        """The decoding in a few words: ``"cap 15, same-text"``."""
        return _describe(self.decoding)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decoding": _describe(self.decoding),
            "max_answer_length": self.decoding.max_answer_length,
            SAME_TEXT: SAME_TEXT in self.decoding.strategies,
            NULL_RELATIVE: NULL_RELATIVE in self.decoding.strategies,
            "null_threshold": self.decoding.null_threshold,
            "exact": self.exact,
            "f1": self.f1,
        }


@attrs.frozen
class DecodingChoice:
    """The grid's scores, in grid order, and the decoding chosen (the best F1; then EM; then grid order).

    ``source`` names the questions it was chosen on and ``questions`` counts them.
    """

    scores: tuple[GridScore, ...]
    best: GridScore
    source: str
    questions: int

    @property
    def decoding(self) -> DecodingConfig:
        """The chosen decoding (with its tuned null threshold on SQuAD 2.0 data)."""
        return self.best.decoding

    def format(self) -> str:
        """The grid as a table, best first, the choice marked: what a user reads to see why."""
        lines = [f"decoding chosen on {self.questions} questions of {self.source} (EM / F1):"]
        ranked = sorted(self.scores, key=lambda score: (-score.f1, -score.exact))
        width = max(len(_describe(score.decoding)) for score in ranked)
        for score in ranked:
            mark = "  <- chosen" if score is self.best else ""
            threshold = score.decoding.null_threshold
            extra = f"  null threshold {threshold:.4f}" if threshold is not None else ""
            lines.append(
                f"  {_describe(score.decoding):<{width}}  {score.exact:6.2f} / {score.f1:6.2f}{extra}{mark}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "questions": self.questions,
            "chosen": self.best.to_dict(),
            "grid": [score.to_dict() for score in self.scores],
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON (next to a saved model: why it decodes the way it does)."""
        target = Path(path)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target


def choose_decoding(
    candidates: Sequence[tuple[DecodingConfig, Mapping[str, Prediction]]],
    gold: GoldSource,
    *,
    source: str,
) -> DecodingChoice:
    """Score each ``(decoding, its predictions)`` on ``gold`` and choose the best.

    A decoding with the ``null-answer`` strategy gets the null threshold with the best F1 on ``gold``
    first and is scored with it; the others are scored as they are, with :func:`spanqa.metrics.evaluate`
    (the official scripts' EM/F1).
    """
    if not candidates:
        raise ConfigError("choose_decoding needs at least one decoding to score")
    gold_set = load_gold(gold)
    scores = []
    for decoding, predictions in candidates:
        if NULL_ANSWER in decoding.strategies:
            tuned = tune_null_threshold(predictions, gold_set)
            scores.append(GridScore(tuned.apply(decoding), tuned.best_exact, tuned.best_f1))
        else:
            texts = {key: prediction.text for key, prediction in predictions.items()}
            metrics = squad_evaluate(gold_set, texts)
            scores.append(GridScore(decoding, float(metrics["exact"]), float(metrics["f1"])))
    order = max(range(len(scores)), key=lambda i: (scores[i].f1, scores[i].exact, -i))
    return DecodingChoice(tuple(scores), scores[order], source, len(gold_set.questions))
