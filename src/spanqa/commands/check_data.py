"""Check a SQuAD-format data file before training or evaluating on it.

Reads FILE (SQuAD v1.1/v2.0 JSON, a flat JSON list of records, or JSON lines), checks its structure and
every answer against its context (context[start:start+len(text)] == text), and prints what the chosen
policy repairs or drops, by record id:

  repair  move an answer to the nearest occurrence of its text (default)
  drop    leave out answers that do not match, and records left without answers
  error   stop at the first answer that does not match

Answers padded with whitespace are stripped under every policy (and reported). With --output the kept,
repaired records are written back as SQuAD v2.0 JSON. The exit status is 0 when the file loads and 2,
with a one-line message naming the record, when it is malformed or (with --policy error) an answer does
not match its context.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spanqa.data import POLICIES, load_records, write_squad

NAME = "check-data"
HELP = "validate a SQuAD-format data file and report repaired or dropped answers"

#: Entries per list the text report shows without --all.
_DEFAULT_MAX_ITEMS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="SQuAD JSON, flat JSON or JSON lines file")
    parser.add_argument(
        "--policy",
        choices=POLICIES,
        default="repair",
        help="what to do with an answer whose text is not at its answer_start (default: repair)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (every entry) instead of text"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"list every repaired and dropped entry in the text report (default: {_DEFAULT_MAX_ITEMS})",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        type=Path,
        help="write the kept (repaired) records to PATH as SQuAD v2.0 JSON",
    )


def run(args: argparse.Namespace) -> int:
    loaded = load_records(args.file, policy=args.policy)
    if args.output is not None:
        write_squad(loaded.records, args.output, version="v2.0")
    if args.json:
        print(json.dumps(loaded.report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(loaded.report.format(max_items=None if args.all else _DEFAULT_MAX_ITEMS))
        if args.output is not None:
            print(f"wrote {len(loaded.records):,} records to {args.output}")
    return 0
