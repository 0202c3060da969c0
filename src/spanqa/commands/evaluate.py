"""Evaluate a fine-tuned model on SQuAD-format data: EM/F1 (v1.1) or the full v2.0 breakdown.

On data with unanswerable questions the null threshold is tuned for best F1 in the same pass (unless
--null_score_diff_threshold fixes it); --save-threshold writes it into the model directory, so later
predictions use it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spanqa.commands._options import (
    add_decoding_options,
    add_option,
    add_runtime_options,
    add_window_options,
    decoding_config,
    print_json,
    print_metrics,
)

NAME = "evaluate"
HELP = "score a fine-tuned model on SQuAD-format data (EM/F1, SQuAD 2.0 breakdown)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_option(parser, "model", required=True, metavar="DIR", help="a model directory saved by spanqa train")
    add_option(parser, "data", required=True, metavar="FILE", help="SQuAD JSON or JSON lines with answers")
    add_option(
        parser,
        "predictions_file",
        metavar="FILE",
        help="also write {id: answer} (the official scripts' prediction format) here",
    )
    add_option(
        parser,
        "save_threshold",
        action="store_true",
        help="store the tuned null threshold in the model directory",
    )
    add_window_options(parser)
    add_decoding_options(parser)
    add_runtime_options(parser)


def run(args: argparse.Namespace) -> int:
    from spanqa.data import load_records
    from spanqa.finetune import QAFineTuner, TrainingConfig

    config = TrainingConfig(
        output_dir=str(Path(args.model) / "checkpoints"),
        max_length=args.max_seq_length,
        stride=args.doc_stride,
        max_question_tokens=args.max_question_tokens,
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        progress=not args.no_progress,
    )
    tuner = QAFineTuner(args.model, config=config)
    loaded = load_records(args.data)
    has_null = any(record["is_impossible"] for record in loaded.records)
    tuner.decoding = decoding_config(args, tuner.decoding, squad_v2=has_null)
    fixed = args.null_score_diff_threshold is not None
    result = tuner.evaluate(loaded, tune_threshold=False if fixed else None)
    if args.predictions_file:
        texts = {key: prediction.text for key, prediction in result.predictions.items()}
        Path(args.predictions_file).write_text(json.dumps(texts, ensure_ascii=False, indent=2) + "\n")
    if args.save_threshold:
        tuner.save(args.model)
    if args.json:
        print_json(
            {"metrics": result.metrics, "decoding": result.decoding.to_dict(), "seconds": result.seconds}
        )
    else:
        print_metrics(result.metrics, f"{args.model} on {args.data} ({result.seconds:.1f} s):")
        if result.decoding.null_threshold is not None:
            print(
                f"null threshold: {result.decoding.null_threshold:.4f}"
                + (" (saved with the model)" if args.save_threshold else "")
            )
    return 0
