"""Benchmark: spanqa's Reader against transformers 4.57 ``pipeline("question-answering")``.

The same fine-tuned model (by default the MiniLM reader that ``benchmarks/finetune.py`` trains with the demo
settings, ``benchmarks/_work/finetune/spanqa-model``; any model directory with ``--model``) answers all
1,190 questions of XQuAD English through

* transformers 4.57.x ``pipeline("question-answering")``, run in its own virtual environment
  (``benchmarks/.venv-tf457``, created on first use as in ``benchmarks/decode.py``) by a worker script, and
* ``spanqa.Reader`` in this environment,

with the same window settings (max_length 384, overlap 128) and answer-length cap (30 tokens), at batch size
1 (one call per question) and 32 (all questions in one call). Reported: questions/s, EM/F1 (spanqa.metrics,
identical to the official script) and how often both give the same answer text. Extra rows at batch 32:
the Reader without its CPU token budget (``max_batch_tokens=None``: 32 windows a pass, as before), the Reader
with the ``same-text`` strategy (one answer per text, by the summed probability of its spans), with
``same-text`` and ``null-relative`` (spans of different windows ranked relative to each window's null
score), and, on a CPU with native bf16 (AVX512-BF16 or AMX; ``--no-bf16`` skips them), the pipeline with
``torch_dtype=torch.bfloat16`` and the Reader with ``precision="bf16"``.

A second table compares EM/F1 (batch 32, fp32) on the other held-out sets of ``benchmarks/strategies.py``:
SQuADShifts new_wiki questions 2,000-3,499, TyDi QA GoldP English (first 1,500) and the COVID-QA draft
(first 150: long papers, about 21 windows a question), where the two ways of ranking spans across windows
differ most (``--xquad-only`` skips it). The Markdown tables are printed and written to
``benchmarks/results/reader.md``.

Each timing is the fastest of ``--rounds`` (default 3) rounds that run every row in turn, because the
machine's speed drifts. Run from the repository root: ``python benchmarks/reader.py`` (about 45 minutes on
2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DEFAULT_DATA = HERE.parents[1] / "shared" / "data"
DEFAULT_MODEL = HERE / "_work" / "finetune" / "spanqa-model"
WORK = HERE / "_work" / "reader"
RESULTS = HERE / "results" / "reader.md"
MAX_LENGTH, STRIDE, CAP = 384, 128, 30
PIPELINE = "transformers 4.57 pipeline"

PIPELINE_WORKER = """
import json, sys, time
import torch, transformers
from transformers import pipeline
model, data_file, out, cap, max_len, stride = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
torch.set_num_threads(int(sys.argv[7]))
dtype, batch1 = getattr(torch, sys.argv[8]), sys.argv[9] == "1"
records = json.load(open(data_file))
qa = pipeline("question-answering", model=model, tokenizer=model, device=-1, torch_dtype=dtype)
kwargs = dict(max_answer_len=cap, max_seq_len=max_len, doc_stride=stride)
qa(question=records[0]["question"], context=records[0]["context"], **kwargs)  # warm-up
result = {"version": transformers.__version__}
if batch1:
    started = time.perf_counter()
    result["batch1"] = [qa(question=r["question"], context=r["context"], **kwargs)["answer"] for r in records]
    result["batch1_seconds"] = time.perf_counter() - started
started = time.perf_counter()
answers = qa(question=[r["question"] for r in records], context=[r["context"] for r in records],
             batch_size=32, **kwargs)
