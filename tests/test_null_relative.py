"""The ``null-relative`` strategy: spans ranked across windows by their score less their window's null
(CLS) score; rankings inside a window unchanged; with ``null-answer``, the null score is 0."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from spanqa.decode import DecodingConfig, SpanDecoder
from spanqa.errors import DataError
from spanqa.features import EvalFeatures
from spanqa.plugins import make_plugin_manager
from spanqa.testing import check_predictions, make_features, random_logits

#: Two windows over "red fox and blue owl": window 0 holds "red fox and", window 1 "and blue owl".
CONTEXT = "red fox and blue owl"
WINDOWS = [[(0, 3), (4, 7), (8, 11)], [(8, 11), (12, 16), (17, 20)]]
FIRST = 2  # [CLS] and one question token come before the context tokens
NEG = -1e4


@pytest.fixture(scope="module")
def pm() -> Any:
    return make_plugin_manager(load_entrypoints=False)


def features() -> EvalFeatures:
    rows = [[(-1, -1)] * FIRST + words + [(-1, -1)] for words in WINDOWS]
    return EvalFeatures(
        input_ids=[list(range(len(row))) for row in rows],
        attention_mask=[[1] * len(row) for row in rows],
        token_type_ids=None,
        offsets=np.array(rows, dtype=np.int32),
        lengths=np.array([len(row) for row in rows]),
        cls_index=np.array([0, 0]),
        example_index=np.array([0, 0]),
        example_ids=["q0"],
        contexts=[CONTEXT],
        padding_side="right",
    )


def logits(nulls: tuple[float, float] = (4.0, -6.0)) -> tuple[np.ndarray, np.ndarray]:
    """Single-word answers: "fox" scores 5 in window 0 (null 4), "owl" 3 in window 1 (null -6). Raw
    scores pick "fox"; relative to their windows' null scores "owl" (3 - -6 = 9) beats "fox" (5 - 4 = 1)."""
    width = FIRST + 4
    start = np.full((2, width), NEG, dtype=np.float32)
    end = start.copy()
    for window, position, score in ((0, FIRST + 1, 5.0), (1, FIRST + 2, 3.0), (0, FIRST + 2, 0.5)):
        start[window, position] = end[window, position] = score / 2
    for window, null in enumerate(nulls):
        start[window, 0] = end[window, 0] = null / 2
    return start, end


def decode(pm: Any, *names: str, nulls: tuple[float, float] = (4.0, -6.0)) -> Any:
    config = DecodingConfig.compose(["length-capped", "n-best", *names], plugin_manager=pm)
    decoder = SpanDecoder(config, plugin_manager=pm)
    feats = features()
    predictions = decoder.decode(*logits(nulls), feats)
    check_predictions(predictions, feats, decoder)
    return predictions["q0"]


def test_the_window_that_prefers_its_span_over_no_answer_wins(pm: Any) -> None:
    raw = decode(pm)
    assert (raw.text, raw.score) == ("fox", pytest.approx(5.0))
    relative = decode(pm, "null-relative")
    assert (relative.text, relative.start, relative.end) == ("owl", 17, 20)
    assert relative.score == pytest.approx(9.0)
    assert relative.n_best[0].window == 1
    fox = next(answer for answer in relative.n_best if answer.text == "fox")
    assert (fox.score, fox.window) == (pytest.approx(1.0), 0)
    # "and" is in both windows and appears once, with its better relative score: window 0's 0.5 - 4.
    spans = [(answer.start, answer.end) for answer in relative.n_best]
    assert len(spans) == len(set(spans))
    conjunction = [answer for answer in relative.n_best if answer.text == "and"]
    assert len(conjunction) == 1 and conjunction[0].score == pytest.approx(-3.5)


def test_a_single_window_ranks_as_before_with_scores_shifted_by_its_null_score(pm: Any) -> None:
    rng = np.random.default_rng(11)
    feats = make_features(rng, n_examples=40, max_window=64)  # some examples fit one window
    start, end = random_logits(feats, rng)
    base = DecodingConfig.squad_v1(plugin_manager=pm)
    plain = SpanDecoder(base, plugin_manager=pm).decode(start, end, feats)
    shifted = SpanDecoder(base.with_strategy("null-relative", plugin_manager=pm), plugin_manager=pm)
    relative = shifted.decode(start, end, feats)
    check_predictions(relative, feats, shifted)
    single = [e for e in range(feats.num_examples) if (feats.example_index == e).sum() == 1]
    assert len(single) >= 5
    for example in single:
        key = feats.example_ids[example]
        window = int(np.flatnonzero(feats.example_index == example)[0])
        cls = int(feats.cls_index[window])
        null = float(np.float32(start[window, cls]) + np.float32(end[window, cls]))
        ranked, before = relative[key].n_best, plain[key].n_best
        assert [(a.start, a.end) for a in ranked] == [(a.start, a.end) for a in before]
        assert [a.score for a in ranked] == pytest.approx([a.score - null for a in before])


def test_with_null_answer_the_null_score_is_zero(pm: Any) -> None:
    prediction = decode(pm, "null-relative", "null-answer")
    assert prediction.null_score == 0.0
    assert prediction.null_score_diff == pytest.approx(-9.0) and not prediction.is_null
    # Both windows prefer no answer: the best relative span score is negative, so null wins.
    hopeless = decode(pm, "null-relative", "null-answer", nulls=(8.0, 4.0))
    assert hopeless.is_null and hopeless.null_score_diff == pytest.approx(1.0)  # 0 - (owl 3 - 4 = -1)
    spans = sum(math.exp(answer.score) for answer in hopeless.n_best)
    assert hopeless.null_probability == pytest.approx(1 / (1 + spans))  # the null score 0 weighs e^0


@pytest.mark.parametrize("bad", [-math.inf, math.nan, math.inf])
def test_a_non_finite_null_score_is_refused_naming_the_window(pm: Any, bad: float) -> None:
    start, end = logits()
    start[1, 0] = bad
    config = DecodingConfig.squad_v1(plugin_manager=pm).with_strategy("null-relative", plugin_manager=pm)
    with pytest.raises(DataError, match=r"window 1 \(example 'q0'\): the null score .* finite one"):
        SpanDecoder(config, plugin_manager=pm).decode(start, end, features())
