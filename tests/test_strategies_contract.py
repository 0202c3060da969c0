"""Every registered decoding strategy (built-in or installed from an entry point) passes the contract
suite of :mod:`spanqa.testing`; the suite also runs through its pytest base class."""

from __future__ import annotations

import warnings

import pytest

from spanqa.plugins import PluginLoadWarning, StrategyRegistry, make_plugin_manager
from spanqa.strategies.null_answer import NullAnswer
from spanqa.testing import CONTRACT_CHECKS, StrategyContract, check_strategy


def registered() -> StrategyRegistry:
    with warnings.catch_warnings():  # a broken third-party plugin must not stop the others' checks
        warnings.simplefilter("ignore", PluginLoadWarning)
        return StrategyRegistry(make_plugin_manager())


REGISTRY = registered()


@pytest.mark.parametrize("name", REGISTRY.names())
def test_registered_strategy_passes_the_contract(name: str) -> None:
    check_strategy(REGISTRY.get(name))


def test_the_contract_checks_something() -> None:
    assert len(CONTRACT_CHECKS) >= 5
    assert {"length-capped", "n-best", "null-answer"} <= set(REGISTRY.names())


class TestNullAnswerContract(StrategyContract):
    """The same checks, one test each, the way a plugin author runs them."""

    strategy = NullAnswer
