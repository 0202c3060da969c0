"""A child process for the fault tests: train (or save) a tiny model so that the test can SIGKILL it.

``train``: fine-tune with a checkpoint every ``--save-steps`` steps, optionally slowed down per step (so a
kill lands mid-epoch) and optionally resuming from the newest complete checkpoint; prints
``{"global_step": N}`` as the last line of stdout when it finishes.

``save``: load the model once, then for each ``--target`` in turn fork a process that prints
``ready <pid>`` and saves the model to that target over and over until the test SIGKILLs it; the worker
prints ``ended <pid> <signal>`` when it is gone and forks the next one (one import for several kills).
Wherever a kill lands, its target must be absent or a complete model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import torch
from transformers import TrainerCallback

from spanqa.finetune import QAFineTuner, TrainingConfig


class Throttle(TrainerCallback):
    """Sleeps after every optimizer step: a tiny model trains too fast to be killed mid-epoch otherwise."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        time.sleep(self.seconds)


def train(
    model: str,
    data: str,
    output: str,
    *,
    save_steps: int = 2,
    step_delay: float = 0.0,
    resume: bool = False,
    callbacks: Sequence[TrainerCallback] = (),
) -> QAFineTuner:
    """The worker's training run; the fault tests also call it in-process (same settings, same result)."""
    config = TrainingConfig(
        output_dir=output,
        num_train_epochs=2.0,
        learning_rate=5e-3,
        per_device_train_batch_size=4,
        max_length=64,
        stride=16,
        max_question_tokens=16,
        save_steps=save_steps,
        save_total_limit=None,
        logging_steps=1,
        progress=False,
    )
    throttle = [Throttle(step_delay)] if step_delay > 0 else []
    tuner = QAFineTuner(model, train_data=data, config=config, callbacks=[*throttle, *callbacks])
    tuner.train(resume_from_checkpoint=True if resume else None)
    return tuner


def _train(options: argparse.Namespace) -> int:
    tuner = train(
        options.model,
        options.data,
        options.output,
        save_steps=options.save_steps,
        step_delay=options.step_delay,
        resume=options.resume,
    )
    assert tuner.trainer is not None
    print(json.dumps({"global_step": tuner.trainer.state.global_step}), flush=True)
    return 0


def _save(options: argparse.Namespace) -> int:
    tuner = QAFineTuner(options.model)
    for target in options.target:
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the process to kill: it never returns
            print(f"ready {os.getpid()}", flush=True)
            while True:
                tuner.save(target)
        _, status = os.waitpid(pid, 0)
        print(f"ended {pid} {os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train")
    train.add_argument("--model", required=True)
    train.add_argument("--data", required=True)
    train.add_argument("--output", required=True)
    train.add_argument("--save-steps", type=int, default=2)
    train.add_argument("--step-delay", type=float, default=0.0)
    train.add_argument("--resume", action="store_true")
    save = commands.add_parser("save")
    save.add_argument("--model", required=True)
    save.add_argument("--target", required=True, nargs="+")
    options = parser.parse_args(argv)
    torch.set_num_threads(1)
    return _train(options) if options.command == "train" else _save(options)


if __name__ == "__main__":
    sys.exit(main())