result["batch32_seconds"] = time.perf_counter() - started
result["batch32"] = [a["answer"] for a in answers]
json.dump(result, open(out, "w"))
"""


def say(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what} ...", file=sys.stderr, flush=True)


def run_pipeline(
    model: Path,
    records: list[Any],
    threads: int,
    dtype: str = "float32",
    batch1: bool = True,
    tag: str = "xquad",
) -> dict[str, Any]:
    from decode import tf457_python  # benchmarks/decode.py builds the transformers 4.57 venv

    python, why = tf457_python()
    if python is None:
        return {"error": why}
    WORK.mkdir(parents=True, exist_ok=True)
    data, worker = WORK / f"records-{tag}.json", WORK / "pipeline_worker.py"
    out = WORK / f"pipeline-{tag}-{dtype}.json"
    data.write_text(json.dumps([{k: r[k] for k in ("id", "question", "context")} for r in records]))
    worker.write_text(PIPELINE_WORKER)
    command = [str(python), str(worker), str(model), str(data), str(out), str(CAP), str(MAX_LENGTH)]
    command += [str(STRIDE), str(threads), dtype, "1" if batch1 else "0"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(out.read_text()))


def run_reader(model: Path, records: list[Any], batch1: bool = True, **options: Any) -> dict[str, Any]:
    from spanqa import Reader

    reader = Reader.from_pretrained(
        model, max_length=MAX_LENGTH, stride=STRIDE, batch_size=32, progress=False, **options
    )
    reader("warm-up?", records[0]["context"], max_answer_length=CAP)
    result: dict[str, Any] = {}
    if batch1:
        started = time.perf_counter()
        result["batch1"] = [
            reader(r["question"], r["context"], max_answer_length=CAP)[0].text for r in records
        ]
        result["batch1_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    answers = reader([r["question"] for r in records], [r["context"] for r in records], max_answer_length=CAP)
    result["batch32_seconds"] = time.perf_counter() - started
    result["batch32"] = [a[0].text for a in answers]
    return result


def decoding_with(model: Path, *strategies: str) -> Any:
    """The model's saved decoding config (else SQuAD v1) plus ``strategies``."""
    from spanqa import DecodingConfig
    from spanqa.models import DECODING_CONFIG_FILE

    saved = model / DECODING_CONFIG_FILE
    config = DecodingConfig.load(saved) if saved.is_file() else DecodingConfig.squad_v1()
    for strategy in strategies:
        config = config.with_strategy(strategy)
    return config


#: The re-ranking strategies of the extra Reader rows: each row adds one more.
RERANKERS = (("same-text",), ("same-text", "null-relative"))


