"""Injected faults: training killed with SIGKILL and resumed, a save interrupted, checkpoints cut short,
and broken plugins. Each test's docstring says the fault and the outcome (the docs page quotes them).

Plugin faults already covered in ``tests/test_plugins.py`` (not repeated here): an entry point whose import
fails (``test_entry_point_that_fails_to_import_is_recorded``), a hook that raises
(``test_a_failing_hook_is_reported_and_the_others_keep_working``), a strategy that raises in ``select`` or
``plan`` or returns a malformed table (``test_strategy_raising_in_*``,
``test_strategy_returning_a_malformed_table_is_blamed``) and two plugins registering one strategy name
(``test_duplicate_strategy_names_name_both_plugins``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from model_factory import save_tiny_qa_model
from spanqa import cli
from spanqa.decode import DecodingConfig
from spanqa.errors import ConfigError, PluginError
from spanqa.finetune import IncompleteCheckpointWarning, QAFineTuner, TrainingConfig
from spanqa.models import DECODING_CONFIG_FILE, load_trained_model
from spanqa.plugins import DISABLE_AUTOLOAD_ENV, PluginLoadWarning, StrategyRegistry, make_plugin_manager
from test_plugins import write_distribution
from training_checks import StepRecorder, assert_same_checkpoint, assert_same_training

from .train_worker import train as train_run

WORKER = Path(__file__).with_name("train_worker.py")
REPO = Path(__file__).resolve().parents[2]
TEAMS = ("Denver Broncos", "Carolina Panthers", "New England Patriots", "Seattle Seahawks")
CITIES = ("Santa Clara", "Houston", "Miami", "Glendale")


def training_records(n: int = 32) -> list[dict[str, Any]]:
    """Small, real-looking training records (no data folder needed)."""
    records = []
    for i in range(n):
        team, city = TEAMS[i % len(TEAMS)], CITIES[(i // len(TEAMS)) % len(CITIES)]
        context = f"The {team} won Super Bowl {i + 10} in {city}, after a season of {i + 3} wins."
        records.append(
            {
                "id": f"q{i}",
                "context": context,
                "question": f"Who won Super Bowl {i + 10}?",
                "answers": {"text": [team], "answer_start": [context.index(team)]},
            }
        )
    return records


@pytest.fixture(scope="module")
def tiny_model(tokenizer_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def other_init_model(tokenizer_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model's architecture and tokenizer with other initial weights (seed 1)."""
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path_factory.mktemp("other") / "model", seed=1)


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.json"
    path.write_text(json.dumps(training_records()), encoding="utf-8")
    return path


def _worker(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, DISABLE_AUTOLOAD_ENV: "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _checkpoint_steps(output: Path) -> list[int]:
    return sorted(int(p.name.split("-")[1]) for p in output.glob("checkpoint-*"))


def _assert_complete_checkpoint(path: Path) -> None:
    from safetensors.torch import load_file

    weights = load_file(str(path / "model.safetensors"))
    assert weights, f"{path}: no tensors"
    state = json.loads((path / "trainer_state.json").read_text())
    assert state["global_step"] == int(path.name.split("-")[1])
    assert not list(path.glob("*.bin")) or [p.name for p in path.glob("*.bin")] == ["training_args.bin"]


def test_training_killed_mid_epoch_resumes_to_the_same_run(
    tiny_model: Path, other_init_model: Path, data_file: Path, tmp_path: Path
) -> None:
    """SIGKILL during training, as soon as a checkpoint of step 4 or later appears (epoch 1 of 2), then
    ``train(resume_from_checkpoint=True)`` in another process, from a model with *other* initial weights:
    it runs only the steps after the newest complete checkpoint (one the kill cut short is skipped and
    written again) and ends exactly where an uninterrupted
    run ends (weights, optimizer and scheduler state, loss curve, every checkpoint on disk, each of them
    complete: safetensors load, state parses). A restart from scratch would do neither."""
    output = tmp_path / "killed"
    process = _worker("train", "--model", str(tiny_model), "--data", str(data_file), "--output", str(output),
                      "--step-delay", "0.25")  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not any(step >= 4 for step in _checkpoint_steps(output)):
            assert process.poll() is None, "the worker ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = max(_checkpoint_steps(output))

    full = train_run(str(tiny_model), str(data_file), str(tmp_path / "full"))
    assert full.trainer is not None and full.trainer.state.global_step == 16  # 32 records, batch 4, 2 epochs
    assert killed_at < 16, "the kill landed before the end of training"

    recorder = StepRecorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteCheckpointWarning)  # the kill may cut a checkpoint short
        resumed = train_run(str(other_init_model), str(data_file), str(output), resume=True,
                            callbacks=[recorder])  # fmt: skip
    assert resumed.trainer is not None
    resumed_from = recorder.steps[0] - 1
    # The newest complete checkpoint: the kill may have landed while checkpoint-<killed_at> was written.
    assert 2 <= resumed_from <= killed_at and resumed_from % 2 == 0
    assert recorder.steps == list(range(resumed_from + 1, 17)), "only the remaining steps run"
    assert_same_training(resumed.trainer, full.trainer)
    steps = _checkpoint_steps(output)
    assert steps == _checkpoint_steps(tmp_path / "full") == list(range(2, 17, 2))
    for step in steps:
        _assert_complete_checkpoint(output / f"checkpoint-{step}")
        assert_same_checkpoint(output / f"checkpoint-{step}", tmp_path / "full" / f"checkpoint-{step}")


