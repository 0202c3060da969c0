"""Loading spanqa plugins and collecting the decoding strategies they register.

- :func:`make_plugin_manager` builds a **fresh** :class:`SpanQAPluginManager` on every call: the built-in
  strategy modules (:data:`DEFAULT_PLUGINS`) are registered exactly like third-party plugins, then the
  ``spanqa`` entry points of installed distributions are loaded (unless ``load_entrypoints=False`` or the
  environment variable ``SPANQA_DISABLE_PLUGIN_AUTOLOAD`` is set, as pytest's
  ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``). Tests build their own manager and inject it; nothing global needs
  patching.
- A plugin whose import fails does not take the others down: it is recorded (:class:`FailedPlugin`),
  reported with a :class:`PluginLoadWarning`, and listed by ``spanqa plugins``.
- :class:`StrategyRegistry` is a typed facade over ``pm.hook`` (as in tox 4): it calls every plugin's
  ``spanqa_register_strategies`` with a ``register`` callable bound to that plugin, so it can validate
  each class and name both plugins when two register the same name.
- Nothing is loaded at import time. :func:`default_registry` builds the process-wide registry on first
  use and caches it; :func:`register_plugin` adds a plugin to it in-process (so the Reader, the
  fine-tuner and the CLI's ``main()`` see it, not only a ``SpanDecoder`` given the manager);
  :func:`reset_plugins` forgets it (after installing a plugin in a running process).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pluggy

from spanqa import hookspecs
from spanqa.errors import PluginError
from spanqa.strategies.base import STRATEGY_NAME_PATTERN, Strategy

#: Entry-point group third-party distributions use to declare spanqa plugins.
ENTRY_POINT_GROUP = "spanqa"
#: Set to a non-empty value other than ``0``/``false``/``no`` to skip loading entry-point plugins.
DISABLE_AUTOLOAD_ENV = "SPANQA_DISABLE_PLUGIN_AUTOLOAD"
#: Built-in plugin modules, registered through the same hooks as third-party ones.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "spanqa.strategies.length_capped",
    "spanqa.strategies.n_best",
    "spanqa.strategies.null_answer",
    "spanqa.strategies.null_relative",
    "spanqa.strategies.same_text",
)
#: Distribution name reported for the built-in plugins.
BUILTIN_DISTRIBUTION = "spanqa"


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the other plugins keep working."""


@attrs.frozen
class FailedPlugin:
    """A plugin that could not be loaded or whose hook raised.

    Attributes:
        name: the plugin (entry-point) name.
        distribution: the distribution that declared it (``None`` when unknown).
        error: the error, as ``"ExceptionType: message"``.
    """

    name: str
    distribution: str | None
    error: str

    def describe(self) -> str:
        source = f" (from {self.distribution})" if self.distribution else ""
        return f"plugin {self.name!r}{source} failed to load: {self.error}"


class SpanQAPluginManager(pluggy.PluginManager):
    """A pluggy plugin manager that also remembers where each plugin came from and which failed."""

    def __init__(self) -> None:
        super().__init__("spanqa")
        self.add_hookspecs(hookspecs)
        #: Plugin name -> distribution name, for plugins registered from a distribution.
        self.plugin_distributions: dict[str, str] = {}
        #: Plugins that failed to load, in load order.
        self.failed_plugins: list[FailedPlugin] = []

    def record_failure(self, name: str, distribution: str | None, error: BaseException) -> None:
        """Remember a failed plugin and warn once about it."""
        failure = FailedPlugin(name=name, distribution=distribution, error=_describe_error(error))
        self.failed_plugins.append(failure)
        warnings.warn(failure.describe(), PluginLoadWarning, stacklevel=3)


def _describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def autoload_disabled() -> bool:
    """Whether :data:`DISABLE_AUTOLOAD_ENV` asks to skip entry-point plugins."""
    value = os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no")


def _entry_points() -> Iterator[importlib.metadata.EntryPoint]:
    yield from importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _load_entry_points(pm: SpanQAPluginManager) -> None:
    for entry_point in _entry_points():
        dist = entry_point.dist.name if entry_point.dist is not None else None
        existing = pm.get_plugin(entry_point.name)
        if existing is not None or pm.is_blocked(entry_point.name):
            # The same distribution can be visible twice (for example an editable and a regular
            # install); a different one reusing the name is a clash worth reporting.
            known = pm.plugin_distributions.get(entry_point.name)
            if existing is not None and dist is not None and known is not None and known != dist:
                pm.record_failure(
                    entry_point.name,
                    dist,
                    PluginError(f"entry point name {entry_point.name!r} is already used by {known}"),
                )
            continue
        try:
            plugin = entry_point.load()
            pm.register(plugin, name=entry_point.name)
        except Exception as error:  # any failure of third-party code is recorded
            pm.record_failure(entry_point.name, dist, error)
            continue
        if dist is not None:
            pm.plugin_distributions[entry_point.name] = dist


