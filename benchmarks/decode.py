"""Benchmark: spanqa's exact SpanDecoder against the decoders it replaces, on real logits.

Input: ``xquad-en-minilm-logits.npz`` from the shared data folder (start/end logits of a MiniLM reader
fine-tuned with the transformers recipe, all 1,190 XQuAD-en questions, 1,219 windows of 384 tokens) and
the contexts of ``xquad.en.json``. Every decoder gets the same float32 logits (what a model returns), a
length cap of 30 tokens and 20 candidates:

(a) a ``utils_qa.py``-style decoder: transformers' example post-processing, written out here (top-20
    starts x top-20 ends per window in a Python double loop, n-best of 20, no de-duplication);
(b) transformers 4.57 ``pipelines.question_answering`` (``select_starts_ends`` -> ``decode_spans``: a full
    L x L outer product per window), run in its own virtual environment ``benchmarks/.venv-tf457``
    (created on first use with ``python -m venv`` + ``pip install torch==2.13.0 "transformers==4.57.*"
    numpy``) by a worker script that reads the logits and writes JSON; if the install fails, its row
    says so;
(c) ``SpanDecoder`` with numpy arrays; (d) ``SpanDecoder`` running its torch code path on CPU tensors
    (``backend="torch"``; the default ``"auto"`` sends CPU tensors to numpy and keeps torch for CUDA); and
    (e) (c) again while also building every lazily built n-best ``Answer`` object, the work (a) does
    eagerly.

Reported per decoder and input: examples/s (best of several repeats; the machines are shared and noisy,
so compare the ratios of one run), the agreement of its best answers with SpanDecoder's, how often its
best answer is the true best span (a brute force over all token pairs under the same cap: same start +
end logit sum), how many examples it answers with a *lower* score than SpanDecoder, and the peak resident
memory added by one decode (a fresh process per decoder). Inputs: the real logits, and flatter logits
(``0.1 x real + N(0, 1)`` noise) on which a top-20 x top-20 search misses the best span.

Run from the repository root: ``python benchmarks/decode.py`` (``--help`` for options). The Markdown
table is printed and written to ``benchmarks/results/decode.md``.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import platform
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
WORK = REPO / "benchmarks" / "_work"
TF457_VENV = REPO / "benchmarks" / ".venv-tf457"
RESULTS = REPO / "benchmarks" / "results" / "decode.md"
CAP = 30
N_BEST = 20

# ----------------------------------------------------------------------------------------------------
# Inputs


def load_inputs(data_dir: Path) -> dict[str, Any]:
    logits = np.load(data_dir / "xquad-en-minilm-logits.npz")
    contexts: dict[str, str] = {}
    order: list[str] = []
    for article in json.loads((data_dir / "xquad.en.json").read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                contexts[qa["id"]] = paragraph["context"]
                order.append(qa["id"])
    return {
        "start": logits["start_logits"].astype(np.float32),
        "end": logits["end_logits"].astype(np.float32),
        "offsets": logits["offset_mapping"],
        "example_id": [str(x) for x in logits["example_id"]],
        "contexts": contexts,
        "order": order,
    }


def variants(inputs: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    start, end = inputs["start"], inputs["end"]
    flat_start = (0.1 * start + rng.normal(0.0, 1.0, size=start.shape)).astype(np.float32)
    flat_end = (0.1 * end + rng.normal(0.0, 1.0, size=end.shape)).astype(np.float32)
    return {"real logits": (start, end), "flat logits (0.1 x real + N(0,1))": (flat_start, flat_end)}


# ----------------------------------------------------------------------------------------------------
# (a) utils_qa-style post-processing


def utils_qa_features(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """Features as the example scripts keep them: offsets as lists, ``None`` outside the context."""
    return [
        {
            "example_id": example_id,
            "offset_mapping": [tuple(o) if o[0] >= 0 else None for o in offsets.tolist()],
        }
        for example_id, offsets in zip(inputs["example_id"], inputs["offsets"], strict=True)
    ]


def utils_qa_postprocess(
    inputs: dict[str, Any], features: list[dict[str, Any]], all_start: np.ndarray, all_end: np.ndarray
) -> dict[str, tuple[int, int, float]]:
    """``postprocess_qa_predictions`` of transformers' ``examples/pytorch/question-answering/utils_qa.py``
    (SQuAD v1 branch), step for step, except that features are plain Python lists (the script reads a
    ``datasets.Dataset`` row per window, which is slower still); returns id -> (start char, end char,
    score) of the best answer."""
    n_best_size, max_answer_length = N_BEST, CAP
    example_index = {example_id: i for i, example_id in enumerate(inputs["order"])}
    features_per_example = collections.defaultdict(list)
    for i, feature in enumerate(features):
        features_per_example[example_index[feature["example_id"]]].append(i)
    best: dict[str, tuple[int, int, float]] = {}
    all_nbest_json: dict[str, list[dict[str, Any]]] = collections.OrderedDict()
    for index, example_id in enumerate(inputs["order"]):
        min_null_prediction = None
        prelim_predictions = []
        for feature_index in features_per_example[index]:
            start_logits = all_start[feature_index]
            end_logits = all_end[feature_index]
            offset_mapping = features[feature_index]["offset_mapping"]
            token_is_max_context = features[feature_index].get("token_is_max_context", None)
            feature_null_score = start_logits[0] + end_logits[0]
            if min_null_prediction is None or min_null_prediction["score"] > feature_null_score:
                min_null_prediction = {
                    "offsets": (0, 0),
                    "score": feature_null_score,
                    "start_logit": start_logits[0],
                    "end_logit": end_logits[0],
                }
            start_indexes = np.argsort(start_logits)[-1 : -n_best_size - 1 : -1].tolist()
            end_indexes = np.argsort(end_logits)[-1 : -n_best_size - 1 : -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if (
                        start_index >= len(offset_mapping)
                        or end_index >= len(offset_mapping)
                        or offset_mapping[start_index] is None
                        or len(offset_mapping[start_index]) < 2
                        or offset_mapping[end_index] is None
                        or len(offset_mapping[end_index]) < 2
                    ):
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    if token_is_max_context is not None and not token_is_max_context.get(
                        str(start_index), False
                    ):
                        continue
                    prelim_predictions.append(
                        {
                            "offsets": (offset_mapping[start_index][0], offset_mapping[end_index][1]),
                            "score": start_logits[start_index] + end_logits[end_index],
                            "start_logit": start_logits[start_index],
                            "end_logit": end_logits[end_index],
                        }
                    )
        predictions = sorted(prelim_predictions, key=lambda x: x["score"], reverse=True)[:n_best_size]
        context = inputs["contexts"][example_id]
        for pred in predictions:
            offsets = pred.pop("offsets")
            pred["text"] = context[offsets[0] : offsets[1]]
            pred["offsets"] = offsets
        if not predictions:
            predictions.insert(
                0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0, "offsets": (0, 0)}
            )
        scores = np.array([pred["score"] for pred in predictions])
        exp_scores = np.exp(scores - np.max(scores))
        probs = exp_scores / exp_scores.sum()
        for prob, pred in zip(probs, predictions, strict=True):
            pred["probability"] = prob
        top = predictions[0]
        best[example_id] = (int(top["offsets"][0]), int(top["offsets"][1]), float(top["score"]))
        all_nbest_json[example_id] = [
            {
                k: (float(v) if isinstance(v, (np.float16, np.float32, np.float64)) else v)
                for k, v in pred.items()
            }
            for pred in predictions
        ]
    return best


# ----------------------------------------------------------------------------------------------------
# (c)-(e) SpanDecoder


def span_decoder(inputs: dict[str, Any]) -> tuple[Any, Any]:
    from spanqa.decode import DecodingConfig, SpanDecoder
    from spanqa.features import EvalFeatures
    from spanqa.plugins import make_plugin_manager

    pm = make_plugin_manager(load_entrypoints=False)
    features = EvalFeatures.from_offsets(inputs["offsets"], inputs["example_id"], inputs["contexts"])
    decoder = SpanDecoder(
        DecodingConfig.squad_v1(max_answer_length=CAP, n_best_size=N_BEST, plugin_manager=pm),
        plugin_manager=pm,
    )
    return decoder, features


def spanqa_best(predictions: dict[str, Any]) -> dict[str, tuple[int, int, float]]:
    return {key: (p.start, p.end, p.score) for key, p in predictions.items() if p.start is not None}


# ----------------------------------------------------------------------------------------------------
# (b) transformers 4.57 in its own venv

TF457_WORKER = r"""
import json, sys, time
import numpy as np
import transformers
from transformers.pipelines.question_answering import select_starts_ends

