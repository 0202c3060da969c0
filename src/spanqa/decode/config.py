"""The decoding configuration: which strategies decode, in which order, with which options.

:class:`DecodingConfig` is what a fine-tuned model saves next to its weights and what every decoder is
built from, so it lives apart from the search (:mod:`spanqa.decode.engine`) and the results
(:mod:`spanqa.decode.predictions`): reading or writing a config needs neither. The names of the built-in
strategies and :data:`CONFIG_FORMAT_VERSION` (the version of the saved JSON) are defined here too.
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pluggy

from spanqa.errors import ConfigError, PluginError
from spanqa.plugins import registry_for
from spanqa.strategies.base import options_from_dict, options_to_dict

__all__ = ["CONFIG_FORMAT_VERSION", "LENGTH_CAPPED", "NULL_ANSWER", "N_BEST", "DecodingConfig"]

#: Version of the JSON written by :meth:`DecodingConfig.save`.
CONFIG_FORMAT_VERSION = 1
#: Names of the built-in strategies, in the order of the standard SQuAD compositions.
LENGTH_CAPPED, N_BEST, NULL_ANSWER = "length-capped", "n-best", "null-answer"


def _strategy_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigError(f"DecodingConfig.strategies must be a list of strategy names, got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(f"DecodingConfig.strategies: strategy names must be strings, got {name!r}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"DecodingConfig.strategies lists {duplicates[0]!r} more than once")
    return names


def _frozen_options(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"DecodingConfig.options must map strategy names to options, got {value!r}")
    for name, options in value.items():
        if not attrs.has(type(options)):
            raise ConfigError(
                f"DecodingConfig.options[{name!r}] must be a strategy Options object (attrs class), "
                f"got {type(options).__name__}; use DecodingConfig.compose() to build options from dicts"
            )
    return types.MappingProxyType(dict(value))


@attrs.frozen(unsafe_hash=False)
class DecodingConfig:
    """Which strategies decode, in which order, with which options; saved next to a model.

    Build it with :meth:`compose` (options from plain dicts, defaults filled in from the registered
    strategies), :meth:`squad_v1` or :meth:`squad_v2`; change it with :meth:`with_options` /
    :meth:`with_null_threshold` (new objects, the config is frozen). ``to_dict``/``save`` write every
    option, defaults included, so a saved config decodes the same way even if a default changes later.

    Attributes:
        strategies: strategy names, in order: search plans are folded in this order and selection steps
            run in this order (put re-rankers before ``null-answer`` so it sees their scores).
        options: strategy name -> its ``Options`` object, one for every strategy.
    """

    strategies: tuple[str, ...] = attrs.field(converter=_strategy_names)
    options: Mapping[str, Any] = attrs.field(converter=_frozen_options)

    def __attrs_post_init__(self) -> None:
        missing = [name for name in self.strategies if name not in self.options]
        if missing:
            raise ConfigError(
                f"DecodingConfig.options has no entry for strategy {missing[0]!r}; "
                "use DecodingConfig.compose() to fill in defaults"
            )
        extra = sorted(name for name in self.options if name not in self.strategies)
        if extra:
            raise ConfigError(f"DecodingConfig.options[{extra[0]!r}] is given but {extra[0]!r} is not used")

    # ---- construction --------------------------------------------------------------------------------
    @classmethod
    def compose(
        cls,
        strategies: Sequence[str],
        options: Mapping[str, Any] | None = None,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """A config of ``strategies`` (names, in order) with ``options`` given per strategy as an
        ``Options`` object or a dict of overrides (missing options take the strategy's defaults).

        Raises:
            PluginError: an unknown strategy name (the message lists the available ones).
            ConfigError: an unknown option key or an invalid value (the message names it).
        """
        names = _strategy_names(strategies)
        given = dict(options or {})
        unknown = sorted(str(name) for name in given if name not in names)
        if unknown:
            raise ConfigError(f"options.{unknown[0]}: strategy {unknown[0]!r} is not in {list(names)}")
        registry = registry_for(plugin_manager)
        resolved: dict[str, Any] = {}
        for name in names:
            options_cls = registry.get(name).Options
            value = given.get(name, {})
            resolved[name] = (
                value
                if isinstance(value, options_cls)
                else options_from_dict(options_cls, value, where=f"options.{name}")
            )
        return cls(names, resolved)

    @classmethod
    def squad_v1(
        cls,
        *,
        max_answer_length: int = 30,
        n_best_size: int = 20,
        top_k: int | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """The SQuAD v1.1 set-up: ``length-capped`` + ``n-best`` (every question has an answer)."""
        return cls.compose(
            (LENGTH_CAPPED, N_BEST),
            {
                LENGTH_CAPPED: {"max_answer_length": max_answer_length},
                N_BEST: {"n_best_size": n_best_size, "top_k": top_k},
            },
            plugin_manager=plugin_manager,
        )

    @classmethod
    def squad_v2(
        cls,
        *,
        max_answer_length: int = 30,
        n_best_size: int = 20,
        top_k: int | None = None,
        null_threshold: float = 0.0,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """The SQuAD 2.0 set-up: ``length-capped`` + ``n-best`` + ``null-answer``."""
        return cls.compose(
            (LENGTH_CAPPED, N_BEST, NULL_ANSWER),
            {
                LENGTH_CAPPED: {"max_answer_length": max_answer_length},
                N_BEST: {"n_best_size": n_best_size, "top_k": top_k},
                NULL_ANSWER: {"null_threshold": null_threshold},
            },
            plugin_manager=plugin_manager,
        )

    # ---- derived copies and accessors ----------------------------------------------------------------
    def with_options(self, strategy: str, **changes: Any) -> DecodingConfig:
        """A copy with some options of ``strategy`` changed (validated like the originals)."""
        if strategy not in self.options:
            raise ConfigError(f"strategy {strategy!r} is not part of this config ({list(self.strategies)})")
        current = self.options[strategy]
        known = {field.alias for field in attrs.fields(type(current)) if field.init}
        unknown = sorted(key for key in changes if key not in known)
        if unknown:
            raise ConfigError(
                f"options.{strategy}.{unknown[0]}: unknown option (known: {', '.join(sorted(known))})"
            )
        try:
            updated = attrs.evolve(current, **changes)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"options.{strategy}: {error}") from error
        return attrs.evolve(self, options={**self.options, strategy: updated})

    def with_strategy(
        self,
        strategy: str,
        options: Any = None,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> DecodingConfig:
        """A copy that also uses ``strategy``, with ``options`` (an ``Options`` object, or a dict of
        overrides: of the current options when the strategy is used already, else of its defaults; ``None``
        changes nothing of a used strategy). A new strategy goes before ``null-answer``, so the null
        decision sees its scores, else last; one already used keeps its place.
        """
        names = self.strategies
        if strategy in names:
            if options is None:
                return self
            if isinstance(options, Mapping):
                return self.with_options(strategy, **options)
        else:
            last = names.index(NULL_ANSWER) if NULL_ANSWER in names else len(names)
            names = (*names[:last], strategy, *names[last:])
        given: dict[str, Any] = dict(self.options)
        if options is not None:
            given[strategy] = options
        return DecodingConfig.compose(names, given, plugin_manager=plugin_manager)

    def without_strategy(self, strategy: str) -> DecodingConfig:
        """A copy without ``strategy`` (this config when it does not use it)."""
        if strategy not in self.strategies:
            return self
        kept = tuple(name for name in self.strategies if name != strategy)
        return attrs.evolve(self, strategies=kept, options={name: self.options[name] for name in kept})

    def with_null_threshold(self, threshold: float) -> DecodingConfig:
        """A copy predicting null iff ``null_score - best_span_score > threshold``."""
        if NULL_ANSWER not in self.options:
            raise ConfigError(f"this config has no {NULL_ANSWER!r} strategy; use DecodingConfig.squad_v2()")
        return self.with_options(NULL_ANSWER, null_threshold=threshold)

    def _option(self, strategy: str, name: str) -> Any:
        options = self.options.get(strategy)
        return None if options is None else getattr(options, name)

    @property
    def max_answer_length(self) -> int | None:
        """The ``length-capped`` cap in tokens (``None`` when the strategy is not used)."""
        value: int | None = self._option(LENGTH_CAPPED, "max_answer_length")
        return value

    @property
    def n_best_size(self) -> int | None:
        """The ``n-best`` candidate count (``None`` when the strategy is not used)."""
        value: int | None = self._option(N_BEST, "n_best_size")
        return value

    @property
    def null_threshold(self) -> float | None:
        """The ``null-answer`` threshold (``None`` when the strategy is not used)."""
        value: float | None = self._option(NULL_ANSWER, "null_threshold")
        return value

    # ---- JSON ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every option (defaults included) and the format version."""
        return {
            "format_version": CONFIG_FORMAT_VERSION,
            "strategies": list(self.strategies),
            "options": {name: options_to_dict(self.options[name]) for name in self.strategies},
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, plugin_manager: pluggy.PluginManager | None = None
    ) -> DecodingConfig:
        """The config :meth:`to_dict` wrote. Unknown keys, wrong types, an unknown format version or an
        unknown strategy raise :class:`~spanqa.ConfigError` naming the key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a decoding config must be a JSON object, got {type(data).__name__}")
        unknown = sorted(str(key) for key in data if key not in ("format_version", "strategies", "options"))
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown key in decoding config")
        version = data.get("format_version")
        if version != CONFIG_FORMAT_VERSION:
            raise ConfigError(
                f"format_version: expected {CONFIG_FORMAT_VERSION}, got {version!r} "
                "(written by a newer or older spanqa?)"
            )
        if "strategies" not in data:
            raise ConfigError("strategies: missing from decoding config")
        strategies = data["strategies"]
        if not isinstance(strategies, list):
            raise ConfigError(f"strategies: expected a list of names, got {type(strategies).__name__}")
        options = data.get("options", {})
        if not isinstance(options, Mapping):
            raise ConfigError(f"options: expected an object, got {type(options).__name__}")
        try:
            return cls.compose(strategies, options, plugin_manager=plugin_manager)
        except PluginError as error:
            raise ConfigError(f"strategies: {error}") from error

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as JSON to ``path``; returns the path."""
        target = Path(path)
        target.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, plugin_manager: pluggy.PluginManager | None = None
    ) -> DecodingConfig:
        """Read a config written by :meth:`save` (errors name the file)."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{source}: cannot read decoding config: {error}") from error
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{source}: not valid JSON (UTF-8): {error}") from error
        try:
            return cls.from_dict(data, plugin_manager=plugin_manager)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from error