def make_plugin_manager(*, load_entrypoints: bool = True) -> SpanQAPluginManager:
    """A fresh plugin manager with the built-in plugins and (by default) the installed entry points.

    Args:
        load_entrypoints: load the ``spanqa`` entry points of installed distributions; also skipped when
            the environment variable ``SPANQA_DISABLE_PLUGIN_AUTOLOAD`` is set.
    """
    pm = SpanQAPluginManager()
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
        pm.plugin_distributions[module_name] = BUILTIN_DISTRIBUTION
    if load_entrypoints and not autoload_disabled():
        _load_entry_points(pm)
    return pm


# --------------------------------------------------------------------------------------------------------
# The registry.


@attrs.frozen
class RegisteredStrategy:
    """A strategy class with the plugin that registered it.

    Attributes:
        name: the strategy name.
        strategy: the :class:`~spanqa.strategies.Strategy` subclass.
        plugin: the plugin name (a module path for built-ins, the entry-point name for third parties).
        distribution: the distribution the plugin comes from (``"spanqa"`` for built-ins, ``None`` for a
            plugin registered by hand).
    """

    name: str
    strategy: type[Strategy]
    plugin: str
    distribution: str | None

    @property
    def description(self) -> str:
        return self.strategy.description()


def _malformed(obj: Any) -> str | None:
    """Why ``obj`` cannot be registered as a strategy, or ``None`` when it can."""
    if not (inspect.isclass(obj) and issubclass(obj, Strategy)):
        return f"expected a subclass of spanqa.strategies.Strategy, got {obj!r}"
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not STRATEGY_NAME_PATTERN.match(name):
        return (
            f"{obj.__qualname__}.name must be lowercase words joined by hyphens (like 'n-best'), got {name!r}"
        )
    options_cls = obj.Options
    if not attrs.has(options_cls):
        return f"{obj.__qualname__}.Options must be an attrs class, got {options_cls!r}"
    try:
        obj(options_cls())
    except Exception as error:  # reported as a malformed registration
        return f"{obj.__qualname__} cannot be built with default options: {_describe_error(error)}"
    return None


