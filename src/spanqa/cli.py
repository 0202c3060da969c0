"""The ``spanqa`` command line.

Each sub-command lives in its own module under :mod:`spanqa.commands` and exposes ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; this module only wires them together, so adding a
command never touches another one. Errors that spanqa raises on purpose (:class:`SpanQAError`) are
printed as one clear line and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from spanqa.errors import SpanQAError

#: Sub-command modules, in the order ``spanqa --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "spanqa.commands.check_data",
    "spanqa.commands.align_report",
    "spanqa.commands.score",
    "spanqa.commands.plugins",
    "spanqa.commands.demo",
    "spanqa.commands.train",
    "spanqa.commands.evaluate",
    "spanqa.commands.predict",
)


#: Library parameter names (as errors raised by the library spell them) -> the ``dest`` of the CLI option
#: that sets them, where the two differ (run_qa.py's flag names).
PARAMETER_OPTIONS: dict[str, str] = {"max_length": "max_seq_length", "stride": "doc_stride"}

#: Options people try that a command spells differently: (command, typed) -> the right flag.
SUGGESTED_OPTIONS: dict[tuple[str, str], str] = {
    ("train", "--data"): "--train_file",
    ("train", "--model"): "--model_name_or_path",
    ("train", "--output"): "--output_dir",
    ("train", "--validation_data"): "--validation_file",
    ("demo", "--model"): "--model_name_or_path",
    ("evaluate", "--model_name_or_path"): "--model",
    ("predict", "--model_name_or_path"): "--model",
    ("evaluate", "--validation_file"): "--data",
    ("align-report", "--model"): "--tokenizer",
}


class _Parser(argparse.ArgumentParser):
    """No prefix matching: ``spanqa train --data f.json`` must not be taken for ``--data_policy``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def _refuse_unknown_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """An option the command does not have is an error that suggests the flag meant, before argparse
    complains about the required options the user thought they gave."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    position = next((i for i, token in enumerate(argv) if token in commands), None)
    if position is None:
        return
    command, sub = argv[position], commands[argv[position]]
    known = {flag for action in sub._actions for flag in action.option_strings}
    for token in argv[position + 1 :]:
        typed = token.split("=", 1)[0]
        if not typed.startswith("--") or typed in known:
            continue
        hint = SUGGESTED_OPTIONS.get((command, typed))
        if hint is None:
            close = difflib.get_close_matches(typed, sorted(known), n=1, cutoff=0.75)
            hint = close[0] if close else None
        sub.error(f"unrecognized option {typed}" + (f" (did you mean {hint}?)" if hint else ""))


def in_option_words(message: str, parser: argparse.ArgumentParser) -> str:
    """An error message of the library, with its parameter names replaced by the command's flags.

    The library says ``max_length``; a user of ``spanqa predict`` typed ``--max_seq_length``. Names of
    strategy options (``options.n-best: NBestOptions.n_best_size``) become their flag too.
    """
    flags: dict[str, str] = {}
    for action in parser._actions:
        if action.option_strings and action.help != argparse.SUPPRESS:  # not a hidden old spelling
            flags.setdefault(action.dest, action.option_strings[0])
    message = re.sub(r"options\.[\w-]+: \w+Options\.(\w+)", r"\1", message)

    def flag(match: re.Match[str]) -> str:
        name = match.group(0)
        return flags.get(PARAMETER_OPTIONS.get(name, name), name)

    names = sorted({*flags, *PARAMETER_OPTIONS}, key=len, reverse=True)
    pattern = (
        r"(?<![\w/.\-'])("
        + "|".join(re.escape(n) for n in names if "_" in n or n in PARAMETER_OPTIONS)
        + r")(?![\w/.\-'])"
    )
    return re.sub(pattern, flag, message)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per command module."""
    from spanqa import __version__

    parser = _Parser(
        prog="spanqa",
        description="Extractive question answering: align, decode, fine-tune, evaluate and predict.",
    )
    parser.add_argument("--version", action="version", version=f"spanqa {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run, _parser=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spanqa`` console script; returns the process exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    _refuse_unknown_options(parser, argv)
    args = parser.parse_args(argv)

    python_style = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *rest: Any, **options: Any) -> None:
        if not category.__module__.startswith("spanqa"):  # a dependency's warning: Python's own format
            python_style(message, category, *rest, **options)
            return
        text = in_option_words(str(message), args._parser)
        print(f"spanqa {args.command}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        # spanqa's own warnings are messages to the user: one line each, not Python's file:line report.
        warnings.showwarning = show  # restored by catch_warnings
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        status: int = args._run(args)
    except SpanQAError as error:
        print(f"spanqa {args.command}: error: {in_option_words(str(error), args._parser)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spanqa {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
