"""Span-search cases found by mutation testing (``scripts/mutation_test.py search``).

Each test pins an output that a surviving mutant of :mod:`spanqa.decode._search` changed while the rest
of the suite still passed. The character-span helpers are called directly on hand-made spans; the rest
goes through :class:`~spanqa.decode.SpanDecoder`. Expected values are worked out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spanqa.decode import DecodingConfig, SpanDecoder
from spanqa.decode._search import CharOffsets, Spans, row_score_order, top_distinct, top_k_per_row
from spanqa.errors import DataError
from spanqa.features import EvalFeatures
from spanqa.plugins import make_plugin_manager

PM = make_plugin_manager(load_entrypoints=False)


def spans(row: list[int], start: list[int], end: list[int], score: list[float]) -> Spans:
    return Spans(
        np.array(row, dtype=np.intp),
        np.array(start, dtype=np.intp),
        np.array(end, dtype=np.intp),
        np.array(score, dtype=np.float32),
    )


def char_offsets(offsets: list[list[tuple[int, int]]]) -> CharOffsets:
    """Chunk rows = windows 0..n-1, chunk column 0 = window column 0."""
    array = np.array(offsets, dtype=np.int32)
    return CharOffsets(array.reshape(-1), array.shape[1], np.arange(array.shape[0]), 0)


# --------------------------------------------------------------------------------------------------------
# top_distinct: distinct character spans per row
# --------------------------------------------------------------------------------------------------------


def test_the_same_character_span_in_two_rows_is_kept_in_each() -> None:
    """Windows 0 and 1 both hold characters [0, 5): one span per row, not a duplicate across rows."""
    chars = char_offsets([[(0, 5), (5, 9)], [(0, 5), (5, 9)]])
    found = spans(row=[0, 1], start=[0, 0], end=[0, 0], score=[1.0, 2.0])
    kept, counts = top_distinct(found, chars, k=1)
    assert kept.row.tolist() == [0, 1]
    assert kept.score.tolist() == [1.0, 2.0]
    assert counts.tolist() == [1, 1]


def test_duplicates_inside_a_row_keep_the_best_copy() -> None:
    """Tokens 0 and 1 share offsets: spans (0, 1) and (1, 1) of row 0 are both characters [0, 4)."""
    chars = char_offsets([[(0, 4), (0, 4), (5, 9)]])
    found = spans(row=[0, 0, 0], start=[0, 1, 2], end=[1, 1, 2], score=[1.0, 3.0, 2.0])
    kept, counts = top_distinct(found, chars, k=5)
    assert list(zip(kept.start.tolist(), kept.end.tolist(), kept.score.tolist(), strict=True)) == [
        (1, 1, 3.0),
        (2, 2, 2.0),
    ]
    assert counts.tolist() == [2]


def test_counts_cover_every_row_and_k_caps_each_row() -> None:
    """Three rows, spans only in row 0 (two distinct): k=1 keeps its best; counts has a zero per other row."""
    chars = char_offsets([[(0, 4), (5, 9)], [(0, 4), (5, 9)], [(0, 4), (5, 9)]])
    found = spans(row=[0, 0], start=[0, 1], end=[0, 1], score=[1.0, 2.0])
    kept, counts = top_distinct(found, chars, k=1)
    assert (kept.row.tolist(), kept.start.tolist(), kept.score.tolist()) == ([0], [1], [2.0])
    assert counts.tolist() == [2, 0, 0]


# --------------------------------------------------------------------------------------------------------
# Ranking inside a window: row_score_order and top_k_per_row
# --------------------------------------------------------------------------------------------------------


def test_float32_ranking_keeps_tiny_score_differences() -> None:
    """1e-8 < 2e-8 in float32; a ranking key built on ``score + 1.0`` would tie them (both 1.0)."""
    row = np.zeros(2, dtype=np.intp)
    assert row_score_order(row, np.array([1e-8, 2e-8], dtype=np.float32)).tolist() == [1, 0]
    assert row_score_order(row, np.array([2e-8, 1e-8], dtype=np.float32)).tolist() == [0, 1]


def test_float32_ranking_ties_minus_zero_with_zero() -> None:
    """-0.0 == +0.0: a tie, so both keep their order (the tie order is the spans' own order)."""
    row = np.zeros(2, dtype=np.intp)
    assert row_score_order(row, np.array([-0.0, 0.0], dtype=np.float32)).tolist() == [0, 1]
    assert row_score_order(row, np.array([0.0, -0.0], dtype=np.float32)).tolist() == [0, 1]
    # Rows first, then score (highest first), then the given order.
    rows = np.array([1, 0, 1, 0], dtype=np.intp)
    scores = np.array([2.0, -1.0, 3.0, -0.5], dtype=np.float32)
    assert row_score_order(rows, scores).tolist() == [3, 1, 2, 0]


def test_top_k_per_row_keeps_k_spans_of_every_row() -> None:
    found = spans(row=[0, 0, 0, 2, 2], start=[0, 1, 2, 0, 1], end=[0, 1, 2, 0, 1], score=[1, 3, 2, 5, 4])
    assert top_k_per_row(found, 1, 3).tolist() == [1, 3]
    assert top_k_per_row(found, 2, 3).tolist() == [1, 2, 3, 4]


# --------------------------------------------------------------------------------------------------------
# The torch backend
# --------------------------------------------------------------------------------------------------------


def features(n_tokens: int) -> EvalFeatures:
    offsets = np.array([[(2 * i, 2 * i + 1) for i in range(n_tokens)]], dtype=np.int32)
    return EvalFeatures.from_offsets(offsets, ["x"], {"x": "ab" * n_tokens})


def decoder(backend: str, max_answer_length: int | None = None, n_best_size: int = 3) -> SpanDecoder:
    names = ["n-best"] + (["length-capped"] if max_answer_length else [])
    options = {"n-best": {"n_best_size": n_best_size}}
    if max_answer_length:
        options["length-capped"] = {"max_answer_length": max_answer_length}
    config = DecodingConfig.compose(names, options, plugin_manager=PM)
    return SpanDecoder(config, plugin_manager=PM, backend=backend)


def test_torch_half_precision_logits_are_summed_in_float32() -> None:
    """float16 logits 1.0 and 0.0004 (float16: 0.0003998...): their float32 sum is 1.0003998, while a
    float16 sum rounds to 1.0. One-token spans, so nothing else promotes the sum."""
    start = torch.tensor([[1.0, -8.0, -8.0]], dtype=torch.float16)
    end = torch.tensor([[0.0004, -8.0, -8.0]], dtype=torch.float16)
    expected = float(np.float32(1.0) + np.float32(np.float16(0.0004)))
    assert expected != 1.0
    prediction = decoder("torch", max_answer_length=1).decode(start, end, features(3))["x"]
    assert (prediction.start, prediction.end) == (0, 1)
    assert prediction.score == expected
    on_numpy = decoder("numpy", max_answer_length=1).decode(
        start.float().numpy(), end.float().numpy(), features(3)
    )
    assert prediction == on_numpy["x"]


@pytest.mark.parametrize("backend", ["torch", "numpy"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_context_logits_are_refused_on_every_backend(backend: str, bad: float) -> None:
    start = torch.tensor([[0.5, bad, 0.0]])
    end = torch.tensor([[0.0, 0.1, 0.2]])
    with pytest.raises(DataError, match="logits of context tokens must be finite or -inf"):
        decoder(backend).decode(start, end, features(3))


# --------------------------------------------------------------------------------------------------------
# Windows whose token order is not character order
# --------------------------------------------------------------------------------------------------------


def one_token_spans(offsets: list[tuple[int, int]], start: list[float]) -> tuple[int | None, int | None]:
    """The best one-token span's characters, CLS at column 0 and every token scoring ``start[i]``."""
    array = np.array([[(-1, -1), *offsets]], dtype=np.int32)
    feats = EvalFeatures.from_offsets(array, ["x"], {"x": "c" * 20})
    logits = np.array([[-50.0, *start]], dtype=np.float32)
    prediction = decoder("numpy", max_answer_length=1).decode(logits, np.zeros_like(logits), feats)["x"]
    return prediction.start, prediction.end


def test_a_later_token_starting_earlier_ranks_first_on_a_tie() -> None:
    """Tokens at characters [5, 6) and [0, 9), in that order, with equal scores: the tie goes to the lower
    start character, [0, 9), as when token order is character order."""
    assert one_token_spans([(5, 6), (0, 9)], [1.0, 1.0]) == (0, 9)
    assert one_token_spans([(0, 9), (5, 6)], [1.0, 1.0]) == (0, 9)


def test_a_token_back_at_the_first_start_ranks_by_characters_on_a_tie() -> None:
    """Tokens at [0, 2), [3, 4), [0, 9): the last two tie; [0, 9) starts first, so it wins."""
    assert one_token_spans([(0, 2), (3, 4), (0, 9)], [-5.0, 1.0, 1.0]) == (0, 9)


def test_null_scores_of_a_later_group_of_windows_are_their_own() -> None:
    """130 windows, 128 short ones and 2 wide ones: the decoder searches them in two groups, the second
    one a slice of rows starting at window 128. Each window is its own example; its null score is its own
    CLS start + end logits."""
    n, width = 130, 12
    offsets = np.full((n, width, 2), -1, dtype=np.int32)
    offsets[:, 1] = (0, 1)  # one context token in every window ...
    offsets[128:, 1:] = [(i, i + 1) for i in range(width - 1)]  # ... eleven in the last two
    ids = [f"e{i}" for i in range(n)]
    feats = EvalFeatures.from_offsets(offsets, ids, dict.fromkeys(ids, "c" * 20))
    start = np.zeros((n, width), dtype=np.float32)
    end = np.zeros((n, width), dtype=np.float32)
    start[:, 0] = np.arange(n)  # CLS logits: window i has the null score 3 * i
    end[:, 0] = 2 * np.arange(n)
    config = DecodingConfig.squad_v2(plugin_manager=PM)
    predictions = SpanDecoder(config, plugin_manager=PM).decode(start, end, feats)
    assert [predictions[f"e{i}"].null_score for i in (0, 127, 128, 129)] == [0.0, 381.0, 384.0, 387.0]


def test_the_best_span_is_found_with_a_length_cap_of_five() -> None:
    """Cap 5 (not a power of two): the sliding maximum over ends [0, 5) must see the end at token 2."""
    start = np.array([[0.0, -9.0, -9.0, -9.0, -9.0]], dtype=np.float32)
    end = np.array([[-9.0, -9.0, 3.0, -9.0, -9.0]], dtype=np.float32)
    offsets = np.array([[(2 * i, 2 * i + 1) for i in range(5)]], dtype=np.int32)
    feats = EvalFeatures.from_offsets(offsets, ["x"], {"x": "ab" * 5})
    for k in (1, 3):  # k=1: only starts whose bound reaches the best one are expanded
        prediction = decoder("numpy", max_answer_length=5, n_best_size=k).decode(start, end, feats)["x"]
        assert (prediction.start, prediction.end, prediction.score) == (0, 5, 3.0)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_logits_are_summed_in_float32(backend: str) -> None:
    """1.0 + 0.0004 in float32 is 1.00039994716644287109375 (float64 would give 1.0004000000...)."""
    start = np.array([[1.0, -8.0, -8.0]], dtype=np.float32)
    end = np.array([[0.0004, -8.0, -8.0]], dtype=np.float32)
    expected = float(np.float32(1.0) + np.float32(0.0004))
    assert expected != 1.0 + float(np.float32(0.0004))
    logits = (torch.from_numpy(start), torch.from_numpy(end)) if backend == "torch" else (start, end)
    prediction = decoder(backend).decode(*logits, features(3))["x"]
    assert (prediction.start, prediction.end, prediction.score) == (0, 1, expected)


def test_a_two_token_window_out_of_character_order_ranks_by_characters() -> None:
    """Only two columns, [5, 6) then [0, 9), tied: the window is not monotone, so the tie goes to [0, 9)."""
    offsets = np.array([[(5, 6), (0, 9)]], dtype=np.int32)
    feats = EvalFeatures.from_offsets(offsets, ["x"], {"x": "c" * 20})
    logits = np.array([[1.0, 1.0]], dtype=np.float32)
    prediction = decoder("numpy", max_answer_length=1).decode(logits, np.zeros_like(logits), feats)["x"]
    assert (prediction.start, prediction.end) == (0, 9)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_scores_that_tie_in_float32_tie(backend: str) -> None:
    """Spans [0, 1) = 1.0 + 0.0 and [0, 3) = 1.0 + 2**-24: the second sum rounds to 1.0 in float32 (a tie
    to even), so the two tie and the shorter span wins; summed in float64 the longer one would win."""
    start = np.array([[1.0, -50.0]], dtype=np.float32)
    end = np.array([[0.0, 2.0**-24]], dtype=np.float32)
    assert np.float32(1.0) + np.float32(2.0**-24) == np.float32(1.0)
    logits = (torch.from_numpy(start), torch.from_numpy(end)) if backend == "torch" else (start, end)
    prediction = decoder(backend, n_best_size=1).decode(*logits, features(2))["x"]
    assert (prediction.start, prediction.end, prediction.score) == (0, 1, 1.0)
