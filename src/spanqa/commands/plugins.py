"""List the decoding strategies the installed plugins register, with the plugin and the distribution each
comes from (built-ins: "spanqa"), and the plugins that failed to load (with their error).

Third-party plugins are found through the "spanqa" entry-point group; set
SPANQA_DISABLE_PLUGIN_AUTOLOAD=1 to list the built-ins only. Two plugins registering the same strategy
name is an error naming both.

examples:
  spanqa plugins
  spanqa plugins --json
"""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any

from spanqa.plugins import PluginLoadWarning, StrategyRegistry, autoload_disabled, make_plugin_manager

NAME = "plugins"
HELP = "list decoding strategies, the plugin and distribution of each, and plugins that failed to load"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Only the output format: what is listed is whatever is installed."""
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of a table")


def collect() -> dict[str, Any]:
    """The listing as plain data: ``strategies`` (name, plugin, distribution, description), ``failed``
    (plugin, distribution, error) and whether entry points were loaded."""
    # Failures are part of the listing, so the load-time warnings would only repeat them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        registry = StrategyRegistry(make_plugin_manager())
    return {
        "strategies": [
            {
                "name": entry.name,
                "plugin": entry.plugin,
                "distribution": entry.distribution,
                "description": entry.description,
            }
            for entry in registry
        ],
        "failed": [
            {"plugin": failure.name, "distribution": failure.distribution, "error": failure.error}
            for failure in registry.failed
        ],
        "entry_points_loaded": not autoload_disabled(),
    }


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def run(args: argparse.Namespace) -> int:
    """Print the listing; the exit status is 0 even when a plugin failed (it is listed)."""
    listing = collect()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    rows = [["STRATEGY", "PLUGIN", "DISTRIBUTION", "DESCRIPTION"]]
    rows += [
        [item["name"], item["plugin"], item["distribution"] or "-", item["description"]]
        for item in listing["strategies"]
    ]
    print(_table(rows))
    if not listing["entry_points_loaded"]:
        print("\n(entry-point plugins not loaded: SPANQA_DISABLE_PLUGIN_AUTOLOAD is set)")
    if listing["failed"]:
        print("\nplugins that failed to load:")
        for failure in listing["failed"]:
            source = f" ({failure['distribution']})" if failure["distribution"] else ""
            print(f"  {failure['plugin']}{source}: {failure['error']}")
    return 0
