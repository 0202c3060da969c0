"""The contract every decoding strategy must pass, for spanqa's own strategies and for plugin authors.

Run it from a test module in either of two ways::

    from spanqa.testing import StrategyContract, check_strategy

    class TestMyStrategy(StrategyContract):   # pytest collects one test per contract check
        strategy = MyStrategy

    def test_my_strategy():                   # or everything in one test
        check_strategy(MyStrategy)

The checks (:data:`CONTRACT_CHECKS`): the class is well formed (name, docstring, frozen attrs ``Options``
with defaults); its options round-trip through :class:`~spanqa.DecodingConfig` JSON and unknown keys are
rejected; alone and composed with the built-in strategies (before, after, around ``null-answer``), decoding
random logits of random windows (right and left padding, overlapping windows, an example without context
tokens, single-token contexts) gives valid predictions: every example present, in order; spans inside the
context, made of context tokens of one window, within the length cap; texts equal to their spans; distinct,
ranked n-best lists; probabilities in [0, 1] summing to at most 1; the same predictions on a second run and
from torch tensors as from numpy arrays.

A strategy that is not installed (no entry point yet) is registered on a private plugin manager for the
checks, so the suite runs in the plugin's own repository before packaging.

Nothing here imports pytest: the checks raise ``AssertionError`` with a message saying what broke.
"""

from __future__ import annotations

import itertools
import json
import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np
import numpy.typing as npt
import pluggy

from spanqa.decode import DecodingConfig, Prediction, SpanDecoder
from spanqa.errors import ConfigError
from spanqa.features import EvalFeatures, PaddingSide
from spanqa.hookspecs import RegisterStrategy, hookimpl
from spanqa.plugins import StrategyRegistry, make_plugin_manager
from spanqa.strategies.base import STRATEGY_NAME_PATTERN, CandidateTable, SearchPlan, Strategy

__all__ = [
    "CONTRACT_CHECKS",
    "StrategyContract",
    "check_composes_with_builtins",
    "check_declaration",
    "check_decodes_alone",
    "check_options_reject_unknown_keys",
    "check_options_round_trip",
    "check_predictions",
    "check_strategy",
    "make_features",
    "plugin_manager_with",
    "random_logits",
]

#: The built-in strategies of the standard SQuAD 2.0 composition, in its order (what the contract composes
#: a strategy with; ``same-text`` and ``null-relative`` are optional re-rankers, checked on their own).
BUILTINS: tuple[str, ...] = ("length-capped", "n-best", "null-answer")
_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "mu", "rho")


# --------------------------------------------------------------------------------------------------------
# Random but realistic inputs.


