"""Exactness, against a brute force over every token pair: random and adversarial logits (ties, -inf,
huge values, masked tokens, windows without context tokens, length cap 1, single-token contexts, shared
offsets, left padding, overlapping windows), numpy and torch."""

from __future__ import annotations

import itertools
import math
from typing import Any

import attrs
import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanqa.decode import DecodingConfig, Prediction, SpanDecoder
from spanqa.features import EvalFeatures
from spanqa.plugins import make_plugin_manager
from spanqa.testing import check_predictions

PM = make_plugin_manager(load_entrypoints=False)
#: Logit values that make ties, masked tokens and huge scores likely.
ADVERSARIAL = [-math.inf, -1e4, -2.0, 0.0, 0.5, 1.0, 3.0, 1e4]


@attrs.frozen
class Case:
    features: EvalFeatures
    start: np.ndarray
    end: np.ndarray
    cap: int | None
    k: int
    null: bool
    relative: bool


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n_examples = draw(st.integers(1, 3))
    n_windows = draw(st.integers(1, 4))
    padding_side = draw(st.sampled_from(["right", "left"]))
    shared = draw(st.booleans())
    rows: list[list[tuple[int, int]]] = []
    cls_index: list[int] = []
    example_index: list[int] = []
    for _ in range(n_windows):
        length = draw(st.integers(1, 10))
        context = draw(st.lists(st.booleans(), min_size=length, max_size=length))
        base = draw(st.integers(0, 4))  # windows of one example overlap in characters
        row: list[tuple[int, int]] = []
        word = base
        for is_context in context:
            if not is_context:
                row.append((-1, -1))
                continue
            row.append((2 * word, 2 * word + 1 + draw(st.integers(0, 1))))
            if not (shared and draw(st.booleans())):  # else the next token shares these offsets
                word += 1
        rows.append(row)
        cls_index.append(draw(st.integers(0, length - 1)))
        example_index.append(draw(st.integers(0, n_examples - 1)))
    width = max(len(row) for row in rows) + draw(st.integers(0, 2))
    offsets = np.full((n_windows, width, 2), -1, dtype=np.int32)
    for i, row in enumerate(rows):
        offsets[i, : len(row)] = row
    lengths = [len(row) for row in rows]
    features = EvalFeatures(
        input_ids=[list(range(n)) for n in lengths],
        attention_mask=[[1] * n for n in lengths],
        token_type_ids=None,
        offsets=offsets,
        lengths=np.array(lengths),
        cls_index=np.array(cls_index),
        example_index=np.array(example_index),
        example_ids=[f"e{i}" for i in range(n_examples)],
        contexts=["abcdefghijklmnopqrstuvwxyz0123456789"] * n_examples,
        padding_side=padding_side,
    )
    values = st.one_of(st.sampled_from(ADVERSARIAL), st.floats(-5, 5, width=32))
    logits = [
        np.array(
            draw(st.lists(values, min_size=n_windows * width, max_size=n_windows * width)), dtype=np.float32
        ).reshape(n_windows, width)
        for _ in range(2)
    ]
    cap = draw(st.one_of(st.none(), st.integers(1, 6)))
    relative = draw(st.booleans())
    if relative:  # null-relative needs finite CLS logits (tested on its own below)
        for window in range(n_windows):
            cls = column(features, window, cls_index[window], width)
            for array in logits:
                if not math.isfinite(array[window, cls]):
                    array[window, cls] = draw(st.sampled_from([-1e4, 0.0, 2.0]))
    return Case(features, logits[0], logits[1], cap, draw(st.integers(1, 5)), draw(st.booleans()), relative)


def decoder_for(case: Case) -> SpanDecoder:
    names = (
        (["length-capped"] if case.cap is not None else [])
        + ["n-best"]
        + (["null-relative"] if case.relative else [])
        + (["null-answer"] if case.null else [])
    )
    options: dict[str, Any] = {"n-best": {"n_best_size": case.k}}
    if case.cap is not None:
        options["length-capped"] = {"max_answer_length": case.cap}
    return SpanDecoder(DecodingConfig.compose(names, options, plugin_manager=PM), plugin_manager=PM)


def column(features: EvalFeatures, window: int, position: int, width: int) -> int:
    if features.padding_side == "right":
        return position
    return width - int(features.lengths[window]) + position


