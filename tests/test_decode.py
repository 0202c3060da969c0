"""SpanDecoder, DecodingConfig and DecodeStream on small hand-built windows: what is decoded, how windows
merge, null answers and their threshold, streaming, and the errors raised on bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
import torch

from spanqa.decode import (
    Answer,
    DecodingConfig,
    SpanDecoder,
)
from spanqa.errors import ConfigError, DataError, PluginError
from spanqa.features import EvalFeatures
from spanqa.plugins import make_plugin_manager
from spanqa.strategies.length_capped import LengthCappedOptions
from spanqa.testing import check_predictions, make_features, random_logits

NEG = -1e4  # a logit no answer should use

# "The cat sat on the mat ." tokens with their character spans.
CONTEXT = "The cat sat on the mat."
WORDS = [(0, 3), (4, 7), (8, 11), (12, 14), (15, 18), (19, 22), (22, 23)]


@pytest.fixture(scope="module")
def pm() -> Any:
    """A plugin manager with the built-ins only (no entry points), shared by the tests."""
    return make_plugin_manager(load_entrypoints=False)


def window(tokens: list[tuple[int, int]], question: int = 2) -> list[tuple[int, int]]:
    """[CLS] question... [SEP] tokens [SEP] as offsets."""
    return [(-1, -1)] * (question + 2) + tokens + [(-1, -1)]


def features_of(
    rows: list[list[tuple[int, int]]],
    example_of_row: list[int],
    contexts: list[str],
    *,
    padding_side: str = "right",
    cls_index: list[int] | None = None,
) -> EvalFeatures:
    width = max(len(row) for row in rows)
    offsets = np.full((len(rows), width, 2), -1, dtype=np.int32)
    for i, row in enumerate(rows):
        offsets[i, : len(row)] = row
    lengths = [len(row) for row in rows]
    return EvalFeatures(
        input_ids=[list(range(n)) for n in lengths],
        attention_mask=[[1] * n for n in lengths],
        token_type_ids=None,
        offsets=offsets,
        lengths=np.array(lengths),
        cls_index=np.array(cls_index if cls_index is not None else [0] * len(rows)),
        example_index=np.array(example_of_row),
        example_ids=[f"q{i}" for i in range(len(contexts))],
        contexts=contexts,
        padding_side=padding_side,  # type: ignore[arg-type]
    )


def logits_for(length: int, start: dict[int, float], end: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    s = np.full(length, NEG, dtype=np.float32)
    e = np.full(length, NEG, dtype=np.float32)
    for position, value in start.items():
        s[position] = value
    for position, value in end.items():
        e[position] = value
    return s, e


def one_window() -> tuple[EvalFeatures, np.ndarray, np.ndarray]:
    """One window; context tokens at positions 4..10; best span 'cat sat' (positions 5..6)."""
    features = features_of([window(WORDS)], [0], [CONTEXT])
    s, e = logits_for(12, {5: 3.0, 8: 1.0, 0: 2.0}, {6: 2.0, 9: 1.5, 0: 1.0})
    return features, s[None], e[None]


# --------------------------------------------------------------------------------------------------------
# DecodingConfig


def test_squad_configs_and_properties(pm: Any) -> None:
    v1 = DecodingConfig.squad_v1(plugin_manager=pm)
    assert v1.strategies == ("length-capped", "n-best")
    assert (v1.max_answer_length, v1.n_best_size, v1.null_threshold) == (30, 20, None)
    v2 = DecodingConfig.squad_v2(max_answer_length=15, n_best_size=5, null_threshold=1.5, plugin_manager=pm)
    assert v2.strategies == ("length-capped", "n-best", "null-answer")
    assert (v2.max_answer_length, v2.n_best_size, v2.null_threshold) == (15, 5, 1.5)
    assert v2.with_null_threshold(-2).null_threshold == -2.0
    assert v2.with_null_threshold(-2) != v2
    assert v2.with_options("n-best", top_k=3).options["n-best"].top_k == 3
    with pytest.raises(ConfigError, match="no 'null-answer' strategy"):
        v1.with_null_threshold(1.0)


def test_config_json_round_trip(pm: Any, tmp_path: Path) -> None:
    config = DecodingConfig.squad_v2(null_threshold=-1.25, top_k=4, plugin_manager=pm)
    data = config.to_dict()
    assert data["format_version"] == 1
    assert data["options"]["null-answer"] == {"null_threshold": -1.25}
    assert data["options"]["n-best"] == {"n_best_size": 20, "top_k": 4}
    assert DecodingConfig.from_dict(json.loads(json.dumps(data)), plugin_manager=pm) == config
    path = config.save(tmp_path / "decoding.json")
    assert DecodingConfig.load(path, plugin_manager=pm) == config


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(format_version=99), "format_version"),
        (lambda d: d.update(extra=1), "extra: unknown key"),
        (lambda d: d.pop("strategies"), "strategies: missing"),
        (lambda d: d.update(strategies="n-best"), "strategies: expected a list"),
        (lambda d: d["options"]["n-best"].update(n_best=3), r"options\.n-best\.n_best: unknown option"),
        (lambda d: d["options"]["n-best"].update(n_best_size="20"), "n_best_size must be an integer"),
        (lambda d: d["options"]["n-best"].update(n_best_size=True), "n_best_size must be an integer"),
        (lambda d: d["options"]["n-best"].update(n_best_size=0), "n_best_size must be an integer >= 1"),
        (lambda d: d["options"]["n-best"].update(top_k=50), "top_k .* cannot exceed"),
        (lambda d: d["options"]["length-capped"].update(max_answer_length=0), "max_answer_length"),
        (lambda d: d["options"]["null-answer"].update(null_threshold="x"), "null_threshold must be a number"),
        (lambda d: d["options"]["null-answer"].update(null_threshold=float("nan")), "null_threshold"),
        (lambda d: d["options"].update({"prefer-longer": {}}), r"options\.prefer-longer"),
        (lambda d: d.update(strategies=["n-best", "n-best"]), "more than once"),
        (lambda d: d.update(strategies=["nbest"], options={}), "unknown decoding strategy 'nbest'"),
    ],
)
def test_config_errors_name_the_key(pm: Any, mutate: Any, expected: str) -> None:
    data = DecodingConfig.squad_v2(plugin_manager=pm).to_dict()
    mutate(data)
    with pytest.raises(ConfigError, match=expected):
        DecodingConfig.from_dict(data, plugin_manager=pm)


def test_config_load_errors_name_the_file(pm: Any, tmp_path: Path) -> None:
    bad = tmp_path / "decoding.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"decoding\.json: not valid JSON"):
        DecodingConfig.load(bad, plugin_manager=pm)
    bad.write_text(
        json.dumps({"format_version": 1, "strategies": ["n-best"], "options": {"n-best": {"k": 1}}})
    )
    with pytest.raises(ConfigError, match=r"decoding\.json: options\.n-best\.k"):
        DecodingConfig.load(bad, plugin_manager=pm)
    with pytest.raises(ConfigError, match="cannot read"):
        DecodingConfig.load(tmp_path / "missing.json", plugin_manager=pm)


def test_config_construction_checks(pm: Any) -> None:
    options = LengthCappedOptions(max_answer_length=5)
    config = DecodingConfig(("length-capped",), {"length-capped": options})
    assert config.max_answer_length == 5
    with pytest.raises(ConfigError, match="no entry for strategy 'n-best'"):
        DecodingConfig(("length-capped", "n-best"), {"length-capped": options})
    with pytest.raises(ConfigError, match="is not used"):
        DecodingConfig((), {"length-capped": options})
    with pytest.raises(ConfigError, match="Options object"):
        DecodingConfig(("length-capped",), {"length-capped": {"max_answer_length": 5}})
    with pytest.raises(ConfigError, match="unknown option"):
        config.with_options("length-capped", cap=3)
    with pytest.raises(ConfigError, match="expects options of type"):
        SpanDecoder(DecodingConfig(("n-best",), {"n-best": options}), plugin_manager=pm)
    with pytest.raises(TypeError):
        hash(config)  # it holds a mapping: equal configs compare equal, but it is not hashable


# --------------------------------------------------------------------------------------------------------
# What is decoded


def test_best_span_text_offsets_and_probabilities(pm: Any) -> None:
    features, s, e = one_window()
    decoder = SpanDecoder(DecodingConfig.squad_v1(n_best_size=3, plugin_manager=pm), plugin_manager=pm)
    prediction = decoder.decode(s, e, features)["q0"]
    assert (prediction.text, prediction.start, prediction.end) == ("cat sat", 4, 11)
    assert prediction.score == pytest.approx(5.0)
    assert [answer.text for answer in prediction.n_best] == ["cat sat", "cat sat on the mat", "the mat"]
    scores = np.array([5.0, 4.5, 2.5])
    assert [a.probability for a in prediction.n_best] == pytest.approx(np.exp(scores) / np.exp(scores).sum())
    assert prediction.n_best[0] == Answer("cat sat", 4, 11, 5.0, prediction.probability, 0)
    assert not prediction.is_null and prediction.null_score_diff is None and prediction.flag is None
    # The question and CLS tokens carry high logits but are never part of an answer.
    assert all(answer.start >= 0 for answer in prediction.n_best)


def test_n_best_reads_like_a_tuple(pm: Any) -> None:
    """Answers are built on access, in bulk for slices and iteration: every way of reading them agrees."""
    features, s, e = one_window()
    decoder = SpanDecoder(DecodingConfig.squad_v1(n_best_size=5, plugin_manager=pm), plugin_manager=pm)
    n_best = decoder.decode(s, e, features)["q0"].n_best
    answers = tuple(n_best[i] for i in range(len(n_best)))
    assert len(answers) == 5 and tuple(n_best) == answers and n_best == answers
    for part in (slice(None), slice(None, None, -1), slice(1, 3), slice(None, None, -2), slice(-2, None)):
        assert n_best[part] == answers[part], part
    assert n_best[7:] == () and n_best[-1] == answers[-1]


def test_length_cap_is_exact(pm: Any) -> None:
    features, s, e = one_window()
    config = DecodingConfig.squad_v1(max_answer_length=1, n_best_size=2, plugin_manager=pm)
    prediction = SpanDecoder(config, plugin_manager=pm).decode(s, e, features)["q0"]
    # Single-token spans only: 'sat' (start 6 is NEG + end 6 = 2.0) vs 'cat' (3.0 + NEG): both tiny; the
    # cap is respected whatever the scores.
    assert all(len(answer.text.split()) == 1 for answer in prediction.n_best)


def test_left_padding_and_wider_logits_decode_the_same(pm: Any) -> None:
    features, s, e = one_window()
    decoder = SpanDecoder(DecodingConfig.squad_v1(plugin_manager=pm), plugin_manager=pm)
    expected = decoder.decode(s, e, features)
    left = features_of([window(WORDS)], [0], [CONTEXT], padding_side="left")
    pad = np.full((1, 5), 99.0, dtype=np.float32)  # padding columns hold garbage the decoder must skip
    assert decoder.decode(np.hstack([pad, s]), np.hstack([pad, e]), left) == expected
    assert decoder.decode(np.hstack([s, pad]), np.hstack([e, pad]), features) == expected


def test_windows_merge_by_character_span(pm: Any) -> None:
    # Two overlapping windows of one example; 'sat on' appears in both with different scores.
    rows = [window(WORDS[:5]), window(WORDS[2:])]
    features = features_of(rows, [0, 0], [CONTEXT])
    s1, e1 = logits_for(10, {6: 2.0}, {7: 2.0})  # 'sat on' = 4.0 in window 0 (positions 6..7)
    s2, e2 = logits_for(10, {4: 3.0, 5: 1.0}, {5: 3.0, 6: 0.5})  # 'sat on' = 6.0 in window 1 (positions 4..5)
    config = DecodingConfig.squad_v1(n_best_size=4, plugin_manager=pm)
    prediction = SpanDecoder(config, plugin_manager=pm).decode(
        np.stack([s1, s2]), np.stack([e1, e2]), features
    )["q0"]
    texts = [answer.text for answer in prediction.n_best]
    assert texts[0] == "sat on" and texts.count("sat on") == 1
    assert prediction.n_best[0].score == 6.0 and prediction.n_best[0].window == 1
    assert len(set(texts)) == len(texts) == 4  # always k distinct answers when the text has them


def test_top_k_reports_fewer_than_kept(pm: Any) -> None:
    features, s, e = one_window()
    config = DecodingConfig.squad_v1(n_best_size=5, top_k=2, plugin_manager=pm)
    prediction = SpanDecoder(config, plugin_manager=pm).decode(s, e, features)["q0"]
    assert len(prediction.n_best) == 2
    assert sum(a.probability for a in prediction.n_best) < 1.0  # softmax over all 5 kept candidates


def test_example_without_context_tokens_is_flagged(pm: Any) -> None:
    rows = [window(WORDS), [(-1, -1)] * 5]
    features = features_of(rows, [0, 1], [CONTEXT, "unused context"])
    s = np.zeros((2, 12), dtype=np.float32)
    for config, null in (
        (DecodingConfig.squad_v1(plugin_manager=pm), False),
        (DecodingConfig.squad_v2(plugin_manager=pm), True),
    ):
        predictions = SpanDecoder(config, plugin_manager=pm).decode(s, s, features)
        empty = predictions["q1"]
        assert (empty.text, empty.start, empty.end, empty.flag) == ("", None, None, "no-context")
        assert empty.n_best == ()
        assert empty.is_null is null
        if null:
            assert empty.null_score_diff == math.inf and empty.probability == 1.0
        assert predictions["q0"].flag is None


def test_null_answer_uses_each_windows_cls_and_the_minimum(pm: Any) -> None:
    # CLS last (XLNet-like) in both windows of one example; the null score is the minimum over windows.
    rows = [[*window(WORDS[:4])[1:], (-1, -1)], [*window(WORDS[3:])[1:], (-1, -1)]]
    cls = [len(rows[0]) - 1, len(rows[1]) - 1]
    features = features_of(rows, [0, 0], [CONTEXT], cls_index=cls)
    s = np.full((2, 10), NEG, dtype=np.float32)
    e = np.full((2, 10), NEG, dtype=np.float32)
    s[0, 4], e[0, 4] = 1.0, 1.0  # 'cat' = 2.0 (three question/special tokens come first)
    s[0, cls[0]], e[0, cls[0]] = 3.0, 2.0  # null 5.0 in window 0
    s[1, cls[1]], e[1, cls[1]] = 2.0, 2.0  # null 4.0 in window 1: the minimum
    s[:, 0] = e[:, 0] = 50.0  # position 0 is a question token here, not CLS: must be ignored
    decoder = SpanDecoder(DecodingConfig.squad_v2(plugin_manager=pm), plugin_manager=pm)
    prediction = decoder.decode(s, e, features)["q0"]
    assert prediction.null_score == 4.0
    assert prediction.null_score_diff == pytest.approx(2.0)
    assert prediction.is_null and prediction.text == "" and prediction.best_span_text == "cat"
    assert prediction.score == 4.0
    probability = math.exp(4.0) / (math.exp(4.0) + math.exp(2.0))
    assert prediction.probability == pytest.approx(probability)
    assert prediction.n_best[0].probability == pytest.approx(1 - probability)

    at_threshold = SpanDecoder(
        DecodingConfig.squad_v2(null_threshold=2.0, plugin_manager=pm), plugin_manager=pm
    )
    kept = at_threshold.decode(s, e, features)["q0"]  # null iff diff > threshold: 2.0 > 2.0 is false
    assert not kept.is_null and kept.text == "cat" and kept.start == 4


def test_apply_null_threshold_flips_without_decoding_again(pm: Any) -> None:
    features = make_features(np.random.default_rng(3), n_examples=12)
    start, end = random_logits(features, np.random.default_rng(4))
    config = DecodingConfig.squad_v2(plugin_manager=pm)
    predictions = SpanDecoder(config, plugin_manager=pm).decode(start, end, features)
    for threshold in (-5.0, 0.0, 5.0):
        tuned = config.with_null_threshold(threshold)
        expected = SpanDecoder(tuned, plugin_manager=pm).decode(start, end, features)
        assert SpanDecoder(tuned, plugin_manager=pm).apply_null_threshold(predictions) == expected
    with pytest.raises(ConfigError, match="no 'null-answer' strategy"):
        SpanDecoder(DecodingConfig.squad_v1(plugin_manager=pm), plugin_manager=pm).apply_null_threshold(
            predictions
        )


def test_prediction_to_dict_is_json_ready(pm: Any) -> None:
    features, s, e = one_window()
    prediction = SpanDecoder(
        DecodingConfig.squad_v2(n_best_size=2, plugin_manager=pm), plugin_manager=pm
    ).decode(s, e, features)["q0"]
    data = json.loads(json.dumps(prediction.to_dict()))
    assert data["text"] == "cat sat" and data["n_best"][0]["text"] == "cat sat"
    assert set(data) >= {
        "example_id",
        "start",
        "end",
        "score",
        "probability",
        "is_null",
        "null_score_diff",
        "best_span_text",
        "n_best",
        "flag",
    }
    # n-best lists are lazy but behave like tuples of answers.
    assert prediction.n_best == tuple(prediction.n_best)
    assert hash(prediction) == hash(attrs.evolve(prediction, n_best=tuple(prediction.n_best)))
    assert prediction.n_best[:1] == (prediction.n_best[0],)


# --------------------------------------------------------------------------------------------------------
# Streaming


def test_stream_in_any_batch_order_equals_decode(pm: Any) -> None:
    rng = np.random.default_rng(11)
    features = make_features(rng, n_examples=15)
    start, end = random_logits(features, rng)
    decoder = SpanDecoder(DecodingConfig.squad_v2(n_best_size=4, plugin_manager=pm), plugin_manager=pm)
    expected = decoder.decode(start, end, features)
    stream = decoder.stream(features)
    order = rng.permutation(len(features))
    for batch in np.array_split(order, 5):
        stream.add(torch.from_numpy(start[batch]), torch.from_numpy(end[batch]), torch.from_numpy(batch))
    assert stream.finish() == expected
    sequential = decoder.stream(features)
    for batch in np.array_split(np.arange(len(features)), 3):
        sequential.add(start[batch], end[batch])  # default window indices: the next windows
    assert sequential.finish() == expected
    check_predictions(expected, features, decoder)


def test_stream_keeps_only_candidates(pm: Any) -> None:
    """Memory is per-window candidates, independent of the window length."""
    rng = np.random.default_rng(5)
    base = make_features(rng, n_examples=10)
    start, end = random_logits(base, rng, extra_columns=0)
    decoder = SpanDecoder(DecodingConfig.squad_v2(n_best_size=3, plugin_manager=pm), plugin_manager=pm)
    sizes = []
    for extra in (0, 500):  # the same windows, padded to very different widths
        offsets = np.concatenate([base.offsets, np.full((len(base), extra, 2), -1, dtype=np.int32)], axis=1)
        features = EvalFeatures.from_offsets(
            offsets,
            [base.example_ids[i] for i in base.example_index],
            dict(zip(base.example_ids, base.contexts, strict=True)),
        )
        pad = np.full((len(base), offsets.shape[1] - start.shape[1]), -5.0, dtype=np.float32)
        stream = decoder.stream(features)
        for batch in np.array_split(np.arange(len(base)), 3):
            stream.add(np.hstack([start, pad])[batch], np.hstack([end, pad])[batch], batch)
        sizes.append(stream.nbytes)
        for chunk in stream._chunks:  # only candidate rows: at most n_best_size per window
            assert chunk.window.size <= 3 * len(base)
    assert sizes[0] == sizes[1]
    assert sizes[0] < len(base) * 3 * 40 + len(base) * 16


def test_stream_errors(pm: Any) -> None:
    features, s, e = one_window()
    decoder = SpanDecoder(DecodingConfig.squad_v1(plugin_manager=pm), plugin_manager=pm)
    stream = decoder.stream(features)
    with pytest.raises(DataError, match="1 of 1 windows were never added"):
        stream.finish()
    stream.add(s, e, [0])
    with pytest.raises(DataError, match="window 0 was already added"):
        stream.add(s, e, [0])
    with pytest.raises(DataError, match="window index 3 is out of range"):
        decoder.stream(features).add(s, e, [3])
    with pytest.raises(DataError, match="2 rows of logits but 1 window indices"):
        decoder.stream(features).add(np.vstack([s, s]), np.vstack([e, e]), [0])
    with pytest.raises(DataError, match="more than once"):
        decoder.stream(features).add(np.vstack([s, s]), np.vstack([e, e]), [0, 0])
    with pytest.raises(DataError, match="expects EvalFeatures"):
        decoder.stream({"offsets": []})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------
# Bad logits


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda s, e: (s.tolist(), e), "must be a numpy array or a torch tensor, got builtins.list"),
        (lambda s, e: (s.astype(np.int64), e.astype(np.int64)), "floating-point logits"),
        (lambda s, e: (s[0], e[0]), r"\(windows, tokens\) arrays"),
        (lambda s, e: (s, e[:, :-1]), "of the same shape"),
        (
            lambda s, e: (s[:, :8], e[:, :8]),
            "logits have 8 columns but window 0 \\(example 'q0'\\) has 12 tokens",
        ),
        (lambda s, e: (torch.from_numpy(s), e), "must both be numpy arrays or both torch tensors"),
        (
            lambda s, e: (np.where(np.arange(12) == 6, np.nan, s).astype(np.float32), e),
            "window 0 \\(example 'q0'\\).*NaN",
        ),
        (lambda s, e: (s, np.where(np.arange(12) == 6, np.inf, e).astype(np.float32)), "NaN or \\+inf"),
        (
            lambda s, e: (
                torch.from_numpy(np.where(np.arange(12) == 6, np.nan, s).astype(np.float32)),
                torch.from_numpy(e),
            ),
            "NaN",
        ),
    ],
)
def test_bad_logits_raise_data_errors(pm: Any, make: Any, expected: str) -> None:
    features, s, e = one_window()
    start, end = make(s, e)
    with pytest.raises(DataError, match=expected):
        SpanDecoder(DecodingConfig.squad_v1(plugin_manager=pm), plugin_manager=pm).decode(
            start, end, features
        )


def test_nan_outside_the_window_tokens_is_ignored_but_not_at_cls_with_null(pm: Any) -> None:
    features, s, e = one_window()
    s = s.copy()
    s[0, 2] = np.nan  # a question token
    decoder = SpanDecoder(DecodingConfig.squad_v1(plugin_manager=pm), plugin_manager=pm)
    assert decoder.decode(s, e, features)["q0"].text == "cat sat"
    s[0, 0] = np.nan  # the CLS token matters only for the null answer
    assert decoder.decode(s, e, features)["q0"].text == "cat sat"
    with pytest.raises(DataError, match="CLS logits"):
        SpanDecoder(DecodingConfig.squad_v2(plugin_manager=pm), plugin_manager=pm).decode(s, e, features)


def test_cls_index_outside_the_window_is_a_data_error(pm: Any) -> None:
    features = features_of([window(WORDS)], [0], [CONTEXT], cls_index=[40])
    with pytest.raises(DataError, match="cls_index 40 is outside the window"):
        SpanDecoder(plugin_manager=pm).stream(features)


def test_backends_agree_in_every_dtype(pm: Any) -> None:
    rng = np.random.default_rng(21)
    features = make_features(rng, n_examples=10, padding_side="left", shared_offsets=True, cls_at_end=True)
    start, end = random_logits(features, rng)
    config = DecodingConfig.squad_v2(n_best_size=5, plugin_manager=pm)
    decoders = [SpanDecoder(config, plugin_manager=pm, backend=b) for b in ("auto", "numpy", "torch")]
    expected = decoders[0].decode(start, end, features)
    for decoder in decoders:
        for dtype in (np.float16, np.float32, np.float64):
            arrays = start.astype(dtype), end.astype(dtype)
            reference = decoders[0].decode(*arrays, features)
            assert decoder.decode(*arrays, features) == reference
            assert decoder.decode(*(torch.from_numpy(a) for a in arrays), features) == reference
        assert decoder.decode(torch.from_numpy(start), torch.from_numpy(end), features) == expected
        bf16 = torch.from_numpy(start).bfloat16(), torch.from_numpy(end).bfloat16()
        check_predictions(decoder.decode(*bf16, features), features, decoder)
    wide = decoders[0].decode(start.astype(np.float64), end.astype(np.float64), features)
    assert [p.text for p in wide.values()] == [p.text for p in expected.values()]
    with pytest.raises(ConfigError, match="backend must be"):
        SpanDecoder(config, plugin_manager=pm, backend="jax")  # type: ignore[arg-type]


def test_unknown_strategy_in_config_is_a_plugin_error(pm: Any) -> None:
    options = LengthCappedOptions()
    config = DecodingConfig(("length-capped", "made-up"), {"length-capped": options, "made-up": options})
    with pytest.raises(PluginError, match="unknown decoding strategy 'made-up'"):
        SpanDecoder(config, plugin_manager=pm)
