"""Deprecated re-exports of names that moved to another module, kept for one release.

A module whose names moved away sets ``__getattr__ = moved_names(__name__, {...})`` (PEP 562): reading one
of those names imports it from its new module and emits a :class:`DeprecationWarning` that names the new
path. One helper, so that every moved name warns the same way and the shims stay one line each.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def moved_names(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``module`` whose old names now live elsewhere.

    Args:
        module: the old module's name (its ``__name__``).
        names: old name -> ``"new.module"`` (same name there) or ``"new.module:new_name"``.
    """

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new_module, _, new_name = target.partition(":")
        new_name = new_name or name
        warnings.warn(
            f"{module}.{name} is deprecated and will be removed in the next release; "
            f"import {new_module}.{new_name} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module(new_module), new_name)

    return __getattr__
