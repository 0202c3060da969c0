"""The plugin system: plugin managers, the strategy registry and its errors, entry points (a real,
pip-installed example plugin and a fake distribution whose import fails) and ``spanqa plugins``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pluggy
import pytest

from spanqa import cli
from spanqa.decode import DecodingConfig, SpanDecoder
from spanqa.errors import PluginError
from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.plugins import (
    DEFAULT_PLUGINS,
    DISABLE_AUTOLOAD_ENV,
    PluginLoadWarning,
    StrategyRegistry,
    default_plugin_manager,
    default_registry,
    make_plugin_manager,
    reset_plugins,
)
from spanqa.strategies import CandidateTable, SearchPlan, Strategy
from spanqa.testing import check_strategy, make_features, random_logits

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = REPO / "examples" / "shortest-span-plugin"
BUILTIN_NAMES = ("length-capped", "n-best", "null-answer", "null-relative", "same-text")


# --------------------------------------------------------------------------------------------------------
# Small strategies and plugins defined here (real objects, no mocks).


class Echo(Strategy):
    """Leaves everything as it is."""

    name = "echo"


class OtherEcho(Strategy):
    """Another class that claims the name 'echo'."""

    name = "echo"


class Exploding(Strategy):
    """Raises while selecting, like a buggy third-party strategy."""

    name = "exploding"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        raise ValueError("boom in select")


class ExplodingPlan(Strategy):
    """Raises while planning."""

    name = "exploding-plan"

    def plan(self, plan: SearchPlan) -> SearchPlan:
        raise RuntimeError("boom in plan")


class WrongReturn(Strategy):
    """Returns something that is not a candidate table."""

    name = "wrong-return"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        return "not a table"  # type: ignore[return-value]


class Unsorted(Strategy):
    """Changes scores without re-ranking (breaks the table's invariant)."""

    name = "unsorted"

    def select(self, candidates: CandidateTable) -> CandidateTable:
        return attrs.evolve(candidates, score=-candidates.score)


@attrs.frozen
class Registers:
    """A plugin object registering the given strategy classes."""

    strategies: tuple[Any, ...]

    @hookimpl
    def spanqa_register_strategies(self, register: RegisterStrategy) -> None:
        for strategy in self.strategies:
            register(strategy)


class CallsRegisterWrongly:
    """A plugin calling register with two arguments."""

    @hookimpl
    def spanqa_register_strategies(self, register: Any) -> None:
        register("echo", Echo)


class HookRaises:
    """A plugin whose hook implementation itself fails."""

    @hookimpl
    def spanqa_register_strategies(self, register: RegisterStrategy) -> None:
        raise ImportError("optional dependency 'nonexistent' is missing")


def manager_with(**plugins: Any) -> Any:
    pm = make_plugin_manager(load_entrypoints=False)
    for name, plugin in plugins.items():
        pm.register(plugin, name=name)
    return pm


# --------------------------------------------------------------------------------------------------------
# Plugin managers and the registry.


def test_make_plugin_manager_is_fresh_and_registers_builtins_like_plugins() -> None:
    first, second = make_plugin_manager(load_entrypoints=False), make_plugin_manager(load_entrypoints=False)
    assert first is not second
    assert [first.get_name(p) for p in first.get_plugins()] != []
    for module in DEFAULT_PLUGINS:
        assert first.get_plugin(module) is not None
        assert first.plugin_distributions[module] == "spanqa"
    impls = first.hook.spanqa_register_strategies.get_hookimpls()
    assert {impl.plugin_name for impl in impls} == set(DEFAULT_PLUGINS)


def test_registry_lists_builtins_with_plugin_and_distribution() -> None:
    registry = StrategyRegistry(make_plugin_manager(load_entrypoints=False))
    assert registry.names() == BUILTIN_NAMES
    info = registry.info("n-best")
    assert info.plugin == "spanqa.strategies.n_best"
    assert info.distribution == "spanqa"
    assert info.description.startswith("The top-k distinct answers")
    assert registry.failed == ()


def test_importing_spanqa_loads_no_plugin() -> None:
    code = (
        "import sys, spanqa, spanqa.decode, spanqa.plugins, spanqa.testing\n"
        "modules = ('spanqa.strategies.n_best', 'spanqa.strategies.null_answer')\n"
        "loaded = [m for m in modules if m in sys.modules]\n"
        "print(loaded, spanqa.plugins.default_registry.cache_info().currsize)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()
    assert output == "[] 0"


def test_default_registry_is_cached_and_resettable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    reset_plugins()
    try:
        registry = default_registry()
        assert default_registry() is registry
        assert default_plugin_manager() is registry.plugin_manager
        reset_plugins()
        assert default_registry() is not registry
    finally:
        reset_plugins()


def test_duplicate_strategy_names_name_both_plugins_and_the_rest_keeps_working() -> None:
    pm = manager_with(first_plugin=Registers((Echo,)), second_plugin=Registers((OtherEcho,)))
    with pytest.warns(PluginLoadWarning, match="registered twice"):
        registry = StrategyRegistry(pm)
    with pytest.raises(PluginError) as raised:
        registry.get("echo")
    message = str(raised.value)
    assert "'echo'" in message and "first_plugin" in message and "second_plugin" in message
    assert "OtherEcho" in message
    assert "echo" not in registry.names()
    assert any("registered twice" in failure.error for failure in registry.failed)
    assert {"length-capped", "n-best", "null-answer"} <= set(registry.names())


def test_a_plugin_cannot_shadow_a_builtin() -> None:
    class FakeNBest(Strategy):
        """Pretends to be n-best."""

        name = "n-best"

    with pytest.warns(
        PluginLoadWarning,
        match=r"plugin 'impostor' failed to load: strategy name 'n-best' is registered twice: "
        r"by plugin 'spanqa\.strategies\.n_best' \(spanqa\.strategies\.n_best\.NBest\) "
        r"and by plugin 'impostor' \(.*FakeNBest\); the built-in 'n-best' is kept",
    ):
        registry = StrategyRegistry(manager_with(impostor=Registers((FakeNBest,))))
    assert registry.get("n-best").__module__ == "spanqa.strategies.n_best"
    [clash] = [failure for failure in registry.failed if "registered twice" in failure.error]
    assert "impostor" in clash.error and "spanqa.strategies.n_best" in clash.error


def test_a_foreign_plugin_manager_is_rejected() -> None:
    with pytest.raises(PluginError, match="no spanqa hook specifications"):
        StrategyRegistry(pluggy.PluginManager("other"))


def test_unknown_strategy_lists_the_available_ones() -> None:
    registry = StrategyRegistry(make_plugin_manager(load_entrypoints=False))
    with pytest.raises(
        PluginError, match=r"unknown decoding strategy 'nbest'.*length-capped, n-best, null-answer"
    ):
        registry.get("nbest")
    with pytest.raises(PluginError, match="unknown decoding strategy"):
        DecodingConfig.compose(["nbest"], plugin_manager=registry.plugin_manager)


class NotAStrategy:
    """Has a name but is not a Strategy subclass."""

    name = "plain"


class BadName(Strategy):
    """A name with capitals and underscores."""

    name = "Bad_Name"


class NoName(Strategy):
    """Forgot to set a name."""


class OptionsNotAttrs(Strategy):
    """Options is a plain class."""

    name = "options-not-attrs"
    Options = dict


class OptionsNeedArguments(Strategy):
    """Options without defaults."""

    name = "options-need-arguments"

    @attrs.frozen
    class Options:
        required: int


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (NotAStrategy, "subclass of spanqa.strategies.Strategy"),
        (BadName(), "subclass of spanqa.strategies.Strategy"),
        (BadName, "lowercase words joined by hyphens"),
        (NoName, "lowercase words joined by hyphens"),
        (OptionsNotAttrs, "must be an attrs class"),
        (OptionsNeedArguments, "cannot be built with default options"),
    ],
)
def test_malformed_registration_names_the_plugin(strategy: Any, expected: str) -> None:
    with pytest.raises(PluginError) as raised:
        StrategyRegistry(manager_with(sloppy_plugin=Registers((strategy,))))
    assert "sloppy_plugin" in str(raised.value)
    assert expected in str(raised.value)


