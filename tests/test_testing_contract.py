"""The contract of :mod:`spanqa.testing` fails on what it exists to catch.

``test_strategies_contract`` shows every registered strategy passes it; here deliberately broken
strategies make :func:`~spanqa.testing.check_strategy` raise, and wrong predictions make
:func:`~spanqa.testing.check_predictions` raise, each with the message that says what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

from spanqa.decode import Answer, DecodingConfig, Prediction, SpanDecoder
from spanqa.features import EvalFeatures
from spanqa.plugins import make_plugin_manager
from spanqa.strategies.base import CandidateTable, SearchPlan, Strategy
from spanqa.testing import (
    check_declaration,
    check_predictions,
    check_strategy,
    make_features,
    random_logits,
)

# ---------------------------------------------------------------------------------------- broken strategies


class SwappedSpans(Strategy):
    """Returns every candidate with its start and end character swapped (start > end)."""

    name = "swapped-spans"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        return attrs.evolve(candidates, start=candidates.end, end=candidates.start)


class ToContextEnd(Strategy):
    """Stretches every candidate to the end of its context, off the window's token boundaries."""

    name = "to-context-end"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        ends = np.array([len(candidates.contexts[e]) for e in candidates.example], dtype=np.int32)
        return attrs.evolve(candidates, end=ends)


class ReversesContexts(Strategy):
    """Mutates its input: reverses the contexts it is handed, in place."""

    name = "reverses-contexts"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        contexts = candidates.contexts
        for index, context in enumerate(list(contexts)):
            contexts[index] = context[::-1]  # type: ignore[index]
        return candidates


class Noisy(Strategy):
    """Re-ranks with unseeded random noise: two decodes of the same logits disagree."""

    name = "noisy"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        noise = np.random.default_rng().normal(0.0, 10.0, size=len(candidates))
        return candidates.rescore(candidates.score + noise)


class Uncapped(Strategy):
    """Removes the length cap that the strategies before it set."""

    name = "uncapped"

    def plan(self, plan: SearchPlan) -> SearchPlan:
        return attrs.evolve(plan, max_answer_length=None)


class ZeroesScoresInPlace(Strategy):
    """Mutates its input: zeroes the scores of the table it is handed, in place."""

    name = "zeroes-scores"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        candidates.score[:] = 0.0
        return candidates


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (SwappedSpans, r"answer span \(\d+, \d+\) is outside the context"),
        (ToContextEnd, r"does not start and end on context tokens of window \d+"),
        (ReversesContexts, "decoding twice gave different predictions"),
        (Noisy, "decoding twice gave different predictions"),
    ],
    ids=["swapped-spans", "to-context-end", "reverses-contexts", "noisy"],
)
def test_check_strategy_fails_a_broken_strategy(strategy: type[Strategy], message: str) -> None:
    with pytest.raises(AssertionError, match=message) as failed:
        check_strategy(strategy)
    assert f"{strategy.name} in [" in str(failed.value), "the message names the strategy and composition"


def test_check_strategy_fails_a_strategy_that_drops_the_length_cap() -> None:
    with pytest.raises(AssertionError, match="plan\\(\\) loosened the length cap from 4 to None"):
        check_strategy(Uncapped)


def test_check_strategy_fails_a_strategy_that_edits_the_table_in_place() -> None:
    with pytest.raises(AssertionError, match="select\\(\\) edited the candidate table's 'score' in place"):
        check_strategy(ZeroesScoresInPlace)


class NoDocstring(Strategy):
    name = "no-docstring"


class BadName(Strategy):
    """A name with capitals and underscores."""

    name = "Bad_Name"


@attrs.define
class _MutableOptions:
    size: int = 3


