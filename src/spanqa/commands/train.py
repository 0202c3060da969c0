"""Fine-tune an extractive QA model on SQuAD-format data, evaluate it and save it.

Checkpoints go to OUTPUT_DIR/checkpoints (resume with --resume_from_checkpoint), the final model, its
tokenizer and its decoding config to OUTPUT_DIR/model. The decoding (answer-length cap, the same-text and
null-relative strategies, and on SQuAD 2.0 data the null threshold) is chosen after training on questions
held out of the training file (or --tuning_file), never on --validation_file, which is only reported; the
grid of what each choice scored is printed and saved with the model. Options are named as in
transformers' run_qa.py.

example:
  spanqa train --model_name_or_path ./encoder --train_file train.json --validation_file dev.json \\
      --output_dir runs/reader --num_train_epochs 2 --learning_rate 1e-4
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spanqa.commands._options import (
    add_decoding_options,
    add_option,
    add_runtime_options,
    add_training_options,
    add_tuning_options,
    add_window_options,
    decoding_config,
    decoding_grid,
    print_json,
    print_metrics,
    training_config,
)

NAME = "train"
HELP = "fine-tune a model on SQuAD-format data, evaluate and save it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "model_name_or_path",
        required=True,
        metavar="DIR",
        help="pretrained encoder or QA model directory (with a fast tokenizer)",
    )
    add_option(parser, "train_file", required=True, metavar="FILE", help="SQuAD JSON or JSON lines")
    add_option(parser, "validation_file", metavar="FILE", help="evaluated after training (EM/F1)")
    add_option(
        parser,
        "output_dir",
        required=True,
        metavar="DIR",
        help="checkpoints/ and the final model/ are written here",
    )
    add_option(
        parser,
        "resume_from_checkpoint",
        nargs="?",
        const=True,
        default=None,
        metavar="CHECKPOINT",
        help="resume from this checkpoint (without a value: the newest in OUTPUT_DIR/checkpoints)",
    )
    add_option(
        parser,
        "data_policy",
        choices=("repair", "drop", "error"),
        default="repair",
        help="what to do with answers whose offsets are wrong (default: %(default)s)",
    )
    add_training_options(parser)
    add_tuning_options(parser)
    add_window_options(parser)
    add_decoding_options(parser)
    add_runtime_options(parser)


def run(args: argparse.Namespace) -> int:
    from spanqa.finetune import QAFineTuner

    output = Path(args.output_dir)
    tuner = QAFineTuner(
        args.model_name_or_path,
        train_data=args.train_file,
        eval_data=args.validation_file,
        config=training_config(args, str(output / "checkpoints")),
        data_policy=args.data_policy,
        tuning_data=args.tuning_file,
        decoding_grid=decoding_grid(args) if args.tuning_file or args.tuning_size else None,
    )
    if tuner.train_data is not None and not tuner.train_data.report.clean and not args.json:
        print(tuner.train_data.report.format(max_items=5))
    evaluated = [*(tuner.eval_data.records if tuner.eval_data is not None else [])]
    evaluated += tuner.tuning_data.records if tuner.tuning_data is not None else []
    has_null = any(record["is_impossible"] for record in evaluated)
    tuner.decoding = decoding_config(args, tuner.decoding, squad_v2=has_null)
    train_metrics = tuner.train(resume_from_checkpoint=args.resume_from_checkpoint)
    payload: dict[str, object] = {"train": train_metrics}
    if tuner.train_features is not None:
        payload["alignment"] = tuner.train_features.report.to_dict()
    choice = tuner.decoding_choice
    payload["decoding"] = tuner.decoding.to_dict() if tuner.decoding is not None else None
    payload["tuning"] = choice.to_dict() if choice is not None else {"skipped": tuner.tuning_skipped}
    if args.validation_file:
        result = tuner.evaluate()
        payload["eval"] = result.metrics
    saved = tuner.save(output / "model")
    payload["model"] = str(saved)
    if args.json:
        print_json(payload)
    else:
        if tuner.train_features is not None:
            print(tuner.train_features.report)
        print(choice.format() if choice is not None else f"decoding not tuned: {tuner.tuning_skipped}")
        if "eval" in payload:
            print_metrics(payload["eval"], f"evaluation on {args.validation_file}:")  # type: ignore[arg-type]
        print(f"model saved to {saved}")
    return 0