CAP, TOP_K = int(sys.argv[3]), int(sys.argv[4])
data = np.load(sys.argv[1])
start_all, end_all, offsets, example_ids = data["start"], data["end"], data["offsets"], data["example_id"]
p_masks = (offsets[:, :, 0] < 0).astype(np.int64)
p_masks[:, 0] = 0  # the pipeline keeps CLS selectable (impossible answers), then zeroes its probability

def run():
    answers = {}
    for w in range(start_all.shape[0]):
        starts, ends, scores, _ = select_starts_ends(
            start_all[w][None], end_all[w][None], p_masks[w][None], None, 1000000, TOP_K, False, CAP
        )
        for s, e, score in zip(starts.tolist(), ends.tolist(), scores.tolist()):
            answers.setdefault(str(example_ids[w]), []).append((float(score), w, s, e))
    best = {}
    for example_id, found in answers.items():
        found.sort(key=lambda a: a[0], reverse=True)  # the pipeline ranks windows' answers by score
        best[example_id] = found[0][1:]
    return best

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

open("/proc/self/clear_refs", "w").write("5")
before = kib("VmRSS")
t = time.perf_counter(); best = run(); first = time.perf_counter() - t
rss = (kib("VmHWM") - before) / 1024
times = [first]
for _ in range(int(sys.argv[5]) - 1):
    t = time.perf_counter(); run(); times.append(time.perf_counter() - t)
