"""Score a predictions file against SQuAD data, offline: a drop-in for the official evaluation scripts.

Reads the same files as evaluate-v2.0.py (and, with --squad-v1, evaluate-v1.1.py): the data JSON, a
predictions JSON mapping question id -> answer text ("" for no answer) and, optionally, a no-answer
probability JSON mapping question id -> number. The numbers are the scripts' to the last digit; the key
names are theirs too (exact, f1, total, HasAns_*, NoAns_*, best_* for v2.0; exact_match, f1 for v1.1).
Questions without a prediction score 0 and are reported on stderr.

The official scripts' command line works as it is (DATA PRED, --na-prob-file/-n, --out-file/-o,
--na-prob-thresh/-t), so spanqa score replaces `python evaluate-v2.0.py` word for word.

examples:
  spanqa score dev-v2.0.json predictions.json --na-prob-file null_odds.json --out-file eval.json
  spanqa score --data dev-v2.0.json --predictions predictions.json --na-probs null_odds.json
  spanqa score --data dev-v1.1.json --predictions predictions.json --squad-v1 --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

from spanqa.errors import ConfigError
from spanqa.metrics import (
    MissingPredictionWarning,
    evaluate,
    evaluate_v1,
    load_gold,
    load_na_probs,
    load_predictions,
)

NAME = "score"
HELP = "SQuAD v2.0 / v1.1 exact match and F1 of a predictions file (the official scripts' numbers)"

#: Missing question ids listed on stderr before the rest are summarised.
_MISSING_SHOWN = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The official scripts' command line (``DATA PRED``, ``--na-prob-file``/``-n``, ``--out-file``/``-o``,
    ``--na-prob-thresh``/``-t``), and spanqa's named spelling of the same (``--data``, ``--predictions``,
    ``--na-probs``)."""
    parser.add_argument(
        "data_file", nargs="?", metavar="DATA", help="as --data (the scripts' first argument)"
    )
    parser.add_argument(
        "pred_file", nargs="?", metavar="PRED", help="as --predictions (the scripts' second argument)"
    )
    parser.add_argument("--data", metavar="FILE", help="SQuAD-format JSON with the gold answers")
    parser.add_argument("--predictions", metavar="PRED.json", help="JSON object: question id -> answer text")
    parser.add_argument(
        "--na-probs",
        "--na-prob-file",
        "-n",
        dest="na_probs",
        metavar="NA.json",
        help="JSON object: question id -> no-answer probability; adds the best_* scores and thresholds",
    )
    parser.add_argument(
        "--na-prob-thresh",
        "-t",
        type=float,
        default=1.0,
        metavar="T",
        help='score a question as answered "" when its no-answer probability is > T (default: %(default)s)',
    )
    parser.add_argument(
        "--squad-v1", action="store_true", help="SQuAD v1.1 metric (exact_match, f1) instead of v2.0"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the scores as JSON, as the official scripts do"
    )
    parser.add_argument(
        "--out-file", "-o", metavar="F", help="also write the scores to F as JSON (like the scripts' -o)"
    )


def _one_of(positional: str | None, option: str | None, name: str, flag: str) -> str:
    if positional is not None and option is not None:
        raise ConfigError(
            f"the {name} file is given twice ({positional!r} and {flag} {option!r}); give it once"
        )
    given = positional if positional is not None else option
    if given is None:
        raise ConfigError(f"the {name} file is missing: give DATA PRED, or {flag} FILE")
    return given


def run(args: argparse.Namespace) -> int:
    """Load the three files, report missing predictions, score, print and optionally write the scores."""
    args.data = _one_of(args.data_file, args.data, "data", "--data")
    args.predictions = _one_of(args.pred_file, args.predictions, "predictions", "--predictions")
    if args.squad_v1 and args.na_probs is not None:
        raise ConfigError("--na-probs applies to SQuAD v2.0 scoring; it cannot be combined with --squad-v1")
    if math.isnan(args.na_prob_thresh):
        raise ConfigError("--na-prob-thresh must be a number, got NaN")
    gold = load_gold(args.data)
    predictions = load_predictions(args.predictions)
    na_probs = load_na_probs(args.na_probs) if args.na_probs is not None else None

    missing = gold.missing_ids(predictions)
    if missing:
        shown = ", ".join(missing[:_MISSING_SHOWN]) + (", ..." if len(missing) > _MISSING_SHOWN else "")
        print(
            f"spanqa score: {len(missing)} of {len(gold)} questions have no prediction in "
            f"{args.predictions} and score 0: {shown}",
            file=sys.stderr,
        )
    with warnings.catch_warnings():
        # Reported above, with the predictions file named; the library's warning would say it twice.
        warnings.simplefilter("ignore", MissingPredictionWarning)
        if args.squad_v1:
            scores = evaluate_v1(gold, predictions)
        else:
            scores = evaluate(gold, predictions, na_probs, na_prob_thresh=args.na_prob_thresh)

    if args.out_file is not None:
        try:
            Path(args.out_file).write_text(json.dumps(scores), encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"--out-file {args.out_file!r} cannot be written: {error}") from None
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        version = "v1.1" if args.squad_v1 else "v2.0"
        print(f"SQuAD {version} scores of {args.predictions} on {args.data}")
        print(format_table(scores))
    return 0


def format_table(scores: dict[str, float]) -> str:
    """A readable table of :func:`~spanqa.metrics.evaluate` or :func:`~spanqa.metrics.evaluate_v1` output.

    v2.0 scores become one row per subset (all, HasAns, NoAns) with exact, F1 and the question count, then
    the best scores with their thresholds; v1.1 scores become two lines.
    """
    if "exact_match" in scores:
        return f"exact_match  {scores['exact_match']:7.2f}\nf1           {scores['f1']:7.2f}"
    lines = [f"{'':8}{'exact':>9}{'f1':>9}{'total':>9}"]
    for label, prefix in (("all", ""), ("HasAns", "HasAns_"), ("NoAns", "NoAns_")):
        if f"{prefix}total" in scores:
            lines.append(
                f"{label:8}{scores[prefix + 'exact']:9.2f}{scores[prefix + 'f1']:9.2f}"
                f"{int(scores[prefix + 'total']):9d}"
            )
    if "best_exact" in scores:
        lines.append(
            f"{'best':8}{scores['best_exact']:9.2f}{scores['best_f1']:9.2f}"
            f"   thresholds: exact {scores['best_exact_thresh']:.6g}, f1 {scores['best_f1_thresh']:.6g}"
        )
    return "\n".join(lines)
