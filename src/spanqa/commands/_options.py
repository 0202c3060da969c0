"""Options shared by ``spanqa train``, ``evaluate``, ``predict`` and ``demo``.

Names follow transformers' run_qa.py where they mean the same thing (``--max_seq_length``,
``--doc_stride``, ``--n_best_size`` ...); each also accepts the dashed spelling (``--max-seq-length``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from spanqa.windows import DEFAULT_MAX_LENGTH, DEFAULT_MAX_QUESTION_TOKENS, DEFAULT_STRIDE


def add_option(parser: argparse.ArgumentParser, name: str, **kwargs: Any) -> None:
    """Add ``--name_with_underscores`` with ``--name-with-dashes`` as an alias."""
    flags = [f"--{name}"]
    if "_" in name:
        flags.append(f"--{name.replace('_', '-')}")
    parser.add_argument(*flags, dest=name, **kwargs)


def add_window_options(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "max_seq_length",
        type=int,
        default=DEFAULT_MAX_LENGTH,
        metavar="N",
        help="tokens per window, question included (default: %(default)s)",
    )
    add_option(
        parser,
        "doc_stride",
        type=int,
        default=DEFAULT_STRIDE,
        metavar="N",
        help="overlap between consecutive windows of a long context, in tokens (default: %(default)s)",
    )
    add_option(
        parser,
        "max_question_tokens",
        type=int,
        default=DEFAULT_MAX_QUESTION_TOKENS,
        metavar="N",
        help="longer questions are truncated to this many tokens, and counted (default: %(default)s)",
    )


def add_decoding_options(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "max_answer_length",
        type=int,
        default=None,
        metavar="N",
        help="longest answer, in tokens (default: 30, or the value saved with the model)",
    )
    add_option(
        parser,
        "n_best_size",
        type=int,
        default=None,
        metavar="K",
        help="candidates kept per question (default: 20, or the value saved with the model)",
    )
    add_option(
        parser,
        "same_text",
        choices=("on", "off"),
        default=None,
        help="'on': one answer per text, ranked by the summed probability of all its spans (the same-text "
        "strategy); 'off': rank single spans (default: as saved with the model, else off)",
    )
    add_option(
        parser,
        "null_relative",
        choices=("on", "off"),
        default=None,
        help="'on': rank spans of different windows by their score less their window's null (CLS) score "
        "(the null-relative strategy); 'off': by raw scores (default: as saved with the model, else off)",
    )
    add_option(
        parser,
        "null_score_diff_threshold",
        type=float,
        default=None,
        metavar="T",
        help="SQuAD 2.0: answer 'no answer' when null score - best span score > T "
        "(default: the threshold tuned and saved with the model, else 0)",
    )
    add_option(
        parser,
        "version_2_with_negative",
        action="store_true",
        help="decode SQuAD 2.0 style (allow 'no answer') even if the data has no unanswerable question",
    )


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "per_device_eval_batch_size",
        type=int,
        default=32,
        metavar="N",
        help="windows per forward pass at evaluation (default: %(default)s)",
    )
    add_option(parser, "no_progress", action="store_true", help="hide progress bars")
    add_option(parser, "json", action="store_true", help="print machine-readable JSON")


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def decoding_config(args: argparse.Namespace, saved: Any = None, *, squad_v2: bool = False) -> Any:
    """The decoding config the command line asks for: the saved one (if any) with the options given on
    the command line applied, or a fresh SQuAD v1/v2 config when nothing was saved."""
    from spanqa.decode import DecodingConfig

    wants_v2 = squad_v2 or args.version_2_with_negative or args.null_score_diff_threshold is not None
    config = saved
    if config is None:
        config = DecodingConfig.squad_v2() if wants_v2 else DecodingConfig.squad_v1()
    elif wants_v2:
        config = config.with_strategy("null-answer")  # the saved strategies stay, in their order
    if args.max_answer_length is not None:
        config = config.with_strategy("length-capped", {"max_answer_length": args.max_answer_length})
    if args.n_best_size is not None:
        config = config.with_strategy("n-best", {"n_best_size": args.n_best_size})
    for strategy, switch in (("same-text", args.same_text), ("null-relative", args.null_relative)):
        if switch == "off":
            config = config.without_strategy(strategy)
        elif switch == "on":
            config = config.with_strategy(strategy)
    if args.null_score_diff_threshold is not None:
        config = config.with_null_threshold(args.null_score_diff_threshold)
    return config


def decoding_grid(args: argparse.Namespace) -> Any:
    """The :class:`~spanqa.DecodingGrid` to choose from: a decoding option given on the command line fixes
    its dimension of the grid (``--max_answer_length 20`` tries only 20), the others take every value."""
    from spanqa.decode import DecodingGrid

    fixed: dict[str, Any] = {}
    if args.max_answer_length is not None:
        fixed["max_answer_lengths"] = (args.max_answer_length,)
    for name in ("same_text", "null_relative"):
        if getattr(args, name) is not None:
            fixed[name] = (getattr(args, name) == "on",)
    return DecodingGrid(**fixed)


def add_tuning_options(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "tuning_file",
        metavar="FILE",
        help="questions to choose the decoding on after training (answer-length cap, same-text, "
        "null-relative, null threshold); or hold out --tuning_size questions of --train_file",
    )
    add_tuning_size_option(parser)


def add_tuning_size_option(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "tuning_size",
        type=int,
        default=0,
        metavar="N",
        help="without --tuning_file: training questions held out (whole contexts, at most a fifth) to "
        "choose the decoding on; they are not trained on, so this costs accuracy on small data; 0: keep "
        "the decoding options as given (default: %(default)s)",
    )


def training_config(args: argparse.Namespace, output_dir: str, **overrides: Any) -> Any:
    """A :class:`~spanqa.finetune.TrainingConfig` from the run_qa.py-style options."""
    from spanqa.finetune import TrainingConfig

    values: dict[str, Any] = {
        "output_dir": output_dir,
        "max_length": args.max_seq_length,
        "stride": args.doc_stride,
        "max_question_tokens": args.max_question_tokens,
        "per_device_eval_batch_size": args.per_device_eval_batch_size,
        "progress": not args.no_progress,
    }
    for name in (
        "num_train_epochs",
        "learning_rate",
        "per_device_train_batch_size",
        "warmup_ratio",
        "weight_decay",
        "seed",
        "save_steps",
        "logging_steps",
        "precision",
        "tuning_size",
    ):
        if getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    values.update(overrides)
    return TrainingConfig(**values)


def add_training_options(parser: argparse.ArgumentParser, *, epochs: float = 2.0) -> None:
    add_option(
        parser,
        "num_train_epochs",
        type=float,
        default=epochs,
        metavar="N",
        help="passes over the training data (default: %(default)s)",
    )
    add_option(parser, "learning_rate", type=float, default=1e-4, metavar="LR", help="(default: %(default)s)")
    add_option(
        parser,
        "per_device_train_batch_size",
        type=int,
        default=16,
        metavar="N",
        help="windows per training step and device (default: %(default)s)",
    )
    add_option(
        parser,
        "warmup_ratio",
        type=float,
        default=0.1,
        metavar="R",
        help="share of steps with linear warm-up (default: %(default)s)",
    )
    add_option(parser, "weight_decay", type=float, default=0.01, metavar="W", help="(default: %(default)s)")
    add_option(parser, "seed", type=int, default=42, help="(default: %(default)s)")
    add_option(
        parser,
        "save_steps",
        type=int,
        default=500,
        metavar="N",
        help="write a checkpoint every N steps (default: %(default)s)",
    )
    add_option(parser, "logging_steps", type=int, default=20, metavar="N", help="(default: %(default)s)")
    add_option(
        parser,
        "precision",
        choices=("auto", "fp32", "fp16", "bf16"),
        default="auto",
        help="auto: bf16 on GPUs that have it, else fp16 on GPUs, fp32 on the CPU (default: auto)",
    )


def print_metrics(metrics: dict[str, Any], title: str) -> None:
    """The metrics as an aligned two-column table."""
    print(title)
    width = max((len(key) for key in metrics), default=0)
    for key, value in metrics.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")