result = {"version": transformers.__version__, "seconds": times, "rss_mib": rss, "best": best}
json.dump(result, open(sys.argv[2], "w"))
"""


def tf457_python() -> tuple[Path | None, str]:
    """The interpreter of the transformers 4.57 venv (created if missing), or None and why not."""
    python = TF457_VENV / "bin" / "python"
    check = [str(python), "-c", "import transformers, sys; sys.exit(transformers.__version__[:5] != '4.57.')"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python, ""
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(TF457_VENV)
        install = [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "torch==2.13.0",
            "transformers==4.57.*",
            "numpy",
        ]
        result = subprocess.run(install, capture_output=True, text=True, check=False, timeout=1800)
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"venv creation failed: {error}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        return None, f"pip install failed: {last[:120]}"
    return python, ""


def run_tf457(
    python: Path, start: np.ndarray, end: np.ndarray, inputs: dict[str, Any], repeats: int
) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    source, worker, output = WORK / "logits.npz", WORK / "tf457_worker.py", WORK / "tf457_result.json"
    np.savez(
        source, start=start, end=end, offsets=inputs["offsets"], example_id=np.array(inputs["example_id"])
    )
    worker.write_text(TF457_WORKER)
    command = [str(python), str(worker), str(source), str(output), str(CAP), str(N_BEST), str(repeats)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    result = json.loads(output.read_text())
    offsets = inputs["offsets"]
    result["best"] = {
        key: (int(offsets[w, s, 0]), int(offsets[w, e, 1]), float(start[w, s] + end[w, e]))
        for key, (w, s, e) in result["best"].items()
    }
    return result


# ----------------------------------------------------------------------------------------------------
# Ground truth and measurements


def brute_force_best(inputs: dict[str, Any], start: np.ndarray, end: np.ndarray) -> dict[str, float]:
    """The exact best span score of every example: max over windows and all pairs i <= j < i + CAP."""
    context = inputs["offsets"][:, :, 0] >= 0
    masked_start = np.where(context, start, -np.inf).astype(np.float32)
    masked_end = np.where(context, end, -np.inf).astype(np.float32)
    n, length = start.shape
    best_window = np.full(n, -np.inf, dtype=np.float32)
    for d in range(CAP):
        best_window = np.maximum(best_window, (masked_start[:, : length - d] + masked_end[:, d:]).max(axis=1))
    best: dict[str, float] = {}
    for example_id, score in zip(inputs["example_id"], best_window.tolist(), strict=True):
        best[example_id] = max(best.get(example_id, -np.inf), score)
    return best


def timed_round_robin(functions: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, Any]]:
    """Best time and result of each function. Repeats go round-robin over the functions, so that every
    decoder sees the same (shared, noisy) machine, and each gets the same number of tries."""
    results = {name: function() for name, function in functions.items()}  # warm-up, not timed
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            gc.collect()
            started = time.perf_counter()
            results[name] = function()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: (best[name], results[name]) for name in functions}


def peak_memory_mib(function: Callable[[], Any]) -> float:
    """Peak resident memory (MiB) that ``function`` adds: Linux resets the high-water mark through
    ``/proc/self/clear_refs``, so the peak of this call alone is read; elsewhere tracemalloc's peak (numpy
    and Python allocations) is the fallback."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        status = Path("/proc/self/status")
        before = _status_kib(status, "VmRSS")
        function()
        return (_status_kib(status, "VmHWM") - before) / 1024
    except OSError:
        import tracemalloc

        tracemalloc.start()
        function()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak / 2**20


