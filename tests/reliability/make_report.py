"""Generate ``docs/reliability.md``: the bad-input corpus with the outcome of each case, and the faults and
security checks of the reliability suite with their results.

Run from the repository root::

    python -m tests.reliability.make_report            # writes docs/reliability.md
    python -m tests.reliability.make_report --output -  # prints it

The input table is measured here, live: every corpus case goes through ``spanqa.load_records``, ``spanqa
check-data`` and (when it loads) the Aligner with two tokenizer families. The fault and security tables
come from running ``pytest tests/reliability -m ''`` (slow tests included, about two minutes on two
cores) and reading its JUnit XML, with each test's docstring as the description of the fault.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import subprocess
import sys
import tempfile
import time
import warnings
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path
from typing import Any

from .corpus import CASES, Case

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
REPO = TESTS.parent
DATA_DIR = REPO.parent / "shared" / "data"
COMMAND = "python -m tests.reliability.make_report"
FAMILIES = ("wordpiece", "xlnet")


#: What the suite found and what was fixed (each fix has a test in the suite that failed before it).
FIXED = (
    "`train(resume_from_checkpoint=True)` took the highest-numbered `checkpoint-*` directory even when a "
    "SIGKILL had cut it short (truncated weights, no `trainer_state.json`) and failed on it; it now takes "
    "the newest complete checkpoint and warns about the others (`test_faults.py`).",
    "A lone surrogate (`\\ud800`, which `json` reads without complaint) crashed the tokenizer with a bare "
    "`UnicodeEncodeError`; `load_records`, the Aligner and the Reader now raise a `DataError` naming the "
    "record and field (`lone-surrogate`, `test_layers.py`).",
    "JSON nested 100,000 deep and integers of 5,000 digits escaped `load_records` as a bare `RecursionError` "
    "/ `ValueError`; both are `DataError`s naming the file now (`deeply-nested`, `integer-5000-digits`).",
    "A damaged model directory (config not an object, a field of the wrong type, truncated or garbage "
    "safetensors, missing weights, a pickled `.bin` refused by torch's safe loader) raised `TypeError`, "
    "`StrictDataclassFieldValidationError`, `SafetensorError`, `OSError` or `UnpicklingError`; `config.json` "
    "is now validated before use and every case is a `ConfigError`/`TokenizerError` naming the directory.",
    '`Reader(question, b"bytes")` read the bytes as a list of integers ("1 questions but 5 contexts"); it '
    "now says the context must be a string.",
    "Questions longer than the model's maximum length made transformers warn that they \"will result in "
    'indexing errors" although the Aligner truncates them; only the tokens that matter are tokenized now.',
)


def _cell(text: str, limit: int = 90) -> str:
    """``text`` fit for one Markdown table cell."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load_outcome(case: Case, path: Path) -> tuple[str, str, Any]:
    """(outcome, detail, loaded records or None) of ``load_records`` on the case's file."""
    from spanqa.data import load_records
    from spanqa.errors import DataError

    try:
        loaded = load_records(path)
    except DataError as error:
        return "error", str(error).replace(str(path), "FILE"), None
    report = loaded.report
    if report.repaired:
        item = report.repaired[0]
        return "repaired", f"{item.reason}: start {item.old_start} -> {item.new_start}", loaded
    if report.dropped:
        item = report.dropped[0]
        return "dropped", f"{item.reason}: {item.detail}", loaded
    return "ok", f"{report.num_records} record(s), clean", loaded


def _check_data_status(path: Path) -> int:
    from spanqa import cli

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.main(["check-data", str(path)])


def _tokenizers() -> dict[str, Any]:
    sys.path.insert(0, str(TESTS))  # the tokenizer factory of the test suite
    from tokenizer_factory import build_families, training_texts

    texts = training_texts(DATA_DIR if DATA_DIR.is_dir() else None)
    return {family: tokenizer for family, tokenizer in build_families(texts).items() if family in FAMILIES}