def test_register_called_with_two_arguments_names_the_plugin() -> None:
    with pytest.raises(PluginError, match=r"plugin 'two_args'.*exactly one strategy class"):
        StrategyRegistry(manager_with(two_args=CallsRegisterWrongly()))


def test_a_failing_hook_is_reported_and_the_others_keep_working() -> None:
    pm = manager_with(broken=HookRaises(), fine=Registers((Echo,)))
    with pytest.warns(PluginLoadWarning, match="plugin 'broken'.*optional dependency"):
        registry = StrategyRegistry(pm)
    assert [failure.name for failure in registry.failed] == ["broken"]
    assert "ImportError" in registry.failed[0].error
    assert "echo" in registry and "n-best" in registry
    with pytest.raises(PluginError, match="plugins that failed to load: broken"):
        registry.get("missing")


# --------------------------------------------------------------------------------------------------------
# Strategies failing while decoding.


def decode_with(strategy: type[Strategy], composition: list[str]) -> Any:
    pm = manager_with(test_plugin=Registers((strategy,)))
    features = make_features(np.random.default_rng(0))
    start, end = random_logits(features, np.random.default_rng(1))
    decoder = SpanDecoder(DecodingConfig.compose(composition, plugin_manager=pm), plugin_manager=pm)
    return decoder.decode(start, end, features)