def _status_kib(status: Path, field: str) -> int:
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"{field} not in {status}")


def memory_probe(method: str, variant: str, data_dir: Path) -> float:
    """Run in a fresh process: the peak RSS (MiB) one decode adds on top of the loaded inputs."""
    command = [
        sys.executable,
        __file__,
        "--data-dir",
        str(data_dir),
        "--memory-probe",
        method,
        "--variant",
        variant,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO).stdout
    return float(json.loads(output.strip().splitlines()[-1])["rss_mib"])


def decoders(inputs: dict[str, Any], start: np.ndarray, end: np.ndarray) -> dict[str, Callable[[], Any]]:
    import torch

    from spanqa.decode import SpanDecoder

    features_qa = utils_qa_features(inputs)
    decoder, features = span_decoder(inputs)
    on_torch = SpanDecoder(decoder.config, plugin_manager=decoder.registry.plugin_manager, backend="torch")
    start_t, end_t = torch.from_numpy(start), torch.from_numpy(end)

    def with_all_answers() -> dict[str, Any]:
        predictions = decoder.decode(start, end, features)
        for prediction in predictions.values():
            tuple(prediction.n_best)
        return predictions

    return {
        "utils_qa-style (top-20 x top-20, Python loops)": lambda: utils_qa_postprocess(
            inputs, features_qa, start, end
        ),
        "SpanDecoder, numpy": lambda: spanqa_best(decoder.decode(start, end, features)),
        "SpanDecoder, torch (CPU tensors, backend='torch')": lambda: spanqa_best(
            on_torch.decode(start_t, end_t, features)
        ),
        "SpanDecoder, numpy + every n-best Answer built": lambda: spanqa_best(with_all_answers()),
    }


def probe_main(args: argparse.Namespace) -> None:
    inputs = load_inputs(args.data_dir)
    start, end = variants(inputs)[args.variant]
    function = decoders(inputs, start, end)[args.memory_probe]
    print(json.dumps({"rss_mib": peak_memory_mib(function)}))


Best = dict[str, tuple[int, int, float]]


