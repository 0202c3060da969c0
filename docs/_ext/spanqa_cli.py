"""A Sphinx directive that renders the ``spanqa`` command-line reference from the real parsers.

Writing the options out by hand would drift from the code the day someone adds one; ``.. spanqa-cli::``
instead builds :func:`spanqa.cli.build_parser` at documentation build time and prints, for every
sub-command, its one-line summary and its complete ``--help`` text.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: Width the help texts are wrapped to (argparse reads it from the terminal size otherwise).
HELP_COLUMNS = "88"


def _help_block(text: str) -> nodes.literal_block:
    """A literal block shown as plain text (the default lexer would colour the help as Python)."""
    block = nodes.literal_block(text=text)
    block["language"] = "text"
    return block


def _commands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line summary, parser) of every sub-command, in ``--help`` order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [
                (choice.dest, str(choice.help or ""), action.choices[choice.dest])
                for choice in action._choices_actions
            ]
    return []


class SpanqaCliDirective(SphinxDirective):
    """``.. spanqa-cli::``: one rubric, summary and help block per sub-command, in ``--help`` order."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from spanqa.cli import build_parser

        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = HELP_COLUMNS
        try:
            parser = build_parser()
            output: list[nodes.Node] = [_help_block(parser.format_help())]
            for name, summary, sub in _commands(parser):
                section = nodes.section(ids=[f"command-{name}"], names=[f"spanqa {name}"])
                section += nodes.title(text=f"spanqa {name}")
                section += nodes.paragraph(text=summary)
                section += _help_block(sub.format_help())
                output.append(section)
        finally:
            if previous is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = previous
        return output


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("spanqa-cli", SpanqaCliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
