"""A custom decoding strategy from an installable plugin package, used without and with installing it.

    python examples/custom_strategy.py --quick

The plugin is ``examples/shortest-span-plugin/`` (strategy ``prefer-shorter``: re-rank candidates by
``score - length_penalty * (tokens - 1)``). Installed (``pip install -e examples/shortest-span-plugin``),
spanqa finds it through its entry point in the ``spanqa`` group and ``spanqa plugins`` lists it; this
script also works before installing, by registering the module on a plugin manager of its own, which is
what tests of a plugin should do too.

It runs the contract suite of ``spanqa.testing`` on the strategy, then decodes the same logits with and
without it and shows how the answers get shorter as the penalty grows. The logits come from a seeded random
generator over real windows of the bundled XQuAD data (the MiniLM tokenizer), so no model is needed.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
from _shared import DEV_FILE, bundled, minilm_directory, parser, subset
from transformers import AutoTokenizer

from spanqa import Aligner, DecodingConfig, SpanDecoder, load_records, make_plugin_manager
from spanqa.testing import check_strategy

PLUGIN_DIR = Path(__file__).resolve().parent / "shortest-span-plugin"


def load_plugin_module() -> object:
    """The plugin module: the installed distribution if there is one, else the example's source."""
    try:
        return importlib.import_module("spanqa_shortest_span")
    except ImportError:
        sys.path.insert(0, str(PLUGIN_DIR))
        return importlib.import_module("spanqa_shortest_span")


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--data", default=str(bundled(DEV_FILE)), help="SQuAD JSON to take windows from")
    args = cli.parse_args()

    plugin = load_plugin_module()
    # Built-ins plus this plugin only: entry points of whatever else is installed stay out of the way.
    pm = make_plugin_manager(load_entrypoints=False)
    if not pm.is_registered(plugin):
        pm.register(plugin, name="shortest_span")
    strategy = plugin.PreferShorter  # type: ignore[attr-defined]
    check_strategy(strategy)
    print(f"{strategy.name!r} passes the spanqa.testing contract")

    records = subset(load_records(args.data).records, 100 if args.quick else None)
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_directory()))
    features = Aligner(tokenizer, max_length=384, stride=128).eval_features(records)
    width = int(features.lengths.max())
    generator = np.random.default_rng(0)
    start = generator.normal(size=(len(features.lengths), width)).astype(np.float32)
    end = generator.normal(size=(len(features.lengths), width)).astype(np.float32)

    print(f"{len(records)} questions, {len(features.lengths)} windows, random logits")
    print("length_penalty  mean answer length (tokens of text)")
    for penalty in (None, 0.1, 0.5, 2.0):
        if penalty is None:
            config = DecodingConfig.squad_v1(plugin_manager=pm)
        else:
            config = DecodingConfig.compose(
                ["length-capped", "prefer-shorter", "n-best"],
                {"prefer-shorter": {"length_penalty": penalty}},
                plugin_manager=pm,
            )
        predictions = SpanDecoder(config, plugin_manager=pm).decode(start, end, features)
        lengths = [len(tokenizer.tokenize(p.text)) for p in predictions.values()]
        label = "(built-ins)" if penalty is None else f"{penalty:<4}"
        print(f"{label:<15} {np.mean(lengths):.2f}")


if __name__ == "__main__":
    main()