def test_strategy_raising_in_select_is_a_plugin_error_naming_it() -> None:
    with pytest.raises(PluginError) as raised:
        decode_with(Exploding, ["n-best", "exploding"])
    message = str(raised.value)
    assert "'exploding'" in message and "test_plugin" in message and "select()" in message
    assert "boom in select" in message
    assert isinstance(raised.value.__cause__, ValueError)


def test_strategy_raising_in_plan_is_a_plugin_error_naming_it() -> None:
    with pytest.raises(PluginError, match=r"'exploding-plan' \(plugin 'test_plugin'\) failed in plan\(\)"):
        decode_with(ExplodingPlan, ["exploding-plan"])


@pytest.mark.parametrize(
    ("strategy", "expected"), [(WrongReturn, "not a CandidateTable"), (Unsorted, "not ranked")]
)
def test_strategy_returning_a_malformed_table_is_blamed(strategy: type[Strategy], expected: str) -> None:
    with pytest.raises(PluginError, match=f"'{strategy.name}'.*{expected}"):
        decode_with(strategy, ["n-best", strategy.name])


# --------------------------------------------------------------------------------------------------------
# Entry points: a fake distribution whose import fails, and the real example plugin installed with pip.


def write_distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A minimal installed distribution (``*.dist-info`` + modules) that importlib.metadata finds."""
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[spanqa]\n{lines}\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def broken_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_distribution(
        tmp_path,
        "spanqa-broken-plugin",
        {"broken_on_import": "spanqa_broken_plugin_module"},
        {"spanqa_broken_plugin_module": "raise ImportError('needs the package tensorflow, not installed')\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    return tmp_path


def test_entry_point_that_fails_to_import_is_recorded(broken_distribution: Path) -> None:
    with pytest.warns(PluginLoadWarning, match="broken_on_import.*spanqa-broken-plugin.*tensorflow"):
        pm = make_plugin_manager()
    [failure] = [f for f in pm.failed_plugins if f.name == "broken_on_import"]
    assert failure.distribution == "spanqa-broken-plugin"
    assert "ImportError" in failure.error
    registry = StrategyRegistry(pm)
    assert set(BUILTIN_NAMES) <= set(registry.names())
    assert "broken_on_import" in [f.name for f in registry.failed]


def test_spanqa_plugins_lists_failed_plugins(
    broken_distribution: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "plugins that failed to load" in out and "broken_on_import (spanqa-broken-plugin)" in out
    assert cli.main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {"plugin": "broken_on_import", "distribution": "spanqa-broken-plugin"}.items() <= next(
        f for f in listing["failed"] if f["plugin"] == "broken_on_import"
    ).items()


def test_disable_autoload_skips_entry_points(
    broken_distribution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    pm = make_plugin_manager()
    assert pm.failed_plugins == []
    assert pm.get_plugin("broken_on_import") is None
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "0")
    with pytest.warns(PluginLoadWarning):
        assert make_plugin_manager().failed_plugins


def test_spanqa_plugins_lists_builtins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert cli.main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in listing["strategies"]}
    assert set(rows) == set(BUILTIN_NAMES)
    assert rows["null-answer"]["plugin"] == "spanqa.strategies.null_answer"
    assert all(row["distribution"] == "spanqa" for row in rows.values())
    assert listing["entry_points_loaded"] is False


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, pip-installed offline into its own target directory (from a copy, so the build
    leaves nothing in the repository)."""
    root = tmp_path_factory.mktemp("example-plugin")
    source = root / "source"
    shutil.copytree(
        EXAMPLE_PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    target = root / "site"
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
        "--target", str(target), str(source),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"pip could not install the example plugin offline:\n{result.stderr}")
    return target


