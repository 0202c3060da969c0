"""A strategy registered in-process works everywhere, not only in a SpanDecoder given its plugin manager.

Found as a new user: ``pm.register(module)`` on a plugin manager of one's own made the strategy usable in
``SpanDecoder(config, plugin_manager=pm)`` only; the Reader, ``QAFineTuner.evaluate`` and the CLI failed with
"unknown decoding strategy". :func:`spanqa.register_plugin` registers for the whole process, and the error
for an unknown name says where a privately registered strategy is visible.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from model_factory import save_tiny_qa_model
from spanqa import DecodingConfig, PluginError, QAFineTuner, Reader, register_plugin
from spanqa.cli import main
from spanqa.models import DECODING_CONFIG_FILE
from spanqa.plugins import default_registry, reset_plugins

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "examples" / "shortest-span-plugin"
CONTEXT = "The Broncos beat the Panthers in Super Bowl 50, played in Santa Clara in February 2016."
COMPOSITION = ["length-capped", "prefer-shorter", "n-best"]


@pytest.fixture()
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("SPANQA_DISABLE_PLUGIN_AUTOLOAD", "1")  # an installed copy must not hide the test
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    reset_plugins()
    module = importlib.import_module("spanqa_shortest_span")
    yield module
    reset_plugins()
    sys.modules.pop("spanqa_shortest_span", None)


@pytest.fixture()
def model_dir(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "model")


def test_unknown_strategy_error_explains_where_registrations_are_seen(plugin: ModuleType) -> None:
    with pytest.raises(PluginError, match=r"unknown decoding strategy 'prefer-shorter'.*register_plugin"):
        DecodingConfig.compose(COMPOSITION)


def test_register_plugin_reaches_reader_fine_tuner_and_cli(
    plugin: ModuleType, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_plugin(plugin)
    assert "prefer-shorter" in default_registry()
    config = DecodingConfig.compose(COMPOSITION, {"prefer-shorter": {"length_penalty": 0.5}})

    config.save(model_dir / DECODING_CONFIG_FILE)
    reader = Reader.from_pretrained(model_dir, max_length=64, stride=16, max_question_tokens=16)
    assert "prefer-shorter" in reader.decoding.strategies
    assert reader("Who won?", CONTEXT)[0].text

    tuner = QAFineTuner(model_dir)
    assert "prefer-shorter" in (tuner.decoding or DecodingConfig.squad_v1()).strategies
    record = {
        "id": "q1",
        "question": "Who won Super Bowl 50?",
        "context": CONTEXT,
        "answers": {"text": ["The Broncos"], "answer_start": [0]},
    }
    assert set(tuner.evaluate([record], progress=False).predictions) == {"q1"}

    capsys.readouterr()
    argv = ["predict", "--model", str(model_dir), "--question", "Who won?", "--context", CONTEXT, "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)[0]["text"]


def test_a_malformed_registration_leaves_the_registry_as_it_was(plugin: ModuleType) -> None:
    from spanqa import hookimpl

    broken = ModuleType("spanqa_broken_plugin")

    @hookimpl
    def spanqa_register_strategies(register: Any) -> None:
        register(int)  # not a Strategy subclass

    broken.spanqa_register_strategies = spanqa_register_strategies  # type: ignore[attr-defined]
    before = default_registry().names()
    with pytest.raises(PluginError, match="malformed strategy"):
        register_plugin(broken)
    assert default_registry().names() == before