def brute_force(case: Case) -> dict[str, Any]:
    """For every example: its top-k distinct character spans (score, start, end, window), ranked by
    score, then start, then length, then window; and its null score (minimum over windows).

    With ``case.relative`` every span's score is less its window's null score, and the null score is 0.
    Each window's own top k are chosen by raw score first: in exact arithmetic the shift keeps every
    ranking inside a window, but in floating point it can round two raw scores to one relative score,
    and the decoder (rightly) searches each window by its raw scores."""
    features, width = case.features, case.start.shape[1]
    expected: dict[str, Any] = {}
    for example, example_id in enumerate(features.example_ids):
        best: dict[tuple[int, int], tuple[float, int]] = {}
        nulls: list[float] = []
        for window in np.flatnonzero(features.example_index == example).tolist():
            length = int(features.lengths[window])
            offsets = features.offsets[window]
            cls = column(features, window, int(features.cls_index[window]), width)
            window_null = float(np.float32(case.start[window, cls]) + np.float32(case.end[window, cls]))
            nulls.append(0.0 if case.relative else window_null)
            spans: dict[tuple[int, int], float] = {}
            for i in range(length):
                for j in range(i, length if case.cap is None else min(length, i + case.cap)):
                    if offsets[i, 0] < 0 or offsets[j, 0] < 0:
                        continue
                    score = np.float32(case.start[window, column(features, window, i, width)]) + np.float32(
                        case.end[window, column(features, window, j, width)]
                    )
                    key = (int(offsets[i, 0]), int(offsets[j, 1]))
                    if score > -np.inf and (key not in spans or float(score) > spans[key]):
                        spans[key] = float(score)
            kept = sorted(spans.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))[: case.k]
            for key, score in kept:
                value = score - window_null if case.relative else score
                if key not in best or value > best[key][0]:
                    best[key] = (value, window)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0][0], item[0][1]))[: case.k]
        expected[example_id] = {
            "answers": [(score, start, end, window) for (start, end), (score, window) in ranked],
            "null": min(nulls) if nulls else None,
        }
    return expected


def answers_of(prediction: Prediction) -> list[tuple[float, int, int, int]]:
    return [(answer.score, answer.start, answer.end, answer.window) for answer in prediction.n_best]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_n_best_equals_brute_force(case: Case) -> None:
    decoder = decoder_for(case)
    predictions = decoder.decode(case.start, case.end, case.features)
    check_predictions(predictions, case.features, decoder)
    expected = brute_force(case)
    for example_id, prediction in predictions.items():
        answers = expected[example_id]["answers"]
        assert answers_of(prediction) == answers, example_id
        if not case.null:
            assert not prediction.is_null and prediction.null_score_diff is None
            assert prediction.text == (
                case.features.contexts[0][answers[0][1] : answers[0][2]] if answers else ""
            )
            continue
        null = expected[example_id]["null"]
        if not answers:
            assert prediction.is_null and prediction.null_score_diff == math.inf
            continue
        diff = (null if null is not None else -math.inf) - answers[0][0]
        assert prediction.null_score_diff == diff
        assert prediction.is_null is (diff > 0.0)
        # Probabilities: a softmax over the kept candidates and the null answer.
        scores = np.array([a[0] for a in answers] + ([null] if null is not None and null > -math.inf else []))
        weights = np.exp(scores - scores.max())
        assert [a.probability for a in prediction.n_best] == list(
            np.asarray(weights[: len(answers)] / weights.sum()).round(12)
        ) or np.allclose([a.probability for a in prediction.n_best], weights[: len(answers)] / weights.sum())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_torch_equals_numpy(case: Case) -> None:
    decoder = decoder_for(case)
    expected = decoder.decode(case.start, case.end, case.features)
    on_torch = SpanDecoder(decoder.config, plugin_manager=PM, backend="torch")
    assert (
        on_torch.decode(torch.from_numpy(case.start), torch.from_numpy(case.end), case.features) == expected
    )


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(1, 3))
def test_streaming_in_batches_equals_decode(case: Case, batches: int) -> None:
    decoder = decoder_for(case)
    expected = decoder.decode(case.start, case.end, case.features)
    stream = decoder.stream(case.features)
    order = np.arange(len(case.features))[::-1]
    for batch in np.array_split(order, batches):
        stream.add(case.start[batch], case.end[batch], batch)
    assert stream.finish() == expected