def _alignment(loaded: Any, tokenizer: Any, case: Case) -> str:
    from spanqa.align import Aligner

    if case.name == "context-million":
        aligner = Aligner(tokenizer, max_length=384, stride=128, progress=False)
    else:
        aligner = Aligner(tokenizer, max_length=48, stride=12, max_question_tokens=12)
    report = aligner.train_features(loaded).report
    if report.answers == 0:
        return f"{report.features} windows, unanswerable"
    parts = [f"{report.exact} exact", f"{report.covered} covered"]
    parts += [
        f"{report.outside_window} outside",
        f"**{report.failed} failed**" if report.failed else "0 failed",
    ]
    if report.truncated_questions:
        parts.append("question truncated")
    return f"{report.features} windows: " + ", ".join(parts)


def input_table() -> tuple[list[str], int]:
    """The Markdown rows of the corpus table and the number of cases whose outcome was not the expected."""
    tokenizers = _tokenizers()
    rows = [
        "| case | input | expected | outcome (`load_records`) | check-data | " + " | ".join(
            f"Aligner ({family})" for family in FAMILIES
        ) + " |",
        "|---|---|---|---|---|" + "---|" * len(FAMILIES),
    ]  # fmt: skip
    wrong = 0
    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in CASES:
            path = case.write(Path(directory))
            outcome, detail, loaded = _load_outcome(case, path)
            matches = outcome == case.expect and (case.reason in detail if outcome != "ok" else True)
            wrong += not matches
            status = _check_data_status(path)
            aligned = [_alignment(loaded, tokenizers[f], case) if loaded else "—" for f in FAMILIES]
            mark = "✓" if matches else "**✗**"
            rows.append(
                f"| `{case.name}` | {_cell(case.kind + ': ' + case.description, 70)} | {case.expect} | "
                f"{mark} {outcome}: {_cell(detail)} | exit {status} | " + " | ".join(aligned) + " |"
            )
    return rows, wrong


