"""The ``same-text`` strategy: one answer per text, scored by the summed probability of its spans, and the
DecodingConfig methods that add and remove strategies."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from spanqa.decode import DecodingConfig, SpanDecoder
from spanqa.errors import ConfigError
from spanqa.features import EvalFeatures
from spanqa.plugins import make_plugin_manager
from spanqa.testing import check_predictions, make_features, random_logits

#: "ten" at two places, "nine" at one: words and their character spans.
CONTEXT = "ten cats and ten dogs and nine birds"
WORDS = [(0, 3), (4, 8), (9, 12), (13, 16), (17, 21), (22, 25), (26, 30), (31, 36)]
FIRST = 2  # [CLS] and one question token come before the context tokens
TEN_FIRST, TEN, NINE = FIRST + 0, FIRST + 3, FIRST + 6
NEG = -1e4


@pytest.fixture(scope="module")
def pm() -> Any:
    return make_plugin_manager(load_entrypoints=False)


def features(contexts: list[str] | None = None) -> EvalFeatures:
    row = [(-1, -1)] * FIRST + WORDS + [(-1, -1)]
    offsets = np.array([row], dtype=np.int32)
    return EvalFeatures(
        input_ids=[list(range(len(row)))],
        attention_mask=[[1] * len(row)],
        token_type_ids=None,
        offsets=offsets,
        lengths=np.array([len(row)]),
        cls_index=np.array([0]),
        example_index=np.array([0]),
        example_ids=["q0"],
        contexts=contexts or [CONTEXT],
        padding_side="right",
    )


def logits(null: float = NEG) -> tuple[np.ndarray, np.ndarray]:
    """Single-word answers only matter: both 'ten' 2.5 each, 'nine' 3.0 (start and end halves)."""
    start = np.full((1, FIRST + len(WORDS) + 1), NEG, dtype=np.float64)
    end = start.copy()
    for position, score in ((TEN_FIRST, 2.5), (TEN, 2.5), (NINE, 3.0)):
        start[0, position] = end[0, position] = score / 2
    start[0, 0] = end[0, 0] = null / 2
    return start, end


def config(pm: Any, *names: str, **options: Any) -> DecodingConfig:
    return DecodingConfig.compose(["length-capped", "n-best", *names], options, plugin_manager=pm)


def decode(pm: Any, cfg: DecodingConfig, null: float = NEG, context: str = CONTEXT) -> Any:
    decoder = SpanDecoder(cfg, plugin_manager=pm)
    feats = features([context])
    predictions = decoder.decode(*logits(null), feats)
    check_predictions(predictions, feats, decoder)
    return predictions["q0"]


def test_identical_texts_merge_and_win_by_their_summed_probability(pm: Any) -> None:
    plain = decode(pm, config(pm))
    assert plain.text == "nine" and plain.score == pytest.approx(3.0)
    first, second = (a for a in plain.n_best if a.text == "ten")
    nine = next(a for a in plain.n_best if a.text == "nine")

    merged = decode(pm, config(pm, "same-text"))
    # ten + ten = log(2 e^2.5) = 2.5 + ln 2 > 3.0; the best span of the two (the earlier, on a tie)
    assert (merged.text, merged.start, merged.end) == ("ten", 0, 3)
    assert merged.score == pytest.approx(2.5 + math.log(2))
    assert merged.probability == pytest.approx(first.probability + second.probability)
    texts = [answer.text for answer in merged.n_best]
    assert texts[:2] == ["ten", "nine"] and texts.count("ten") == 1 and len(texts) == len(plain.n_best) - 1
    assert merged.n_best[1].probability == pytest.approx(nine.probability)
    # Probability is moved between answers, never created: the n-best lists sum to the same total.
    assert sum(a.probability for a in merged.n_best) == pytest.approx(
        sum(a.probability for a in plain.n_best)
    )


def test_texts_that_differ_in_case_stay_apart(pm: Any) -> None:
    context = "Ten" + CONTEXT[3:]
    plain = decode(pm, config(pm), context=context)
    merged = decode(pm, config(pm, "same-text"), context=context)
    assert merged.text == "nine" and merged.n_best == plain.n_best


def test_null_decision_compares_the_null_answer_with_the_best_text(pm: Any) -> None:
    """Null 3.1 beats the best span 'nine' (3.0) but not the text 'ten' (3.19)."""
    v2 = DecodingConfig.squad_v2(plugin_manager=pm)
    assert decode(pm, v2, null=3.1).is_null
    merged = decode(pm, v2.with_strategy("same-text", plugin_manager=pm), null=3.1)
    assert not merged.is_null and merged.text == "ten"
    assert merged.null_score_diff == pytest.approx(3.1 - (2.5 + math.log(2)))


def test_random_logits_keep_every_prediction_valid(pm: Any) -> None:
    rng = np.random.default_rng(7)
    feats = make_features(rng, n_examples=30, max_window=24)  # a dozen words: texts repeat often
    start, end = random_logits(feats, rng)
    base = DecodingConfig.squad_v2(plugin_manager=pm)
    decoder = SpanDecoder(base.with_strategy("same-text", plugin_manager=pm), plugin_manager=pm)
    predictions = decoder.decode(start, end, feats)
    check_predictions(predictions, feats, decoder)
    plain = SpanDecoder(base, plugin_manager=pm).decode(start, end, feats)
    merged = 0
    for key, prediction in predictions.items():
        texts = [a.text for a in prediction.n_best]
        assert len(set(texts)) == len(texts), texts
        totals: dict[str, float] = {}
        for answer in plain[key].n_best:
            totals[answer.text] = totals.get(answer.text, 0.0) + answer.probability
        assert [a.probability for a in prediction.n_best] == pytest.approx([totals[t] for t in texts])
        merged += len(plain[key].n_best) - len(texts)
    assert merged > 0  # the data did exercise merging


def test_options_are_none() -> None:
    with pytest.raises(ConfigError, match=r"options.same-text.match: unknown option"):
        DecodingConfig.compose(["same-text"], {"same-text": {"match": "exact"}})


def test_with_strategy_goes_before_null_answer_and_without_strategy_removes(pm: Any) -> None:
    v2 = DecodingConfig.squad_v2(null_threshold=1.5, plugin_manager=pm)
    added = v2.with_strategy("same-text", plugin_manager=pm)
    assert added.strategies == ("length-capped", "n-best", "same-text", "null-answer")
    assert added.null_threshold == 1.5
    changed = added.with_strategy("n-best", {"n_best_size": 5}, plugin_manager=pm)
    assert changed.strategies == added.strategies and changed.n_best_size == 5
    assert added.with_strategy("n-best", plugin_manager=pm) is added  # present, no options: unchanged
    top3 = DecodingConfig.squad_v1(top_k=3, plugin_manager=pm)  # a dict changes only the keys it names
    assert top3.with_strategy("n-best", {"n_best_size": 9}).options["n-best"].top_k == 3
    assert added.without_strategy("same-text") == v2
    assert v2.without_strategy("same-text") is v2
    v1 = DecodingConfig.squad_v1(plugin_manager=pm).with_strategy("same-text", plugin_manager=pm)
    assert v1.with_strategy("null-answer", plugin_manager=pm).strategies[-1] == "null-answer"
    assert DecodingConfig.from_dict(changed.to_dict(), plugin_manager=pm) == changed