def test_best_span_is_exact_where_top_n_by_top_n_misses() -> None:
    """The best span starts at a token outside the top-20 start logits (a top-20 x top-20 search misses
    it: every top-20 start lies after the only good end)."""
    length = 64
    rng = np.random.default_rng(0)
    start = (rng.normal(0, 0.01, size=(1, length)) - 1.0).astype(np.float32)
    end = (rng.normal(0, 0.01, size=(1, length)) - 5.0).astype(np.float32)
    start[0, 11:] += 2.0  # the 20 highest start logits are all after token 10...
    start[0, 10] = -0.5
    end[0, 10] = 5.0  # ...and token 10 is the only good end
    offsets = np.stack([np.arange(length) * 2, np.arange(length) * 2 + 1], axis=1)[None].astype(np.int32)
    features = EvalFeatures.from_offsets(offsets, ["x"], {"x": "y" * (2 * length)})
    decoder = SpanDecoder(DecodingConfig.squad_v1(n_best_size=1, plugin_manager=PM), plugin_manager=PM)
    prediction = decoder.decode(start, end, features)["x"]
    assert (prediction.start, prediction.end) == (20, 21)
    assert 10 not in np.argsort(start[0])[-20:]


def test_windows_out_of_character_order_rank_by_characters() -> None:
    """Offsets that go back, tokens that share offsets and a context in two runs: token order is not
    character order there, so ties and duplicates must follow characters (as the brute force does), and
    a window with strictly increasing offsets must decode as before."""
    rows = [
        [(-1, -1), (10, 12), (12, 14), (0, 2), (2, 4), (-1, -1), (4, 6), (4, 6)],  # back, gap, shared
        [(-1, -1), (0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (-1, -1), (-1, -1)],  # increasing, one run
    ]
    offsets = np.array(rows, dtype=np.int32)
    features = EvalFeatures(
        input_ids=[list(range(8))] * 2,
        attention_mask=[[1] * 8] * 2,
        token_type_ids=None,
        offsets=offsets,
        lengths=np.array([8, 8]),
        cls_index=np.array([0, 0]),
        example_index=np.array([0, 1]),
        example_ids=["back", "plain"],
        contexts=["abcdefghijklmnopqrstuvwxyz"] * 2,
    )
    flat = np.zeros((2, 8), dtype=np.float32)  # every span ties: only the tie order ranks them
    rng = np.random.default_rng(3)
    varied = rng.integers(-2, 3, size=(2, 2, 8)).astype(np.float32)  # few distinct values: many ties
    for start, end in ((flat, flat), (varied[0], varied[1])):
        for (cap, k), relative in itertools.product(((None, 20), (3, 4), (2, 1)), (False, True)):
            case = Case(features, start, end, cap, k, False, relative)
            predictions = decoder_for(case).decode(start, end, features)
            expected = brute_force(case)
            for example_id, prediction in predictions.items():
                assert answers_of(prediction) == expected[example_id]["answers"], (example_id, cap, k)


def test_monotone_windows_marks_only_strictly_increasing_single_runs() -> None:
    from spanqa.decode._search import monotone_windows

    rows = {
        "increasing": [(-1, -1), (0, 2), (3, 5), (5, 6), (-1, -1)],
        "shared offsets": [(-1, -1), (0, 2), (0, 2), (3, 5), (-1, -1)],
        "same start, longer": [(-1, -1), (0, 2), (0, 3), (3, 5), (-1, -1)],
        "end goes back": [(-1, -1), (0, 4), (1, 3), (5, 6), (-1, -1)],
        "two runs": [(0, 2), (-1, -1), (3, 5), (6, 7), (-1, -1)],
        "no context": [(-1, -1)] * 5,
        "one token": [(-1, -1), (-1, -1), (4, 5), (-1, -1), (-1, -1)],
    }
    offsets = np.array(list(rows.values()), dtype=np.int32)
    context = offsets[:, :, 0] >= 0
    last = np.where(context.any(axis=1), 5 - context[:, ::-1].argmax(axis=1), 0)
    monotone = dict(zip(rows, monotone_windows(offsets, context, last).tolist(), strict=True))
    assert monotone == {
        "increasing": True,
        "shared offsets": False,
        "same start, longer": False,
        "end goes back": False,
        "two runs": False,
        "no context": True,
        "one token": True,
    }
