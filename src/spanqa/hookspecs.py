"""Hook specifications of spanqa plugins (pluggy project name ``"spanqa"``).

A plugin is a module (or any object) with functions decorated by :data:`hookimpl`, registered either by
spanqa itself (the built-in strategies, listed in :data:`spanqa.plugins.DEFAULT_PLUGINS`) or through the
``spanqa`` entry-point group of an installed distribution::

    # pyproject.toml of a third-party package
    [project.entry-points.spanqa]
    my_strategies = "my_package.spanqa_plugin"

Every hook is named ``spanqa_*``. Hooks hand the plugin a ``register`` callable instead of collecting
return values, so that validation (well-formed classes, unique names, errors naming both plugins of a
clash) lives in one place, :class:`spanqa.plugins.StrategyRegistry`, and the registry knows which plugin
registered what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from spanqa.strategies.base import Strategy

#: Marks hook specifications (spanqa's side of a hook).
hookspec = pluggy.HookspecMarker("spanqa")
#: Marks hook implementations (a plugin's side of a hook): ``@hookimpl def spanqa_register_strategies...``.
hookimpl = pluggy.HookimplMarker("spanqa")


class RegisterStrategy(Protocol):
    """The ``register`` callable passed to :func:`spanqa_register_strategies`."""

    def __call__(self, strategy: type[Strategy], /) -> None:
        """Register one :class:`~spanqa.strategies.Strategy` subclass under its ``name``."""


@hookspec
def spanqa_register_strategies(register: RegisterStrategy) -> None:
    """Register decoding strategies by calling ``register(StrategyClass)`` once per class.

    The class must subclass :class:`spanqa.strategies.Strategy`, carry a unique ``name`` (lowercase words
    joined by hyphens) and an attrs ``Options`` class constructible without arguments. A malformed call
    or a name already taken raises :class:`~spanqa.PluginError` naming the plugin (and, for a clash, the
    other plugin too). Called once per registry; do not import heavy dependencies at module level of the
    plugin, import them inside the strategy's methods instead.
    """