def more_data(args: argparse.Namespace, threads: int, done: dict[str, tuple[Any, ...]]) -> list[str]:
    """The EM/F1 table over XQuAD (``done``: records and the batch-32 results of the pipeline, the Reader
    and the Reader with each of ``RERANKERS``) and the other held-out sets of ``benchmarks/strategies.py``."""
    from strategies import SETS

    from spanqa import Reader
    from spanqa.data import load_records
    from spanqa.metrics import evaluate

    aligner = Reader.from_pretrained(args.model, max_length=MAX_LENGTH, stride=STRIDE, progress=False).aligner
    runs = dict(done)
    for name, (file, first, end) in SETS.items():
        if name in runs:
            continue
        records = load_records(args.data / file).records[first:end]
        tag = file.split(".")[0]
        say(f"{name}: pipeline, Reader, Reader + re-rankers")
        runs[name] = (
            records,
            run_pipeline(args.model, records, threads, batch1=False, tag=tag),
            run_reader(args.model, records, False),
            *(
                run_reader(args.model, records, False, decoding=decoding_with(args.model, *strategies))
                for strategies in RERANKERS
            ),
        )
    lines = [
        "",
        "EM / F1 at batch 32 (fp32) on XQuAD and on held-out sets the model never trained on (it trained on "
        "SQuADShifts new_wiki questions 0-1,999); windows and cap as above.",
        "",
        "| data (questions, windows a question) | pipeline | Reader | Reader + `same-text` | "
        "Reader + `same-text` + `null-relative` | the last - pipeline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (records, *results) in runs.items():
        ids = [r["id"] for r in records]
        scores = [
            evaluate(records, dict(zip(ids, r["batch32"], strict=True))) if "batch32" in r else None
            for r in results
        ]
        cells = [f"{m['exact']:.2f} / {m['f1']:.2f}" if m else "not run" for m in scores]
        pipeline, merged = scores[0], scores[-1]
        delta = (
            f"{merged['exact'] - pipeline['exact']:+.2f} / {merged['f1'] - pipeline['f1']:+.2f}"
            if pipeline and merged
            else "-"
        )
        windows = len(aligner.eval_features(records)) / len(records)
        lines.append(f"| {name} ({len(records):,}, {windows:.2f}) | {' | '.join(cells)} | {delta} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    import torch
    import transformers

    from spanqa.data import load_records
    from spanqa.metrics import evaluate

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--samples", type=int, default=None, help="first N questions only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 rows on a CPU with native bf16")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each row (the fastest counts)")
    parser.add_argument("--xquad-only", action="store_true", help="skip the EM/F1 table on the other sets")
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"no model at {args.model}: run benchmarks/finetune.py first or pass --model DIR")
    records = load_records(args.data / "xquad.en.json").records[: args.samples]
    threads = torch.get_num_threads()
    from spanqa.reader import cpu_has_native_bf16

    bf16 = cpu_has_native_bf16() and not args.no_bf16

    reader_label = f"spanqa Reader (transformers {transformers.__version__})"
    reranked = {
        "spanqa Reader + " + " + ".join(f"`{name}`" for name in strategies): decoding_with(
            args.model, *strategies
        )
        for strategies in RERANKERS
    }
    jobs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (PIPELINE, lambda: run_pipeline(args.model, records, threads)),
        (reader_label, lambda: run_reader(args.model, records)),
        (
            "spanqa Reader, `max_batch_tokens=None` (32 windows a pass)",
            lambda: run_reader(args.model, records, False, max_batch_tokens=None),
        ),
        *(
            (label, lambda d=decoding: run_reader(args.model, records, False, decoding=d))
            for label, decoding in reranked.items()
        ),
    ]
    if bf16:
        jobs += [
            (
                "transformers 4.57 pipeline, `torch_dtype=bfloat16`",
                lambda: run_pipeline(args.model, records, threads, "bfloat16", False),
            ),
            (
                'spanqa Reader, `precision="bf16"` (CPU autocast)',
                lambda: run_reader(args.model, records, False, precision="bf16"),
            ),
        ]
    # Rounds of every row in turn, each timing the fastest of its rounds: the machine's speed drifts
    # (seen here: 23-32 questions/s for three identical Reader runs in a row), and it drifts for both sides.
    results: dict[str, dict[str, Any]] = {}
    for round_number in range(1, args.rounds + 1):
        for label, job in jobs:
            if "error" in results.get(PIPELINE, {}) and "pipeline" in label:
                continue  # no transformers 4.57 venv: no pipeline row
            say(f"round {round_number}/{args.rounds}: {label}")
            result = job()
            best = results.setdefault(label, result)
            for key in ("batch1_seconds", "batch32_seconds"):
                if key in result:
                    best[key] = min(best[key], result[key])
    pipe, ours = results[PIPELINE], results[reader_label]
    rows = [
        (f"transformers {result['version']} pipeline" if label == PIPELINE else label, result)
        for label, result in results.items()
        if "error" not in result
    ]
    ids = [r["id"] for r in records]
    lines = [
        "# Reader benchmark",
        "",
        f"Generated by `python benchmarks/reader.py {' '.join(sys.argv[1:])}` on {platform.machine()}, "
        f"{threads} torch threads, Python {platform.python_version()}, torch {torch.__version__}. "
        f"Model: `{args.model.name}` (MiniLM-L6 fine-tuned with the demo settings unless --model says "
        f"otherwise); data: XQuAD English, {len(records):,} questions; windows {MAX_LENGTH}/{STRIDE} "
        f"overlap, answers capped at {CAP} tokens on both sides. fp32 unless a row says otherwise. Each "
        f"timing is the fastest of {args.rounds} rounds (every row once a round, in this order).",
        "",
        "| | questions/s, batch 1 | questions/s, batch 32 | EM | F1 | same answer as Reader (batch 32) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    if "error" in pipe:
        lines.append(f"| transformers 4.57 pipeline | not run: {pipe['error']} | | | | |")
    for name, result in rows:
        metrics = evaluate(records, dict(zip(ids, result["batch32"], strict=True)))
        same = sum(a == b for a, b in zip(result["batch32"], ours["batch32"], strict=True)) / len(records)
        batch1 = f"{len(records) / result['batch1_seconds']:.1f}" if "batch1_seconds" in result else "-"
        per_second = len(records) / result["batch32_seconds"]
        lines.append(
            f"| {name} | {batch1} | {per_second:.1f} | {metrics['exact']:.2f} | "
            f"{metrics['f1']:.2f} | {100 * same:.1f}% |"
        )
    if "error" not in pipe:
        seconds = {name: result["batch32_seconds"] for name, result in rows}
        lines += [
            "",
            f"Reader / pipeline throughput (fp32): batch 1 "
            f"{pipe['batch1_seconds'] / ours['batch1_seconds']:.2f}x, "
            f"batch 32 {pipe['batch32_seconds'] / ours['batch32_seconds']:.2f}x.",
        ]
        if bf16:
            reader_bf16, pipe_bf16 = seconds[rows[-1][0]], seconds[rows[-2][0]]
            lines.append(
                f"bf16 Reader / fp32 pipeline at batch 32: {pipe['batch32_seconds'] / reader_bf16:.2f}x; "
                f"bf16 Reader / bf16 pipeline: {pipe_bf16 / reader_bf16:.2f}x."
            )
    if not args.xquad_only:
        extra = tuple(results[label] for label in reranked)
        lines += more_data(args, threads, {"XQuAD en": (records, pipe, ours, *extra)})
    report = "\n".join(lines) + "\n"
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
