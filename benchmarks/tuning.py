"""Benchmark: the decoding chosen on held-out questions against fixed defaults and the v4 pipeline's.

One fine-tuned model (by default the MiniLM reader of ``benchmarks/finetune.py``, trained with the demo
settings on SQuADShifts new_wiki questions 0-1,999; any model directory with ``--model``) answers the
held-out sets of ``benchmarks/strategies.py`` three ways:

* **tuned**: with ``--saved``, the decoding saved with the model (a model trained by ``spanqa demo`` or
  ``spanqa train`` chose it on questions held out of its training data, and the Reader uses it by
  default); otherwise the decoding ``QAFineTuner.tune_decoding`` chooses on SQuADShifts new_wiki questions
  3,500-3,799: the training distribution, but neither trained on nor reported;
* **fixed defaults**: spanqa's decoding without tuning (SQuAD v1: answers up to 30 tokens, no re-ranking);
* **v4 pipeline defaults**: transformers 4.57 ``pipeline("question-answering")`` called with no option
  (answers up to 15 tokens, windows 384/128), in its own virtual environment (``benchmarks/decode.py``).

The tuned and the fixed decodings read the same logits (one forward pass per set). EM/F1 with
``spanqa.metrics`` (the official script's). The Markdown table is printed and written to
``benchmarks/results/tuning.md``. Run from the repository root: ``python benchmarks/tuning.py --model DIR``
(about 15 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from strategies import DEFAULT_DATA, SETS, WORK  # noqa: E402

RESULTS = HERE / "results" / "tuning.md"
TUNING = ("squadshifts-new_wiki-v1.0.json", 3500, 3800)

#: transformers 4.57's question-answering pipeline with every option at its default.
PIPELINE_DEFAULTS_WORKER = """
import json, sys
import torch
from transformers import pipeline
model, data_file, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
records = json.load(open(data_file))
qa = pipeline("question-answering", model=model, tokenizer=model, device=-1)
questions, contexts = [r["question"] for r in records], [r["context"] for r in records]
answers = qa(question=questions, context=contexts, batch_size=32)
answers = answers if isinstance(answers, list) else [answers]
json.dump({r["id"]: a["answer"] for r, a in zip(records, answers)}, open(out, "w"))
"""


def say(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what} ...", file=sys.stderr, flush=True)


def pipeline_defaults(model: Path, records: list[Any], threads: int, tag: str) -> dict[str, str] | str:
    """``{id: answer}`` from the v4 pipeline with its defaults, or why it could not run."""
    from decode import tf457_python  # benchmarks/decode.py builds the transformers 4.57 venv

    python, why = tf457_python()
    if python is None:
        return str(why)
    work = HERE / "_work" / "tuning"
    work.mkdir(parents=True, exist_ok=True)
    data, worker, out = (
        work / f"records-{tag}.json",
        work / "pipeline_defaults.py",
        work / f"answers-{tag}.json",
    )
    data.write_text(json.dumps([{k: r[k] for k in ("id", "question", "context")} for r in records]))
    worker.write_text(PIPELINE_DEFAULTS_WORKER)
    subprocess.run(
        [str(python), str(worker), str(model), str(data), str(out), str(threads)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.read_text()))


def main(argv: list[str] | None = None) -> int:
    import torch
    import transformers

    from spanqa import DecodingConfig, QAFineTuner, SpanDecoder, TrainingConfig
    from spanqa.data import load_records
    from spanqa.inference import predict_records_each
    from spanqa.metrics import evaluate
    from spanqa.models import DECODING_TUNING_FILE

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=WORK / "spanqa-model")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--saved",
        action="store_true",
        help="use the decoding saved with the model (chosen when it was trained)",
    )
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"no model in {args.model}: run benchmarks/finetune.py first or pass --model DIR")
    threads = torch.get_num_threads()
    config = TrainingConfig(output_dir=str(HERE / "_work" / "tuning" / "run"), progress=False)
    if args.saved:
        saved = json.loads((args.model / DECODING_TUNING_FILE).read_text(encoding="utf-8"))
        tuner = QAFineTuner.load(args.model, config=config)
        decoding, tuned_on = tuner.decoding, f"{saved['questions']} {saved['source']}"
        best = saved["chosen"]
        chosen = f"{best['decoding']} ({best['exact']:.2f} / {best['f1']:.2f} there)"
        grid = "\n".join(
            f"  {row['decoding']:<36} {row['exact']:6.2f} / {row['f1']:6.2f}"
            for row in sorted(saved["grid"], key=lambda row: (-row["f1"], -row["exact"]))
        )
    else:
        tuner = QAFineTuner.load(args.model, config=config, decoding=DecodingConfig.squad_v1())
        file, first, end = TUNING
        tuning = load_records(args.data / file).records[first:end]
        say(f"tuning on {len(tuning)} questions")
        started = time.perf_counter()
        choice = tuner.tune_decoding(tuning, progress=False)
        decoding = choice.decoding
        tuned_on = (
            f"{len(tuning)} SQuADShifts new_wiki questions {first:,}-{end - 1:,} "
            f"({time.perf_counter() - started:.0f} s for the whole grid of {len(choice.scores)} decodings)"
        )
        chosen = f"{choice.best.describe()} ({choice.best.exact:.2f} / {choice.best.f1:.2f} there)"
        grid = choice.format()
    assert decoding is not None
    fixed = DecodingConfig.squad_v1()
    rows = []
    for name, (file, first, end) in SETS.items():
        records = load_records(args.data / file).records[first:end]
        say(f"{name}: Reader (tuned and fixed decodings, one forward pass), v4 pipeline defaults")
        tuned_predictions, fixed_predictions = predict_records_each(
            tuner.model,
            tuner.aligner,
            [SpanDecoder(decoding), SpanDecoder(fixed)],
            records,
            batch_size=32,
            progress=False,
        )
        scores = [
            evaluate(records, {k: p.text for k, p in predictions.items()})
            for predictions in (tuned_predictions, fixed_predictions)
        ]
        pipeline = pipeline_defaults(args.model, records, threads, file.split(".")[0])
        scores.append(evaluate(records, pipeline) if isinstance(pipeline, dict) else None)
        rows.append((name, len(records), scores, pipeline if isinstance(pipeline, str) else None))

    def cell(metrics: dict[str, float] | None) -> str:
        return f"{metrics['exact']:.2f} / {metrics['f1']:.2f}" if metrics else "not run"

    lines = [
        "# Decoding tuning benchmark",
        "",
        f"Generated by `python benchmarks/tuning.py {' '.join(sys.argv[1:])}` on {platform.machine()}, "
        f"{threads} torch threads, Python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}. Model: `{args.model.name}`. Windows 384/128. EM / F1 from "
        "`spanqa.metrics` (the official script's).",
        "",
        f"Decoding tuned on {tuned_on}; chosen: **{chosen}**. Fixed defaults: cap 30, no re-ranking. v4 "
        "pipeline defaults: cap 15, its own decoding.",
        "",
        "| data (questions) | Reader, tuned decoding | Reader, fixed defaults | v4 pipeline, defaults | "
        "tuned - pipeline |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, count, (tuned, fixed_scores, pipeline), why in rows:
        delta = (
            f"{tuned['exact'] - pipeline['exact']:+.2f} / {tuned['f1'] - pipeline['f1']:+.2f}"
            if pipeline
            else f"- ({why})"
        )
        lines.append(
            f"| {name} ({count:,}) | {cell(tuned)} | {cell(fixed_scores)} | {cell(pipeline)} | {delta} |"
        )
    lines += ["", "The grid on the tuning questions (EM / F1):", "", "```", grid, "```", ""]
    text = "\n".join(lines)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