class MutableOptions(Strategy):
    """Options that are not frozen."""

    name = "mutable-options"
    Options = _MutableOptions


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (NoDocstring, "has no docstring"),
        (BadName, "is not lowercase words joined by hyphens"),
        (MutableOptions, "is not frozen"),
    ],
    ids=["no-docstring", "bad-name", "mutable-options"],
)
def test_check_declaration_fails_a_malformed_class(strategy: type[Strategy], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_declaration(strategy)
    with pytest.raises(AssertionError, match=message):
        check_strategy(strategy)


# -------------------------------------------------------------------------------------- wrong predictions

CAP = 3


@pytest.fixture(scope="module")
def decoded() -> tuple[dict[str, Prediction], EvalFeatures, SpanDecoder]:
    """Valid predictions (n-best of 4, length cap 3) of random logits over random windows."""
    rng = np.random.default_rng(7)
    features = make_features(rng, n_examples=6, max_window=20)
    pm = make_plugin_manager(load_entrypoints=False)
    config = DecodingConfig.compose(
        ["length-capped", "n-best"],
        {"length-capped": {"max_answer_length": CAP}, "n-best": {"n_best_size": 4}},
        plugin_manager=pm,
    )
    decoder = SpanDecoder(config, plugin_manager=pm)
    predictions = decoder.decode(*random_logits(features, rng), features)
    check_predictions(predictions, features, decoder)  # the untouched predictions pass
    return predictions, features, decoder


def _answerable(predictions: dict[str, Prediction]) -> str:
    return next(key for key, p in predictions.items() if p.start is not None and len(p.n_best) >= 2)


def _with(predictions: dict[str, Prediction], key: str, **changes: Any) -> dict[str, Prediction]:
    return {k: attrs.evolve(p, **changes) if k == key else p for k, p in predictions.items()}


def _only_answer(
    predictions: dict[str, Prediction], features: EvalFeatures, window: int, first: int, last: int
) -> dict[str, Prediction]:
    """The prediction of the window's example replaced by one consistent answer over tokens first..last."""
    example = int(features.example_index[window])
    key = features.example_ids[example]
    context = features.contexts[example]
    start, end = int(features.offsets[window, first, 0]), int(features.offsets[window, last, 1])
    text = context[start:end]
    answer = Answer(text, start, end, 1.0, 0.5, window)
    return _with(
        predictions,
        key,
        text=text,
        start=start,
        end=end,
        best_span_text=text,
        probability=0.5,
        n_best=(answer,),
    )


def _longer_than_the_cap(predictions: Any, features: EvalFeatures, decoder: Any) -> dict[str, Prediction]:
    for window in range(len(features)):
        tokens = np.flatnonzero(features.offsets[window, : features.lengths[window], 0] >= 0)
        if len(tokens) > CAP:
            return _only_answer(predictions, features, window, int(tokens[0]), int(tokens[CAP]))
    raise AssertionError("no window has more context tokens than the cap")


def _inside_a_token(predictions: Any, features: EvalFeatures, decoder: Any) -> dict[str, Prediction]:
    for window in range(len(features)):
        offsets = features.offsets[window, : features.lengths[window]]
        tokens = np.flatnonzero((offsets[:, 0] >= 0) & (offsets[:, 1] - offsets[:, 0] > 1))
        if len(tokens):
            changed = _only_answer(predictions, features, window, int(tokens[0]), int(tokens[0]))
            key = features.example_ids[int(features.example_index[window])]
            prediction = changed[key]
            [answer] = prediction.n_best
            start = answer.start + 1  # one character into the word: not a token boundary
            text = features.contexts[int(features.example_index[window])][start : answer.end]
            moved = attrs.evolve(answer, start=start, text=text)
            return _with(changed, key, start=start, text=text, best_span_text=text, n_best=(moved,))
    raise AssertionError("no token of more than one character")


def _from_another_example(predictions: Any, features: EvalFeatures, decoder: Any) -> dict[str, Prediction]:
    key = _answerable(predictions)
    prediction = predictions[key]
    example = features.example_ids.index(key)
    foreign = int(np.flatnonzero(features.example_index != example)[0])
    answers = list(prediction.n_best)
    answers[0] = attrs.evolve(answers[0], window=foreign)
    return _with(predictions, key, n_best=tuple(answers))


def _n_best(change: Callable[[list[Answer]], list[Answer]]) -> Callable[..., dict[str, Prediction]]:
    def corrupt(predictions: Any, features: EvalFeatures, decoder: Any) -> dict[str, Prediction]:
        key = _answerable(predictions)
        return _with(predictions, key, n_best=tuple(change(list(predictions[key].n_best))))

    return corrupt


def _text_not_its_span(predictions: Any, features: EvalFeatures, decoder: Any) -> dict[str, Prediction]:
    key = _answerable(predictions)
    return _with(predictions, key, text=predictions[key].text + "!")


CORRUPTIONS: dict[str, tuple[Callable[..., dict[str, Prediction]], str]] = {
    "missing-example": (
        lambda p, f, d: dict(list(p.items())[1:]),
        "not keyed by every example id, in order",
    ),
    "examples-out-of-order": (
        lambda p, f, d: dict(reversed(list(p.items()))),
        "not keyed by every example id, in order",
    ),
    "text-not-its-span": (_text_not_its_span, r"text '.*' is not context\[\d+:\d+\]"),
    "probability-over-1": (
        lambda p, f, d: _with(p, _answerable(p), probability=1.5),
        r"probability 1\.5 is outside \[0, 1\]",
    ),
    "n-best-not-ranked": (_n_best(lambda answers: answers[::-1]), "the n-best list is not ranked by score"),
    "n-best-repeats-a-span": (
        _n_best(lambda answers: [answers[0], answers[0]]),
        "the n-best list repeats a character span",
    ),
    "answer-from-another-example": (
        _from_another_example,
        r"comes from window \d+, not one of the example's",
    ),
    "answer-longer-than-the-cap": (_longer_than_the_cap, rf"is {CAP + 1} tokens long, over the cap of {CAP}"),
    "answer-inside-a-token": (_inside_a_token, "does not start and end on context tokens"),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_check_predictions_fails_a_wrong_prediction(
    corruption: str, decoded: tuple[dict[str, Prediction], EvalFeatures, SpanDecoder]
) -> None:
    predictions, features, decoder = decoded
    corrupt, message = CORRUPTIONS[corruption]
    wrong = corrupt(predictions, features, decoder)
    with pytest.raises(AssertionError, match=message):
        check_predictions(wrong, features, decoder, where="planted")