def _train_in_process(
    model: Path, records: list[dict[str, Any]], output: Path, **overrides: Any
) -> QAFineTuner:
    config = TrainingConfig(
        output_dir=str(output), num_train_epochs=1.0, per_device_train_batch_size=4, max_length=64, stride=16,
        max_question_tokens=16, save_steps=2, save_total_limit=None, progress=False, **overrides,
    )  # fmt: skip
    return QAFineTuner(model, train_data=records, config=config)


def test_a_checkpoint_cut_short_is_skipped_on_resume(tiny_model: Path, tmp_path: Path) -> None:
    """The newest checkpoint is cut short as a kill during its write leaves it (truncated weights, no
    ``trainer_state.json``): resuming with ``True`` warns, takes the newest *complete* one and finishes
    with the same step count; naming the broken one, or resuming with no checkpoint, is a ConfigError."""
    records = training_records(16)
    output = tmp_path / "run"
    first = _train_in_process(tiny_model, records, output)
    first.train()
    assert first.trainer is not None
    total = first.trainer.state.global_step
    newest = output / f"checkpoint-{total}"
    (newest / "trainer_state.json").unlink()
    weights = newest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])

    resumed = _train_in_process(tiny_model, records, output)
    with pytest.warns(IncompleteCheckpointWarning, match=f"checkpoint-{total}.*no trainer_state.json"):
        resumed.train(resume_from_checkpoint=True)
    assert resumed.trainer is not None and resumed.trainer.state.global_step == total

    with pytest.raises(ConfigError, match="is not a complete checkpoint: no such directory"):
        resumed.train(resume_from_checkpoint=str(output / "checkpoint-999"))
    with pytest.raises(ConfigError, match="holds no complete checkpoint"):
        _train_in_process(tiny_model, records, tmp_path / "empty").train(resume_from_checkpoint=True)


def _assert_absent_or_complete(target: Path) -> None:
    if target.exists():
        for name in ("config.json", "model.safetensors", "tokenizer.json", DECODING_CONFIG_FILE):
            assert (target / name).is_file(), f"{target} looks like a model but lacks {name}"
        load_trained_model(target, "a saved model must answer")
    visible = [p.name for p in target.parent.iterdir() if not p.name.startswith(".")]
    assert visible in ([], [target.name]), f"only the target may look like a model: {visible}"


def test_a_save_killed_at_any_moment_never_leaves_a_half_written_model(
    tiny_model: Path, tmp_path: Path
) -> None:
    """SIGKILL while ``QAFineTuner.save`` writes (a process saving over the same target in a loop, killed
    at three different moments, each over its own target): the target is either absent or a complete,
    loadable model; partial writes stay in hidden ``.<name>.partial-*`` directories."""
    delays = (0.0, 0.05, 0.3)
    targets = [tmp_path / f"saved-{k}" / "model" for k in range(len(delays))]
    for target in targets:
        target.parent.mkdir()
    process = _worker("save", "--model", str(tiny_model), "--target", *map(str, targets))
    assert process.stdout is not None
    try:
        for delay in delays:
            ready, pid = process.stdout.readline().split()
            assert ready == "ready"
            time.sleep(delay)
            os.kill(int(pid), signal.SIGKILL)
            assert process.stdout.readline().split() == ["ended", pid, str(int(signal.SIGKILL))]
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    for target in targets:
        _assert_absent_or_complete(target)