def _docstrings(path: Path) -> dict[str, str]:
    """Test function name -> the first paragraph of its docstring (or its name in words)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            doc = ast.get_docstring(node) or node.name.removeprefix("test_").replace("_", " ")
            found[node.name] = " ".join(doc.split("\n\n")[0].split())
    return found


def run_suite() -> tuple[list[dict[str, Any]], float]:
    """Run the whole reliability suite (slow tests too) and return one dict per test case."""
    with tempfile.TemporaryDirectory() as directory:
        junit = Path(directory) / "junit.xml"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", str(HERE), "-m", "", "-q", "-p", "no:cacheprovider",
             f"--junitxml={junit}"],
            cwd=REPO, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        root = ElementTree.parse(junit).getroot()
    cases = []
    for element in root.iter("testcase"):
        outcome = "passed"
        message = ""
        for child in element:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", child.get("message", "")
            elif child.tag == "skipped":
                is_xfail = child.get("type") == "pytest.xfail"
                outcome = "xfail (known bug)" if is_xfail else "skipped"
                message = child.get("message", "")
        cases.append(
            {
                "module": element.get("classname", "").rsplit(".", 1)[-1],
                "name": element.get("name", ""),
                "seconds": float(element.get("time", 0.0)),
                "outcome": outcome,
                "message": message,
            }
        )
    return cases, seconds


def suite_tables(cases: list[dict[str, Any]]) -> list[str]:
    lines = ["| test module | passed | xfail (known bug) | failed | skipped |", "|---|---|---|---|---|"]
    for module in sorted({case["module"] for case in cases}):
        counts = Counter(case["outcome"] for case in cases if case["module"] == module)
        lines.append(
            f"| `{module}` | {counts['passed']} | {counts['xfail (known bug)']} | {counts['failed']} | "
            f"{counts['skipped']} |"
        )
    for module, title in (("test_faults", "Faults injected"), ("test_security", "Security checks")):
        docs = _docstrings(HERE / f"{module}.py")
        lines += ["", f"### {title}", "", "| test | fault / check, and the required outcome | result | s |",
                  "|---|---|---|---|"]  # fmt: skip
        by_function: dict[str, list[dict[str, Any]]] = {}
        for case in cases:
            if case["module"] == module:
                by_function.setdefault(case["name"].split("[")[0], []).append(case)
        for function, runs in by_function.items():
            outcomes = Counter(run["outcome"] for run in runs)
            result = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
            seconds = sum(run["seconds"] for run in runs)
            lines.append(
                f"| `{function}` | {_cell(docs.get(function, ''), 400)} | {result} | {seconds:.1f} |"
            )
    known = sorted({_cell(case["message"], 400) for case in cases if case["outcome"].startswith("xfail")})
    if known:
        lines += ["", "### Known bugs found (strict `xfail` tests: they fail loudly once fixed)", ""]
        lines += [f"- {message}" for message in known]
    return lines


def render() -> str:
    started = time.perf_counter()
    rows, wrong = input_table()
    input_seconds = time.perf_counter() - started
    cases, suite_seconds = run_suite()
    failed = [case for case in cases if case["outcome"] == "failed"]
    header = [
        "# Reliability",
        "",
        "spanqa must keep working and lose nothing under bad data, crashes and broken plugins. The",
        "reliability suite (`tests/reliability/`) proves it; this page is generated from it by",
        "",
        "```bash",
        COMMAND,
        "```",
        "",
        f"(input table: {input_seconds:.0f} s; whole suite, slow tests included: {suite_seconds:.0f} s,",
        "on the machine that generated this page). Run the tests alone with",
        "`pytest tests/reliability -m ''`.",
        "",
        "What the suite covers and where:",
        "",
        "- **Bad input** (`corpus.py`, one table): each case runs through `load_records` and `spanqa",
        "  check-data` (`test_data_layer.py`), and every case that loads through the Aligner with all four",
        "  tokenizer families (labels proven by `alignment_reference`), the decoder and the Reader",
        "  (`test_layers.py`). Errors are `DataError`s naming the file and the record; nothing is dropped",
        "  without a report entry.",
        "- **Property-based tests** (hypothesis), not repeated here: the Aligner on random texts and window",
        "  settings (`tests/test_align_properties.py`), the decoder against a brute force",
        "  (`tests/test_decode_exact.py`), the metrics against a reference implementation",
        "  (`tests/test_metrics.py`).",
        "- **Faults** (`test_faults.py`): SIGKILL during training and during `save`, checkpoints cut short,",
        "  plugins that clash; the plugin faults of `tests/test_plugins.py` (import failure, a hook or a",
        "  strategy that raises, a strategy-name clash) are referenced, not repeated.",
        "- **Security** (`test_security.py`): no `trust_remote_code`, no unpickling, safetensors only,",
        "  configs validated before use; plugin autoload can be switched off with",
        "  `SPANQA_DISABLE_PLUGIN_AUTOLOAD=1` (`tests/test_plugins.py`, `test_faults.py`).",
        "",
        f"## Inputs tried ({len(CASES)} cases, {len(CASES) - wrong} with the expected outcome)",
        "",
        "Aligner columns: windows of 48 tokens with an overlap of 12 (384/128 for the million-character",
        "context); `exact`/`covered`/`outside`/`failed` count gold answers as in the `AlignmentReport`.",
        "`check-data` exits 0 on data it can read (with a report) and 2 with one error line otherwise.",
        "",
    ]
    summary = Counter(case["outcome"] for case in cases)
    body = [
        *rows,
        "",
        f"## Suite results, faults injected and outcomes ({len(cases)} tests: "
        + ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary.items()))
        + ")",
        "",
        *suite_tables(cases),
        "",
        "## Found by this suite and fixed",
        "",
        *[f"- {item}" for item in FIXED],
    ]
    if failed:
        body += ["", "### Failing tests", ""] + [
            f"- `{case['name']}`: {_cell(case['message'])}" for case in failed
        ]
    return "\n".join(header + body) + "\n"


#: Hand-written sections at the end of the page (the mutation-testing score, from
#: ``scripts/mutation_test.py``), kept as they are when the page is regenerated: all from this heading on.
KEPT_FROM = "\n## Mutation testing\n"


def kept_sections(page: Path) -> str:
    """The hand-written tail of the current page (from :data:`KEPT_FROM`), or ``""``."""
    old = page.read_text(encoding="utf-8") if page.exists() else ""
    return old[old.index(KEPT_FROM) :] if KEPT_FROM in old else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--output", default=str(REPO / "docs" / "reliability.md"), help="file, or - for stdout"
    )
    options = parser.parse_args(argv)
    text = render() + kept_sections(REPO / "docs" / "reliability.md")
    if options.output == "-":
        sys.stdout.write(text)
    else:
        Path(options.output).write_text(text, encoding="utf-8")
        print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