def row(
    name: str,
    seconds: float | None,
    best: Best | None,
    reference: Best,
    truth: dict[str, float],
    rss: float | None,
    baseline: float | None,
    note: str = "",
) -> list[str]:
    n = len(truth)
    if seconds is None or best is None:
        return [name, "-", "-", "-", "-", "-", "-", note or "not run"]
    found = sum(1 for key, score in truth.items() if key in best and best[key][2] >= score)
    agree = sum(
        1 for key in truth if key in best and key in reference and best[key][:2] == reference[key][:2]
    )
    lower = sum(1 for key in truth if key in best and key in reference and best[key][2] < reference[key][2])
    speed = f"{baseline / seconds:.1f}x" if baseline else "1.0x"
    return [
        name,
        f"{n / seconds:,.0f}",
        speed,
        f"{100 * agree / n:.1f}%",
        f"{100 * found / n:.1f}% ({n - found} missed)",
        str(lower),
        "-" if rss is None else f"{rss:.1f}",
        note,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed repeats of each decoder (the best is kept)"
    )
    parser.add_argument(
        "--slow-repeats", type=int, default=5, help="timed repeats of transformers 4.57 (about 2 s each)"
    )
    parser.add_argument(
        "--skip-tf457", action="store_true", help="do not build/run the transformers 4.57 venv"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the Markdown table")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        probe_main(args)
        return 0

    inputs = load_inputs(args.data_dir)
    python, why = (None, "skipped (--skip-tf457)") if args.skip_tf457 else tf457_python()
    header = [
        "decoder",
        "examples/s",
        "vs utils_qa",
        "same best answer as SpanDecoder",
        "finds the true best span",
        "examples with a lower best score than SpanDecoder",
        "peak RSS added (MiB)",
        "note",
    ]
    sections = []
    for variant, (start, end) in variants(inputs).items():
        truth = brute_force_best(inputs, start, end)
        functions = decoders(inputs, start, end)
        results = timed_round_robin(functions, args.repeats)
        for name, (seconds, _) in results.items():
            print(f"[{variant}] {name}: {seconds * 1e3:.1f} ms", file=sys.stderr)
        reference = results["SpanDecoder, numpy"][1]
        baseline = results["utils_qa-style (top-20 x top-20, Python loops)"][0]
        rows = []
        for name, (seconds, best) in results.items():
            rss = memory_probe(name, variant, args.data_dir)
            rows.append(row(name, seconds, best, reference, truth, rss, baseline))
        tf_name = "transformers 4.57 pipeline decode_spans (L x L per window)"
        if python is not None:
            tf = run_tf457(python, start, end, inputs, args.slow_repeats)
            print(f"[{variant}] {tf_name}: {min(tf['seconds']) * 1e3:.1f} ms", file=sys.stderr)
            note = f"transformers {tf['version']}; windows ranked by per-window probability"
            rows.insert(
                1,
                row(tf_name, min(tf["seconds"]), tf["best"], reference, truth, tf["rss_mib"], baseline, note),
            )
        else:
            rows.insert(1, row(tf_name, None, None, reference, truth, None, baseline, why))
        sections.append((variant, rows))

    lines = [
        "# Decoding benchmark",
        "",
        f"Generated by `python benchmarks/decode.py` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()}, numpy {np.__version__}.",
        "Input: XQuAD-en, 1,190 questions / 1,219 windows of real MiniLM logits (float32), cap 30 tokens, "
        "20 candidates. Throughput is the best of several repeats; compare ratios within one run.",
        '"Finds the true best span": its best answer has the best start + end logit sum of a brute force '
        "over all token pairs under the cap. SpanDecoder builds n-best `Answer` objects on access; "
        "the last row "
        "builds all of them, as utils_qa builds its n-best dicts.",
        "",
    ]
    for variant, rows in sections:
        lines += [f"## {variant}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
        lines.append("")
    table = "\n".join(lines)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