def test_an_interrupted_save_keeps_the_previous_model(tiny_model: Path, tmp_path: Path) -> None:
    """``KeyboardInterrupt`` (Ctrl-C) raised inside ``save`` while the new model is being written: the
    previous model stays in place, whole, and no staging directory is left behind."""
    target = tmp_path / "model"
    tuner = QAFineTuner(tiny_model)
    tuner.save(target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    tuner.tokenizer.save_pretrained = interrupted  # a real object whose save is interrupted midway
    with pytest.raises(KeyboardInterrupt):
        tuner.save(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


# --------------------------------------------------------------------------------------------------------
# Plugins: faults test_plugins.py does not cover.


PLUGIN_MODULE = """
from pathlib import Path
from spanqa import hookimpl
from spanqa.strategies import Strategy

Path({marker!r}).write_text("imported")


class {cls}(Strategy):
    '''Leaves the candidates as they are.'''

    name = {strategy!r}


@hookimpl
def spanqa_register_strategies(register):
    register({cls})
"""


@pytest.fixture
def two_distributions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two installed distributions that both declare the entry point ``clash`` (different strategies)."""
    unique = uuid.uuid4().hex[:8]  # a fresh module name per test, so its import-time code runs again
    for dist, module, cls, strategy in (
        ("spanqa-first", f"spanqa_first_{unique}", "First", "first-strategy"),
        ("spanqa-second", f"spanqa_second_{unique}", "Second", "second-strategy"),
    ):
        marker = tmp_path / f"{module}.imported"
        source = PLUGIN_MODULE.format(marker=str(marker), cls=cls, strategy=strategy)
        write_distribution(tmp_path / dist, dist, {"clash": module}, {module: source})
        monkeypatch.syspath_prepend(str(tmp_path / dist))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    return tmp_path


def test_two_plugins_with_one_entry_point_name_are_both_named_and_the_rest_works(
    two_distributions: Path,
) -> None:
    """Two distributions declaring the same entry-point name: the first loads, the second is recorded as a
    failed plugin naming both distributions, and every other strategy keeps working."""
    with pytest.warns(
        PluginLoadWarning, match=r"plugin 'clash' \(from spanqa-\w+\).*already used by spanqa-"
    ):
        pm = make_plugin_manager()
    registry = StrategyRegistry(pm)
    [failure] = [f for f in registry.failed if f.name == "clash"]
    assert {failure.distribution, pm.plugin_distributions["clash"]} == {"spanqa-first", "spanqa-second"}
    assert {"length-capped", "n-best", "null-answer"} <= set(registry.names())
    assert len({"first-strategy", "second-strategy"} & set(registry.names())) == 1


def test_autoload_switched_off_never_imports_plugin_code(
    two_distributions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SPANQA_DISABLE_PLUGIN_AUTOLOAD=1``: no third-party plugin module is even imported (its import-time
    code does not run), and the built-ins still work. (``tests/test_plugins.py`` checks the listing.)"""
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    registry = StrategyRegistry(make_plugin_manager())
    assert registry.names() == ("length-capped", "n-best", "null-answer", "null-relative", "same-text")
    assert not list(two_distributions.glob("*.imported"))
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "0")
    with pytest.warns(PluginLoadWarning):
        make_plugin_manager()
    assert len(list(two_distributions.glob("*.imported"))) == 1


def test_a_strategy_name_clash_is_one_clear_line_in_spanqa_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two distributions registering the same *strategy* name: ``spanqa plugins`` still lists every other
    strategy, and reports the clash naming both plugins; the name itself cannot be used (the registry
    refuses to guess which one is meant), so decoding with it is one clear error naming both."""
    for dist, module in (("spanqa-one", "spanqa_one_mod"), ("spanqa-two", "spanqa_two_mod")):
        source = PLUGIN_MODULE.format(marker=str(tmp_path / module), cls="Same", strategy="same-name")
        write_distribution(tmp_path / dist, dist, {module: module}, {module: source})
        monkeypatch.syspath_prepend(str(tmp_path / dist))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        status = cli.main(["plugins"])
    out = capsys.readouterr().out
    assert status == 0
    assert {"length-capped", "n-best", "null-answer"} <= {
        line.split()[0] for line in out.splitlines() if line
    }
    [line] = [line for line in out.splitlines() if "registered twice" in line]
    assert "'same-name' is registered twice" in line and "spanqa_one_mod" in line and "spanqa_two_mod" in line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        # Both plugins, in the message's order (the one whose strategy was registered first, then the
        # clashing one), then the consequence: one regex, no alternation.
        with pytest.raises(
            PluginError,
            match=r"strategy name 'same-name' is registered twice: by plugin 'spanqa_two_mod' "
            r"\(spanqa_two_mod\.Same\) and by plugin 'spanqa_one_mod' \(spanqa_one_mod\.Same\); "
            r"'same-name' cannot be used until one of them is uninstalled",
        ):
            DecodingConfig.compose(["same-name"], plugin_manager=make_plugin_manager())
