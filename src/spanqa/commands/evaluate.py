"""Evaluate a fine-tuned model on SQuAD-format data: EM/F1 (v1.1) or the full v2.0 breakdown.

On data with unanswerable questions the null threshold is tuned for best F1 in the same pass, unless
--null_score_diff_threshold fixes it or the model's decoding was chosen on tuning data (spanqa train does
that), whose threshold is kept. --tune chooses the whole decoding on DATA instead (answer-length cap,
same-text, null-relative and the null threshold), prints what each choice scored, and reports the scores
of the choice: they are optimistic for DATA, so tune on a dev split and report on another file. --save
writes the decoding used into the model directory, so later predictions use it.

--report DIR also writes an evaluation report into DIR: metrics.json, a plot of EM and F1 against the null
threshold (SQuAD 2.0 data), a plot of gold vs predicted answer lengths, a calibration plot and errors.html,
which highlights the gold and predicted spans of every wrong answer in its context (needs the `report`
extra: pip install 'spanqa[report]').
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from spanqa.commands._options import (
    add_decoding_options,
    add_option,
    add_runtime_options,
    add_window_options,
    decoding_config,
    decoding_grid,
    print_json,
    print_metrics,
    training_config,
)
from spanqa.errors import ConfigError

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
        "tune",
        action="store_true",
        help="choose the decoding on DATA from a grid (answer-length caps, same-text and null-relative on "
        "and off; a decoding option given fixes its part of the grid) and print what each scored",
    )
    parser.add_argument(
        "--save",
        "--save_threshold",
        "--save-threshold",
        dest="save",
        action="store_true",
        help="store the decoding used (tuned with --tune, or its tuned null threshold) in the model "
        "directory (--save_threshold: the older name)",
    )
    add_option(
        parser,
        "report",
        metavar="DIR",
        help="write an evaluation report (metrics.json, plots, errors.html) into DIR",
    )
    add_option(
        parser,
        "report_max_errors",
        type=int,
        default=200,
        metavar="N",
        help="how many wrong answers errors.html lists, worst first (default: %(default)s)",
    )
    add_window_options(parser)
    add_decoding_options(parser)
    add_runtime_options(parser)


def run(args: argparse.Namespace) -> int:
    from spanqa.data import load_records
    from spanqa.finetune import QAFineTuner
    from spanqa.models import UntrainedHeadWarning

    if args.report:
        from spanqa.report import require_plotting

        if args.report_max_errors < 0:
            raise ConfigError(f"--report_max_errors must be >= 0, got {args.report_max_errors}")
        require_plotting()  # a missing extra fails now, not after a long evaluation

    with warnings.catch_warnings():  # an untrained head is refused by evaluate() below, in one clear line
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        tuner = QAFineTuner(args.model, config=training_config(args, str(Path(args.model) / "checkpoints")))
    loaded = load_records(args.data)
    has_null = any(record["is_impossible"] for record in loaded.records)
    tuner.decoding = decoding_config(args, tuner.decoding, squad_v2=has_null)
    fixed = args.null_score_diff_threshold is not None
    if args.tune:
        if fixed:
            raise ConfigError("--tune chooses the null threshold; leave out --null_score_diff_threshold")
        choice = tuner.tune_decoding(loaded, grid=decoding_grid(args))
        if not args.json:
            print(choice.format())
            print("(the scores below were tuned on this data: report on other questions)\n")
    result = tuner.evaluate(loaded, tune_threshold=False if fixed or args.tune else None)
    if args.predictions_file:
        texts = {key: prediction.text for key, prediction in result.predictions.items()}
        Path(args.predictions_file).write_text(json.dumps(texts, ensure_ascii=False, indent=2) + "\n")
    if args.save:
        tuner.save(args.model)
    if args.report:
        from spanqa.report import write_report

        files = write_report(
            args.report,
            loaded.records,
            result.predictions,
            metrics=result.metrics,
            null_threshold=result.decoding.null_threshold,
            max_errors=args.report_max_errors,
        )
        if not args.json:
            print(f"report written to {files.directory}")
    if args.json:
        payload = {
            "metrics": result.metrics,
            "decoding": result.decoding.to_dict(),
            "seconds": result.seconds,
        }
        if tuner.decoding_choice is not None and args.tune:
            payload["tuning"] = tuner.decoding_choice.to_dict()
        print_json(payload)
    else:
        print_metrics(result.metrics, f"{args.model} on {args.data} ({result.seconds:.1f} s):")
        if result.decoding.null_threshold is not None:
            print(
                f"null threshold: {result.decoding.null_threshold:.4f}"
                + (" (saved with the model)" if args.save else "")
            )
    return 0