def make_features(
    rng: np.random.Generator,
    *,
    n_examples: int = 8,
    max_window: int = 20,
    padding_side: PaddingSide = "right",
    shared_offsets: bool = False,
    cls_at_end: bool = False,
) -> EvalFeatures:
    """Random windows over random contexts, laid out like a real question-first tokenizer's.

    Each example gets a context of random words (one token per word, or two pieces sharing the word's
    offsets when ``shared_offsets``, as byte-level BPE pieces of one character do), a 1-4 token question
    and overlapping windows of at most ``max_window`` tokens: ``[CLS] question [SEP] context [SEP]`` (or
    the CLS token last, XLNet-like, when ``cls_at_end``). Example 0 never has a context token (its windows
    hold only the question); another example has a single context token.
    """
    offsets_rows: list[list[tuple[int, int]]] = []
    cls_positions: list[int] = []
    example_index: list[int] = []
    contexts: list[str] = []
    for example in range(n_examples):
        n_words = 0 if example == 0 else 1 if example == 1 else int(rng.integers(2, 3 * max_window))
        words = [str(_WORDS[int(i)]) for i in rng.integers(0, len(_WORDS), size=n_words)]
        context = " ".join(words) if words else "no context at all"
        tokens: list[tuple[int, int]] = []
        position = 0
        for word in words:
            span = (position, position + len(word))
            pieces = 2 if shared_offsets and rng.random() < 0.3 else 1
            tokens.extend([span] * pieces)
            position += len(word) + 1
        contexts.append(context)
        question = int(rng.integers(1, 5))
        capacity = max(1, max_window - question - 3)
        step = max(1, capacity - int(rng.integers(0, max(1, capacity // 2))))
        starts = list(range(0, max(1, len(tokens)), step)) if tokens else [0]
        for begin in starts:
            chunk = tokens[begin : begin + capacity]
            row = [(-1, -1)] * (question + 2) + chunk + [(-1, -1)]
            if cls_at_end:
                row = [*row[1:], (-1, -1)]
            offsets_rows.append(row)
            cls_positions.append(len(row) - 1 if cls_at_end else 0)
            example_index.append(example)
            if begin + capacity >= len(tokens):
                break
    lengths = [len(row) for row in offsets_rows]
    width = max(lengths)
    offsets = np.full((len(offsets_rows), width, 2), -1, dtype=np.int32)
    for i, row in enumerate(offsets_rows):
        offsets[i, : len(row)] = row
    return EvalFeatures(
        input_ids=[list(range(length)) for length in lengths],
        attention_mask=[[1] * length for length in lengths],
        token_type_ids=None,
        offsets=offsets,
        lengths=np.array(lengths, dtype=np.int32),
        cls_index=np.array(cls_positions, dtype=np.int32),
        example_index=np.array(example_index, dtype=np.int32),
        example_ids=[f"example-{i}" for i in range(n_examples)],
        contexts=contexts,
        padding_side=padding_side,
    )


def random_logits(
    features: EvalFeatures, rng: np.random.Generator, *, extra_columns: int = 3, scale: float = 3.0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Random ``(n_windows, T)`` start and end logits padded as ``features.padding_side`` says, with
    ``extra_columns`` more columns than the longest window; padding cells hold huge values that a decoder
    must never read."""
    n = len(features)
    width = int(features.lengths.max()) + extra_columns if n else extra_columns
    logits = []
    for _ in range(2):
        array = np.full((n, width), 1e4, dtype=np.float32)
        for i, length in enumerate(features.lengths.tolist()):
            values = rng.normal(0.0, scale, size=length).astype(np.float32)
            if features.padding_side == "right":
                array[i, :length] = values
            else:
                array[i, width - length :] = values
        logits.append(array)
    return logits[0], logits[1]


# --------------------------------------------------------------------------------------------------------
# Validating predictions.


def _fail(message: str) -> None:
    raise AssertionError(message)


def check_predictions(
    predictions: dict[str, Prediction], features: EvalFeatures, decoder: SpanDecoder, *, where: str = ""
) -> None:
    """Assert that ``predictions`` are valid for ``features`` under ``decoder``'s search plan."""
    label = f"{where}: " if where else ""
    if list(predictions) != list(features.example_ids):
        _fail(f"{label}predictions are not keyed by every example id, in order")
    plan = decoder.plan
    cap = plan.max_answer_length
    windows_of: dict[int, list[int]] = {}
    for window, example in enumerate(features.example_index.tolist()):
        windows_of.setdefault(example, []).append(window)
    for index, (example_id, prediction) in enumerate(predictions.items()):
        context = features.contexts[index]
        name = f"{label}example {example_id!r}"
        if prediction.example_id != example_id:
            _fail(f"{name}: prediction carries example_id {prediction.example_id!r}")
        for value, what in ((prediction.probability, "probability"), (prediction.null_probability, "null")):
            if value is not None and not 0.0 <= value <= 1.0 + 1e-9:
                _fail(f"{name}: {what} probability {value} is outside [0, 1]")
        if prediction.is_null or prediction.start is None:
            if prediction.text != "" or prediction.start is not None or prediction.end is not None:
                _fail(f"{name}: a null or empty prediction must have text '' and no span")
        elif prediction.text != context[prediction.start : prediction.end]:
            _fail(f"{name}: text {prediction.text!r} is not context[{prediction.start}:{prediction.end}]")
        answers = list(prediction.n_best)
        if len(answers) > plan.top_k:
            _fail(f"{name}: {len(answers)} answers reported, more than top_k={plan.top_k}")
        spans = [(answer.start, answer.end) for answer in answers]
        if len(set(spans)) != len(spans):
            _fail(f"{name}: the n-best list repeats a character span: {spans}")
        scores = [answer.score for answer in answers]
        if any(later > earlier for earlier, later in itertools.pairwise(scores)):
            _fail(f"{name}: the n-best list is not ranked by score: {scores}")
        total = sum(answer.probability for answer in answers)
        if prediction.null_probability is not None:
            total += prediction.null_probability
        if total > 1.0 + 1e-6:
            _fail(f"{name}: probabilities of the n-best answers (and null) sum to {total} > 1")
        if not prediction.is_null and answers and prediction.text != answers[0].text:
            _fail(f"{name}: the predicted text is not the best answer")
        if prediction.best_span_text != (answers[0].text if answers else ""):
            _fail(f"{name}: best_span_text is not the best answer's text")
        for answer in answers:
            if not (0 <= answer.start <= answer.end <= len(context)):
                _fail(f"{name}: answer span ({answer.start}, {answer.end}) is outside the context")
            if answer.text != context[answer.start : answer.end]:
                _fail(f"{name}: answer text {answer.text!r} is not its span")
            if not 0.0 <= answer.probability <= 1.0 + 1e-9 or math.isnan(answer.score):
                _fail(f"{name}: answer probability {answer.probability} or score {answer.score} is invalid")
            if answer.window not in windows_of.get(index, []):
                _fail(f"{name}: answer comes from window {answer.window}, not one of the example's")
            _check_tokens(features, answer.window, answer.start, answer.end, cap, name)


def _check_tokens(
    features: EvalFeatures, window: int, start: int, end: int, cap: int | None, name: str
) -> None:
    offsets = features.offsets[window, : int(features.lengths[window])]
    context = offsets[:, 0] >= 0
    first = np.flatnonzero(context & (offsets[:, 0] == start))
    last = np.flatnonzero(context & (offsets[:, 1] == end))
    if first.size == 0 or last.size == 0:
        _fail(f"{name}: span ({start}, {end}) does not start and end on context tokens of window {window}")
    # The shortest token span with these offsets must exist, be ordered and respect the cap.
    pairs = [(int(i), int(j)) for i in first for j in last if j >= i]
    if not pairs:
        _fail(f"{name}: span ({start}, {end}) ends before it starts in window {window}")
    shortest = min(j - i + 1 for i, j in pairs)
    if cap is not None and shortest > cap:
        _fail(f"{name}: span ({start}, {end}) is {shortest} tokens long, over the cap of {cap}")


# --------------------------------------------------------------------------------------------------------
# Registering a strategy that is not installed.


@attrs.frozen
class _OneStrategyPlugin:
    """A plugin object that registers one strategy class (for strategies not installed yet)."""

    strategy: type[Strategy]

    @hookimpl
    def spanqa_register_strategies(self, register: RegisterStrategy) -> None:
        register(self.strategy)


def plugin_manager_with(strategy: type[Strategy]) -> pluggy.PluginManager:
    """A fresh plugin manager with the built-in strategies and ``strategy`` (registered on it when it is
    not one of them); entry points are not loaded, so the checks see exactly these strategies."""
    pm = make_plugin_manager(load_entrypoints=False)
    registry = StrategyRegistry(pm)
    if strategy.name in registry and registry.get(strategy.name) is strategy:
        return pm
    pm.register(_OneStrategyPlugin(strategy), name=f"spanqa.testing:{strategy.name}")
    return pm


# --------------------------------------------------------------------------------------------------------
# The checks.


def check_declaration(strategy: type[Strategy]) -> None:
    """The class is a well-formed strategy: subclass, name, docstring, frozen attrs options with defaults."""
    if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
        _fail(f"{strategy!r} is not a subclass of spanqa.strategies.Strategy")
    name = getattr(strategy, "name", None)
    if not isinstance(name, str) or not STRATEGY_NAME_PATTERN.match(name):
        _fail(f"{strategy.__qualname__}.name {name!r} is not lowercase words joined by hyphens")
    if not strategy.description():
        _fail(f"{strategy.__qualname__} has no docstring (its first line is what `spanqa plugins` shows)")
    options_cls = strategy.Options
    if not attrs.has(options_cls):
        _fail(f"{strategy.__qualname__}.Options is not an attrs class")
    try:
        options = options_cls()
    except Exception as error:
        raise AssertionError(f"{strategy.__qualname__}.Options() fails without arguments: {error}") from error
    fields = attrs.fields(options_cls)
    if fields:
        try:
            setattr(options, fields[0].name, getattr(options, fields[0].name))
        except attrs.exceptions.FrozenInstanceError:
            pass
        else:
            _fail(f"{strategy.__qualname__}.Options is not frozen (use @attrs.frozen)")
    strategy(options)


def check_options_round_trip(strategy: type[Strategy]) -> None:
    """Options survive ``DecodingConfig`` JSON (``to_dict``/``from_dict`` and ``save``/``load``) unchanged."""
    pm = plugin_manager_with(strategy)
    config = DecodingConfig.compose(_composition(strategy.name, "alone"), plugin_manager=pm)
    data = json.loads(json.dumps(config.to_dict()))
    again = DecodingConfig.from_dict(data, plugin_manager=pm)
    if again != config:
        _fail(f"{strategy.name}: DecodingConfig.from_dict(to_dict()) differs: {again} != {config}")
    with tempfile.TemporaryDirectory() as directory:
        path = config.save(Path(directory) / "decoding.json")
        loaded = DecodingConfig.load(path, plugin_manager=pm)
    if loaded != config:
        _fail(f"{strategy.name}: DecodingConfig.load(save()) differs: {loaded} != {config}")


def check_options_reject_unknown_keys(strategy: type[Strategy]) -> None:
    """An unknown option key raises ConfigError naming it."""
    pm = plugin_manager_with(strategy)
    key = "no_such_option_xyz"
    data = DecodingConfig.compose([strategy.name], plugin_manager=pm).to_dict()
    data["options"][strategy.name][key] = 1
    try:
        DecodingConfig.from_dict(data, plugin_manager=pm)
    except ConfigError as error:
        if key not in str(error):
            _fail(f"{strategy.name}: the ConfigError for an unknown option does not name it: {error}")
    else:
        _fail(f"{strategy.name}: an unknown option key was accepted")


def _composition(name: str, where: str) -> list[str]:
    others = [builtin for builtin in BUILTINS if builtin != name]
    if where == "alone":
        return [name]
    if where == "first":
        return [name, *others]
    if where == "last":
        return [*others, name]
    # Before null-answer, the place for re-rankers.
    return (
        [builtin for builtin in others if builtin != "null-answer"]
        + [name]
        + (["null-answer"] if name != "null-answer" else [])
    )


def _decode_and_check(strategy: type[Strategy], composition: Sequence[str], seed: int) -> None:
    pm = plugin_manager_with(strategy)
    decoder = SpanDecoder(DecodingConfig.compose(composition, plugin_manager=pm), plugin_manager=pm)
    rng = np.random.default_rng(seed)
    for padding_side in ("right", "left"):
        for shared in (False, True):
            features = make_features(
                rng, padding_side=padding_side, shared_offsets=shared, cls_at_end=padding_side == "left"
            )
            start, end = random_logits(features, rng)
            where = f"{strategy.name} in {list(composition)}, {padding_side} padding, seed {seed}"
            first = decoder.decode(start, end, features)
            check_predictions(first, features, decoder, where=where)
            second = decoder.decode(start.copy(), end.copy(), features)
            if first != second:
                _fail(f"{where}: decoding twice gave different predictions")
            try:
                import torch
            except ImportError:  # pragma: no cover - torch is a spanqa dependency
                continue
            on_torch = SpanDecoder(decoder.config, plugin_manager=pm, backend="torch")
            from_torch = on_torch.decode(torch.from_numpy(start), torch.from_numpy(end), features)
            if from_torch != first:
                _fail(f"{where}: the torch backend gave different predictions than numpy")


def check_decodes_alone(strategy: type[Strategy]) -> None:
    """Decoding with the strategy alone gives valid, deterministic predictions."""
    for seed in range(3):
        _decode_and_check(strategy, _composition(strategy.name, "alone"), seed)


def check_composes_with_builtins(strategy: type[Strategy]) -> None:
    """Composed with the built-ins (first, last, before null-answer) decoding gives valid predictions."""
    for seed, where in enumerate(("first", "before-null", "last")):
        _decode_and_check(strategy, _composition(strategy.name, where), 100 + seed)


def check_plan_keeps_limits(strategy: type[Strategy]) -> None:
    """``plan()`` may tighten the search, never loosen what the strategies before it set: the length cap
    stays at most what it was and at least as many candidates are kept. (Random windows are shorter than
    the default cap, so decoding alone would not notice a strategy that drops it.)"""
    instance = strategy(strategy.Options())
    for given in (SearchPlan(max_answer_length=4, n_best_size=5, top_k=3), SearchPlan(max_answer_length=1)):
        got = instance.plan(given)
        assert given.max_answer_length is not None
        if got.max_answer_length is None or got.max_answer_length > given.max_answer_length:
            _fail(
                f"{strategy.name}: plan() loosened the length cap from {given.max_answer_length} to "
                f"{got.max_answer_length}; lower it with SearchPlan.capped(), never raise or drop it"
            )
        if got.n_best_size < given.n_best_size:
            _fail(
                f"{strategy.name}: plan() lowered n_best_size from {given.n_best_size} to {got.n_best_size}; "
                "keep more with SearchPlan.keeping(), never fewer"
            )


def _table_arrays(table: CandidateTable) -> dict[str, npt.NDArray[np.generic]]:
    return {
        name: value
        for name, value in attrs.asdict(table, recurse=False).items()
        if isinstance(value, np.ndarray)
    }


def check_select_leaves_its_input_alone(strategy: type[Strategy]) -> None:
    """``select()`` returns a new table and never edits the one it is handed (other strategies, and the
    decoder, may still hold it). A probe strategy placed just before ``strategy`` keeps a copy of the table
    it passes on, which must be unchanged after decoding."""
    handed: list[tuple[CandidateTable, dict[str, npt.NDArray[np.generic]]]] = []

    class Probe(Strategy):
        """Keeps the candidate table it passes on (spanqa.testing's probe for in-place edits)."""

        name = "spanqa-testing-probe"

        def select(self, candidates: CandidateTable) -> CandidateTable:
            copies = {name: value.copy() for name, value in _table_arrays(candidates).items()}
            handed.append((candidates, copies))
            return candidates

    pm = plugin_manager_with(strategy)
    pm.register(_OneStrategyPlugin(Probe), name="spanqa.testing:probe")
    config = DecodingConfig.compose([Probe.name, strategy.name], plugin_manager=pm)
    decoder = SpanDecoder(config, plugin_manager=pm)
    rng = np.random.default_rng(7)
    features = make_features(rng)
    decoder.decode(*random_logits(features, rng), features)
    for table, copies in handed:
        for name, before in copies.items():
            after = getattr(table, name)
            if not np.array_equal(after, before, equal_nan=before.dtype.kind == "f"):
                _fail(
                    f"{strategy.name}: select() edited the candidate table's {name!r} in place; return a "
                    "new table (CandidateTable.with_* methods or attrs.evolve with new arrays)"
                )


#: Every contract check, in the order :func:`check_strategy` runs them.
CONTRACT_CHECKS: tuple[Callable[[type[Strategy]], None], ...] = (
    check_declaration,
    check_options_round_trip,
    check_options_reject_unknown_keys,
    check_plan_keeps_limits,
    check_decodes_alone,
    check_select_leaves_its_input_alone,
    check_composes_with_builtins,
)


def check_strategy(strategy: type[Strategy]) -> None:
    """Run every contract check on ``strategy``; the first failure raises ``AssertionError``."""
    for check in CONTRACT_CHECKS:
        check(strategy)


class StrategyContract:
    """Base class for a pytest test class that runs the contract on ``strategy`` (one test per check).

    Example::

        class TestPreferShorter(StrategyContract):
            strategy = PreferShorter
    """

    strategy: ClassVar[type[Strategy]]

    def _strategy(self) -> type[Strategy]:
        strategy: type[Strategy] | None = getattr(type(self), "strategy", None)
        if strategy is None:
            raise AssertionError(f"{type(self).__name__} must set `strategy = YourStrategyClass`")
        return strategy

    def test_declaration(self) -> None:
        check_declaration(self._strategy())

    def test_options_round_trip(self) -> None:
        check_options_round_trip(self._strategy())

    def test_options_reject_unknown_keys(self) -> None:
        check_options_reject_unknown_keys(self._strategy())

    def test_plan_keeps_limits(self) -> None:
        check_plan_keeps_limits(self._strategy())

    def test_decodes_alone(self) -> None:
        check_decodes_alone(self._strategy())

    def test_select_leaves_its_input_alone(self) -> None:
        check_select_leaves_its_input_alone(self._strategy())

    def test_composes_with_builtins(self) -> None:
        check_composes_with_builtins(self._strategy())
