"""The public API: every exported name resolves, ``import spanqa`` stays light, the version is the installed
distribution's, and every error spanqa raises on purpose is a :class:`~spanqa.SpanQAError`."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import warnings
from importlib.metadata import version

import pytest
from packaging.version import Version

import spanqa
import spanqa.errors
from spanqa.errors import SpanQAError

#: Packages ``import spanqa`` must not load: they cost seconds and most commands need only some of them.
HEAVY = ("torch", "transformers", "datasets", "accelerate", "tokenizers")


@pytest.mark.parametrize("name", spanqa.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    value = getattr(spanqa, name)
    assert value is not None
    if name != "__version__":
        assert getattr(value, "__name__", name) == name, f"spanqa.{name} is {value!r}"


def test_the_export_list_is_sorted_unique_and_what_dir_shows() -> None:
    assert len(set(spanqa.__all__)) == len(spanqa.__all__)
    assert sorted(spanqa.__all__) == spanqa.__all__
    assert dir(spanqa) == sorted(spanqa.__all__)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        spanqa.NoSuchName  # noqa: B018


def test_import_spanqa_loads_no_heavy_package() -> None:
    """In a fresh interpreter: ``import spanqa`` (and reading its version and errors) imports neither torch
    nor transformers; the classes that need them load them on first use."""
    code = (
        "import json, sys, spanqa; spanqa.__version__; spanqa.SpanQAError; spanqa.DataError; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_version_is_the_installed_distributions() -> None:
    installed = version("spanqa")
    assert spanqa.__version__ == installed
    assert str(Version(spanqa.__version__)) == spanqa.__version__  # a normalised PEP 440 version
    assert spanqa.__version__ != "0.0.0", "the fallback of a source tree without installed metadata"


def _spanqa_modules() -> list[str]:
    names = [spanqa.__name__]
    for info in pkgutil.walk_packages(spanqa.__path__, prefix="spanqa."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def test_every_error_class_derives_from_spanqa_error() -> None:
    """The classes of :mod:`spanqa.errors`, and every exception class defined anywhere in spanqa (warnings
    aside), derive from SpanQAError, so ``except spanqa.SpanQAError`` catches everything raised on purpose."""
    in_errors = [
        cls
        for _, cls in inspect.getmembers(spanqa.errors, inspect.isclass)
        if cls.__module__ == "spanqa.errors"
    ]
    assert {cls.__name__ for cls in in_errors} >= {
        "SpanQAError",
        "DataError",
        "ConfigError",
        "TokenizerError",
    }
    for cls in in_errors:
        assert issubclass(cls, SpanQAError), cls
    defined = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated re-export modules warn on import
        for name in _spanqa_modules():
            module = importlib.import_module(name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__.startswith("spanqa") and issubclass(cls, BaseException):
                    defined.add(cls)
    errors = {cls for cls in defined if not issubclass(cls, Warning)}
    assert len(errors) > len(in_errors), "the walk found the errors defined outside spanqa.errors too"
    assert [cls for cls in errors if not issubclass(cls, SpanQAError)] == []
    for name in spanqa.__all__:
        value = getattr(spanqa, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, SpanQAError), name
