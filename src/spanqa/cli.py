"""The ``spanqa`` command line.

Each sub-command lives in its own module under :mod:`spanqa.commands` and exposes ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; this module only wires them together, so adding a
command never touches another one. Errors that spanqa raises on purpose (:class:`SpanQAError`) are
printed as one clear line and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per command module."""
    from spanqa import __version__

    parser = argparse.ArgumentParser(
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
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spanqa`` console script; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args._run(args)
    except SpanQAError as error:
        print(f"spanqa {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spanqa {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
