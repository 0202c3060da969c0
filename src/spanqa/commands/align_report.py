"""Align a data file with a tokenizer and report how every gold answer fares.

Loads FILE with the data layer (answers whose offsets are wrong are repaired, dropped or rejected by
--policy), splits every context into windows of --max-length tokens overlapping by --stride tokens, labels
each window with the fast tokenizer's character offsets, decodes every label back to characters and
compares it with the gold answer. The report counts the answers aligned exactly, covered by a token span
that is wider than the answer, outside every window (lost to max-length/stride), and failed (the label
does not decode to the answer), with the ids of the last three kinds, plus what the data layer repaired
or dropped.

The tokenizer is loaded from a local directory only (nothing is downloaded). The exit status is 0 when no
answer failed, 1 when some did (so scripts can gate on it), and 2 with a one-line message for an unusable
tokenizer, bad settings or a malformed file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spanqa.align import Aligner
from spanqa.commands._options import add_option, add_window_options
from spanqa.data import POLICIES, load_records

NAME = "align-report"
HELP = "align a data file with a tokenizer and check every label against its gold answer"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tokenizer", required=True, metavar="DIR", type=Path, help="local folder of a fast tokenizer"
    )
    parser.add_argument(
        "--data", required=True, metavar="FILE", type=Path, help="SQuAD JSON, flat JSON or JSON lines file"
    )
    add_window_options(parser)
    # The spellings this command had before it shared the window options of train/evaluate/predict.
    for old, dest in (("--max-length", "max_seq_length"), ("--stride", "doc_stride")):
        parser.add_argument(old, dest=dest, type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--policy",
        choices=POLICIES,
        default="repair",
        help="what the data layer does with an answer not at its answer_start (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--all-ids", action="store_true", help="list every id in the text report (default: the first 20)"
    )
    add_option(parser, "no_progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    aligner = Aligner.from_pretrained(
        args.tokenizer,
        max_length=args.max_seq_length,
        stride=args.doc_stride,
        max_question_tokens=args.max_question_tokens,
        progress=False if args.no_progress else None,
    )
    loaded = load_records(args.data, policy=args.policy)
    report = aligner.align_report(loaded.records, data_report=loaded.report)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(
            f"{args.data} with {args.tokenizer} (max_seq_length {aligner.max_length}, "
            f"doc_stride {aligner.stride}, max_question_tokens {aligner.max_question_tokens}, "
            f"{'question' if aligner.question_first else 'context'} first)"
        )
        print(report.format(max_ids=None if args.all_ids else 20))
    return 0 if report.ok else 1