def run_spanqa(target: Path, *args: str, disable: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}
    env.pop(DISABLE_AUTOLOAD_ENV, None)
    if disable:
        env[DISABLE_AUTOLOAD_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-m", "spanqa", *args], capture_output=True, text=True, check=True, env=env, cwd=REPO
    )


def test_example_plugin_is_found_through_its_entry_point(
    installed_example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(installed_example))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    pm = make_plugin_manager()
    assert pm.get_plugin("shortest_span") is not None
    registry = StrategyRegistry(pm)
    info = registry.info("prefer-shorter")
    assert (info.plugin, info.distribution) == ("shortest_span", "spanqa-shortest-span")

    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert "prefer-shorter" not in StrategyRegistry(make_plugin_manager())


def test_spanqa_plugins_lists_the_example_plugin(installed_example: Path) -> None:
    listing = json.loads(run_spanqa(installed_example, "plugins", "--json").stdout)
    row = next(row for row in listing["strategies"] if row["name"] == "prefer-shorter")
    assert row["plugin"] == "shortest_span"
    assert row["distribution"] == "spanqa-shortest-span"
    hidden = json.loads(run_spanqa(installed_example, "plugins", "--json", disable=True).stdout)
    assert "prefer-shorter" not in {row["name"] for row in hidden["strategies"]}


def test_example_plugin_passes_the_contract_and_prefers_shorter_answers(
    installed_example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(installed_example))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    import spanqa_shortest_span

    check_strategy(spanqa_shortest_span.PreferShorter)

    pm = make_plugin_manager()
    features = make_features(np.random.default_rng(7), n_examples=20)
    start, end = random_logits(features, np.random.default_rng(8), scale=1.0)
    plain = SpanDecoder(DecodingConfig.squad_v1(plugin_manager=pm), plugin_manager=pm)
    shorter = SpanDecoder(
        DecodingConfig.compose(
            ["length-capped", "prefer-shorter", "n-best"],
            {"prefer-shorter": {"length_penalty": 5.0}},
            plugin_manager=pm,
        ),
        plugin_manager=pm,
    )
    before, after = plain.decode(start, end, features), shorter.decode(start, end, features)
    lengths_before = [len(p.text.split()) for p in before.values() if p.text]
    lengths_after = [len(p.text.split()) for p in after.values() if p.text]
    assert sum(lengths_after) < sum(lengths_before)
    assert max(lengths_after) == 1  # a 5-logit penalty per token makes one-word answers win here