class StrategyRegistry:
    """The decoding strategies registered by the plugins of one plugin manager.

    Building a registry calls every ``spanqa_register_strategies`` implementation once. Errors:

    - a malformed ``register`` call (not a :class:`~spanqa.strategies.Strategy` subclass, bad name, options
      that cannot be built) raises :class:`~spanqa.PluginError` naming the plugin;
    - two plugins registering the same name: the clash is recorded in :attr:`failed` naming both (and
      warned about) and the name becomes unusable (:meth:`info` raises :class:`~spanqa.PluginError` naming
      both), except that a built-in always keeps its name against a third-party impostor; every other
      strategy keeps working;
    - a hook implementation that raises anything else is recorded in :attr:`failed` (and warned about),
      like a plugin whose import failed, so the other plugins keep working.
    """

    def __init__(self, plugin_manager: pluggy.PluginManager | None = None) -> None:
        pm = plugin_manager if plugin_manager is not None else make_plugin_manager()
        if not hasattr(pm.hook, "spanqa_register_strategies"):
            raise PluginError(
                f"plugin manager {pm.project_name!r} has no spanqa hook specifications; "
                "build one with spanqa.plugins.make_plugin_manager()"
            )
        self.plugin_manager = pm
        self._strategies: dict[str, RegisteredStrategy] = {}
        #: strategy name -> why it cannot be used (registered by two plugins)
        self._clashes: dict[str, str] = {}
        self._clash_failures: list[FailedPlugin] = []
        distributions = dict(getattr(pm, "plugin_distributions", {}))
        for plugin, dist in pm.list_plugin_distinfo():
            name = pm.get_name(plugin)
            if name is not None:
                distributions.setdefault(name, dist.project_name)
        failed: list[FailedPlugin] = list(getattr(pm, "failed_plugins", []))
        for impl in pm.hook.spanqa_register_strategies.get_hookimpls():
            plugin_name = impl.plugin_name
            register = functools.partial(self._register, plugin_name, distributions.get(plugin_name))
            try:
                impl.function(*[{"register": register}[arg] for arg in impl.argnames])
            except PluginError:
                raise
            except Exception as error:  # third-party failure: recorded, reported
                failure = FailedPlugin(plugin_name, distributions.get(plugin_name), _describe_error(error))
                failed.append(failure)
                warnings.warn(failure.describe(), PluginLoadWarning, stacklevel=2)
        self.failed: tuple[FailedPlugin, ...] = tuple(failed + self._clash_failures)

    def _register(self, plugin: str, distribution: str | None, *args: Any, **kwargs: Any) -> None:
        if kwargs or len(args) != 1:
            raise PluginError(
                f"plugin {plugin!r}: register() takes exactly one strategy class, "
                f"got {len(args)} positional and {len(kwargs)} keyword argument(s)"
            )
        strategy = args[0]
        problem = _malformed(strategy)
        if problem is not None:
            raise PluginError(f"plugin {plugin!r} registered a malformed strategy: {problem}")
        name: str = strategy.name
        previous = self._strategies.get(name)
        if previous is None and name not in self._clashes:
            self._strategies[name] = RegisteredStrategy(name, strategy, plugin, distribution)
            return
        first = (
            f"plugin {previous.plugin!r} ({previous.strategy.__module__}.{previous.strategy.__qualname__})"
            if previous is not None
            else self._clashes[name]
        )
        message = (
            f"strategy name {name!r} is registered twice: by {first} and by plugin {plugin!r} "
            f"({strategy.__module__}.{strategy.__qualname__})"
        )
        if plugin in DEFAULT_PLUGINS:  # pluggy calls later plugins first: the impostor came before
            self._strategies[name] = RegisteredStrategy(name, strategy, plugin, distribution)
            assert previous is not None
            message += f"; the built-in {name!r} is kept"
            plugin, distribution = previous.plugin, previous.distribution
        elif previous is not None and previous.plugin in DEFAULT_PLUGINS:
            message += f"; the built-in {name!r} is kept"
        else:
            self._strategies.pop(name, None)
            self._clashes[name] = first
            message += f"; {name!r} cannot be used until one of them is uninstalled"
        failure = FailedPlugin(plugin, distribution, message)
        self._clash_failures.append(failure)
        warnings.warn(failure.describe(), PluginLoadWarning, stacklevel=3)

    # ---- queries ---------------------------------------------------------------------------------------
    def names(self) -> tuple[str, ...]:
        """Registered strategy names, sorted."""
        return tuple(sorted(self._strategies))

    def __contains__(self, name: object) -> bool:
        return name in self._strategies

    def __iter__(self) -> Iterator[RegisteredStrategy]:
        return iter([self._strategies[name] for name in self.names()])

    def __len__(self) -> int:
        return len(self._strategies)

    def info(self, name: str) -> RegisteredStrategy:
        """The registration of ``name``; :class:`~spanqa.PluginError` listing the available names if
        there is none."""
        if name in self._clashes:
            clash = next(f for f in reversed(self._clash_failures) if f"strategy name {name!r}" in f.error)
            raise PluginError(clash.error)
        try:
            return self._strategies[name]
        except KeyError:
            available = ", ".join(self.names()) or "none"
            hint = ""
            if self.failed:
                hint = f"; plugins that failed to load: {', '.join(f.name for f in self.failed)}"
            raise PluginError(
                f"unknown decoding strategy {name!r} (available: {available}{hint}). A strategy registered "
                "on a plugin manager of your own is known only where that manager is passed "
                "(plugin_manager=...); spanqa.register_plugin(module) registers it for the whole process "
                f"(Reader, QAFineTuner, the CLI's main()), an entry point in group {ENTRY_POINT_GROUP!r} "
                "for every process"
            ) from None

    def get(self, name: str) -> type[Strategy]:
        """The strategy class registered as ``name``."""
        return self.info(name).strategy

    def as_mapping(self) -> Mapping[str, type[Strategy]]:
        """Name -> strategy class, sorted by name."""
        return {name: self._strategies[name].strategy for name in self.names()}


@functools.cache
def default_plugin_manager() -> SpanQAPluginManager:
    """The process-wide plugin manager: built-ins and entry points, loaded on first use, then cached,
    plus whatever :func:`register_plugin` adds."""
    return make_plugin_manager()


@functools.cache
def default_registry() -> StrategyRegistry:
    """The registry of :func:`default_plugin_manager`, built on first use and cached (rebuilt after
    :func:`register_plugin`)."""
    return StrategyRegistry(default_plugin_manager())


def register_plugin(plugin: object, name: str | None = None) -> None:
    """Register a plugin (a module or object with ``spanqa_register_strategies``) for this process.

    Its strategies then work everywhere that uses the default registry: :class:`~spanqa.DecodingConfig`,
    :class:`~spanqa.SpanDecoder`, :class:`~spanqa.Reader` (saved configs included),
    :class:`~spanqa.QAFineTuner` and :func:`spanqa.cli.main` called in this process. A malformed
    registration raises :class:`~spanqa.PluginError` and leaves the registry as it was. (A separate
    ``spanqa`` process sees a plugin only through an entry point in group ``spanqa``.)
    """
    pm = default_plugin_manager()
    pm.register(plugin, name=name)
    default_registry.cache_clear()
    try:
        default_registry()
    except PluginError:
        pm.unregister(plugin)
        default_registry.cache_clear()
        raise


def reset_plugins() -> None:
    """Forget the process-wide plugin manager and registry (plugins added by :func:`register_plugin`
    included); the next use reloads the built-ins and entry points (after installing a plugin)."""
    default_registry.cache_clear()
    default_plugin_manager.cache_clear()


def registry_for(plugin_manager: pluggy.PluginManager | None) -> StrategyRegistry:
    """The registry of ``plugin_manager``, or the cached default registry when it is ``None``."""
    if plugin_manager is None:
        return default_registry()
    return StrategyRegistry(plugin_manager)
