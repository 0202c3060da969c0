"""Answer questions with a fine-tuned model: one question and context, or every question of a file.

With --question and --context it prints the top-k answers; with --data it writes {id: answer} (the
official SQuAD scripts' prediction format, so `spanqa score` reads it) to --output or stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spanqa.commands._options import (
    add_decoding_options,
    add_option,
    add_window_options,
    decoding_config,
    print_json,
)
from spanqa.errors import ConfigError

NAME = "predict"
HELP = "answer a question about a context, or every question of a SQuAD-format file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_option(parser, "model", required=True, metavar="DIR", help="a model directory saved by spanqa train")
    add_option(parser, "question", metavar="TEXT", help="the question (with --context)")
    add_option(parser, "context", metavar="TEXT", help="the context to answer from; @FILE reads a text file")
    add_option(parser, "data", metavar="FILE", help="SQuAD JSON or JSON lines (answers not needed)")
    add_option(parser, "output", metavar="FILE", help="with --data: write predictions here (default: stdout)")
    add_option(parser, "top_k", type=int, default=1, metavar="K", help="answers per question (default: 1)")
    add_window_options(parser)
    add_option(
        parser,
        "batch_size",
        type=int,
        default=32,
        metavar="N",
        help="windows per forward pass, at most (default: %(default)s)",
    )
    add_option(
        parser,
        "max_batch_tokens",
        type=_batch_tokens,
        default="auto",
        metavar="N",
        help="padded tokens per forward pass, at most: a number, 'none', or 'auto' (2048 on the CPU, no cap "
        "on a GPU; the default)",
    )
    add_option(parser, "device", metavar="DEVICE", help="cpu, cuda or mps (default: cuda when available)")
    add_option(
        parser,
        "precision",
        choices=("fp32", "fp16", "bf16"),
        default="fp32",
        help="fp16/bf16 on a GPU; bf16 also on a CPU with AVX512-BF16 or AMX (default: %(default)s)",
    )
    add_option(parser, "json", action="store_true", help="print machine-readable JSON")
    add_decoding_options(parser)


def _batch_tokens(value: str) -> int | str | None:
    if value in ("auto", "none"):
        return None if value == "none" else "auto"
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'auto' or 'none', got {value!r}") from None


def run(args: argparse.Namespace) -> int:
    from spanqa.data import load_questions
    from spanqa.reader import Reader

    single = args.question is not None or args.context is not None
    if single == (args.data is not None):
        raise ConfigError("give either --question and --context, or --data FILE")
    if single and (args.question is None or args.context is None):
        raise ConfigError("--question and --context go together")
    reader = Reader.from_pretrained(
        args.model,
        max_length=args.max_seq_length,
        stride=args.doc_stride,
        max_question_tokens=args.max_question_tokens,
        batch_size=args.batch_size,
        max_batch_tokens=args.max_batch_tokens,
        device=args.device,
        precision=args.precision,
    )
    reader.decoding = decoding_config(args, reader.decoding)
    if single:
        context = args.context
        if context.startswith("@"):
            try:
                context = Path(context[1:]).read_text(encoding="utf-8")
            except OSError as error:
                raise ConfigError(f"--context {args.context}: {error}") from error
        answers = reader(args.question, context, top_k=args.top_k)
        if args.json:
            print_json([answer.to_dict() for answer in answers])
        else:
            for rank, answer in enumerate(answers, 1):
                shown = "(no answer)" if answer.is_null else repr(answer.text)
                print(f"{rank}. {shown}  score {answer.score:.3f}  p {answer.probability:.3f}")
        return 0
    results = reader.predict(load_questions(args.data, what="prediction").records)
    texts = {key: prediction.text for key, prediction in results.items()}
    payload = json.dumps(texts, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(payload, encoding="utf-8")
        print(f"{len(texts)} predictions written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(payload)
    return 0
