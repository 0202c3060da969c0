"""Length-grouped batches with a token budget, and the budget's resolution per device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from spanqa.batching import (
    CPU_BATCH_TOKENS,
    LengthGroupedSampler,
    length_sorted_batches,
    resolve_batch_tokens,
)
from spanqa.errors import ConfigError


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=400), min_size=0, max_size=120),
    batch_size=st.integers(min_value=1, max_value=40),
    max_tokens=st.one_of(st.none(), st.integers(min_value=1, max_value=5000)),
)
def test_every_window_once_longest_first_within_both_limits(
    lengths: list[int], batch_size: int, max_tokens: int | None
) -> None:
    array = np.array(lengths, dtype=np.int64)
    batches = length_sorted_batches(array, batch_size, max_tokens)
    flat = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    assert sorted(flat.tolist()) == list(range(len(lengths)))  # nothing dropped, nothing twice
    assert np.all(np.diff(array[flat]) <= 0)  # longest first: a batch's first window sets its width
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        if max_tokens is not None and len(batch) > 1:
            assert len(batch) * int(array[batch].max()) <= max_tokens
    if max_tokens is None:  # no budget: full batches but the last
        assert all(len(batch) == batch_size for batch in batches[:-1])


def test_a_budget_splits_long_windows_into_smaller_batches() -> None:
    lengths = np.array([384] * 20 + [96] * 40)
    sizes = [len(b) for b in length_sorted_batches(lengths, 32, 3072)]
    assert sizes == [8, 8, 8, 32, 4]  # 8 x 384 = 3072; the 96-token windows fill batch_size
    assert [len(b) for b in length_sorted_batches(np.array([5000, 10]), 32, 3072)] == [1, 1]


def test_budget_resolution() -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert resolve_batch_tokens("auto", cpu) == CPU_BATCH_TOKENS
    assert resolve_batch_tokens("auto", gpu) is None
    assert resolve_batch_tokens(None, cpu) is None
    assert resolve_batch_tokens(2048, gpu) == 2048
    for bad in (0, -5, True, "lots"):
        with pytest.raises(ConfigError, match="max_batch_tokens"):
            resolve_batch_tokens(bad, cpu)  # type: ignore[arg-type]


def test_length_grouped_sampler_sorts_small_random_pools_and_depends_only_on_seed_and_epoch() -> None:
    lengths = np.random.default_rng(1).integers(20, 384, size=203)
    sampler = LengthGroupedSampler(lengths.tolist(), batch_size=4, group_batches=5, seed=42)
    first = list(sampler)
    assert sorted(first) == list(range(203)) and len(sampler) == 203
    for pool in range(0, 203, 20):  # each pool of 5 batches of 4 is sorted, longest first
        assert np.all(np.diff(lengths[first[pool : pool + 20]]) <= 0)
    assert not np.all(np.diff(lengths[first]) <= 0), "pools, not the whole set, are sorted"
    assert list(LengthGroupedSampler(lengths.tolist(), batch_size=4, group_batches=5, seed=42)) == first
    sampler.set_epoch(1)
    second = list(sampler)
    assert second != first and sorted(second) == list(range(203))
    sampler.set_epoch(0)
    assert list(sampler) == first  # a resumed run replays the same epoch order
    with pytest.raises(ConfigError, match="group_batches"):
        LengthGroupedSampler([1, 2], batch_size=4, group_batches=0, seed=0)
