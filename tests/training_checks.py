"""Checks that a resumed training run *is* the interrupted run, not a fresh one that ends at the same step.

A restart from scratch with the same seed reproduces the step count and, from the same initial weights,
even the final weights. What it cannot reproduce:

* the steps it runs: a resumed run executes only the steps after its checkpoint (:class:`StepRecorder`);
* a run started from *other* initial weights: resuming loads the checkpoint's weights, optimizer
  (Adam moments), scheduler, RNG and data position, so the final weights, the optimizer and scheduler
  state and the logged loss curve equal an uninterrupted run's (:func:`assert_same_training`), whereas a
  fresh start from those other weights ends elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

RTOL, ATOL = 1e-4, 1e-6


class StepRecorder(TrainerCallback):  # type: ignore[misc]
    """Records the global step after every optimizer step this process runs."""

    def __init__(self) -> None:
        self.steps: list[int] = []

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.steps.append(state.global_step)


def assert_close_tensors(actual: Mapping[Any, Any], expected: Mapping[Any, Any], what: str) -> None:
    """Two (nested) state dicts hold the same keys and allclose tensors / equal other values."""
    assert actual.keys() == expected.keys(), f"{what}: keys differ"
    for key, value in expected.items():
        other = actual[key]
        if isinstance(value, Mapping):
            assert_close_tensors(other, value, f"{what}.{key}")
        elif isinstance(value, list | tuple):
            assert len(other) == len(value), f"{what}.{key}: lengths differ"
            for k, (a, b) in enumerate(zip(other, value, strict=True)):
                if isinstance(b, Mapping):
                    assert_close_tensors(a, b, f"{what}.{key}[{k}]")
                else:
                    assert a == b, f"{what}.{key}[{k}]: {a!r} != {b!r}"
        elif isinstance(value, torch.Tensor):
            assert torch.allclose(other.float(), value.float(), rtol=RTOL, atol=ATOL), (
                f"{what}.{key}: tensors differ (max abs diff "
                f"{(other.float() - value.float()).abs().max().item():.3g})"
            )
        elif isinstance(value, float):
            assert abs(other - value) <= ATOL + RTOL * abs(value), f"{what}.{key}: {other!r} != {value!r}"
        else:
            assert other == value, f"{what}.{key}: {other!r} != {value!r}"


def step_logs(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-step entries of a Trainer log history (loss, learning rate, grad norm), without the run
    summary (``train_loss`` averages only over the steps the last process ran)."""
    return [
        {key: entry[key] for key in ("step", "loss", "learning_rate", "grad_norm") if key in entry}
        for entry in log_history
        if "loss" in entry
    ]


def assert_same_log_history(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    actual_steps, expected_steps = step_logs(actual), step_logs(expected)
    assert expected_steps, "the log history holds no step entry: log more often"
    assert [e["step"] for e in actual_steps] == [e["step"] for e in expected_steps]
    for a, e in zip(actual_steps, expected_steps, strict=True):
        assert_close_tensors(a, e, f"log_history[step {e['step']}]")


def assert_same_training(resumed: Any, full: Any) -> None:
    """``resumed`` and ``full`` (two ``transformers.Trainer``s after ``train()``) ended in the same state:
    weights, optimizer, scheduler, global step and logged loss curve."""
    assert resumed.state.global_step == full.state.global_step
    assert_close_tensors(resumed.model.state_dict(), full.model.state_dict(), "weights")
    assert_close_tensors(resumed.optimizer.state_dict(), full.optimizer.state_dict(), "optimizer")
    assert_close_tensors(resumed.lr_scheduler.state_dict(), full.lr_scheduler.state_dict(), "scheduler")
    assert_same_log_history(resumed.state.log_history, full.state.log_history)


def assert_same_checkpoint(actual: Path, expected: Path) -> None:
    """Two checkpoint directories hold the same weights, optimizer and scheduler state and log history."""
    from safetensors.torch import load_file

    assert_close_tensors(
        load_file(str(actual / "model.safetensors")),
        load_file(str(expected / "model.safetensors")),
        "weights",
    )
    for name in ("optimizer.pt", "scheduler.pt"):
        assert_close_tensors(
            torch.load(actual / name, weights_only=True), torch.load(expected / name, weights_only=True), name
        )
    states = [json.loads((path / "trainer_state.json").read_text()) for path in (actual, expected)]
    assert states[0]["global_step"] == states[1]["global_step"]
    assert_same_log_history(states[0]["log_history"], states[1]["log_history"])
