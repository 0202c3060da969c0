"""A child process for the fault tests: train (or save) a tiny model so that the test can SIGKILL it.

``train``: fine-tune with a checkpoint every ``--save-steps`` steps, optionally slowed down per step (so a
kill lands mid-epoch) and optionally resuming from the newest complete checkpoint; prints
``{"global_step": N}`` as the last line of stdout when it finishes.

``save``: load the model and save it to ``--target`` over and over, printing ``ready`` first, until it is
killed: wherever the kill lands, ``--target`` must be absent or a complete model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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


def _train(options: argparse.Namespace) -> int:
    config = TrainingConfig(
        output_dir=options.output,
        num_train_epochs=2.0,
        learning_rate=5e-3,
        per_device_train_batch_size=4,
        max_length=64,
        stride=16,
        max_question_tokens=16,
        save_steps=options.save_steps,
        save_total_limit=None,
        logging_steps=1,
        progress=False,
    )
    callbacks = [Throttle(options.step_delay)] if options.step_delay > 0 else []
    tuner = QAFineTuner(options.model, train_data=options.data, config=config, callbacks=callbacks)
    tuner.train(resume_from_checkpoint=True if options.resume else None)
    assert tuner.trainer is not None
    print(json.dumps({"global_step": tuner.trainer.state.global_step}), flush=True)
    return 0


def _save(options: argparse.Namespace) -> int:
    tuner = QAFineTuner(options.model)
    print("ready", flush=True)
    while True:
        tuner.save(options.target)


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
    save.add_argument("--target", required=True)
    options = parser.parse_args(argv)
    torch.set_num_threads(1)
    return _train(options) if options.command == "train" else _save(options)


if __name__ == "__main__":
    sys.exit(main())
