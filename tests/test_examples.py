"""Every example script runs, as a user runs it (a subprocess, ``--quick``), and prints what it promises.

The scripts that fine-tune a model take 15-25 s on 2 CPU cores even with ``--quick`` and are marked slow;
``.ci/run`` runs them explicitly (``pytest -m slow tests/test_examples.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, tmp_path: Path, *args: str) -> str:
    """Run ``examples/<name>`` with ``--quick`` from a scratch directory; return its stdout."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "SPANQA_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--quick", "--output", str(tmp_path / "out"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"{name} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def test_every_example_is_listed_in_the_readme() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    scripts = sorted(path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("_"))
    assert scripts == [
        "custom_strategy.py",
        "fine_tune_and_evaluate.py",
        "long_document.py",
        "plain_pytorch_loop.py",
        "squad_v2_threshold.py",
    ]
    for script in scripts:
        assert f"python examples/{script} --quick" in readme


def test_custom_strategy(tmp_path: Path) -> None:
    out = run_example("custom_strategy.py", tmp_path)
    assert "'prefer-shorter' passes the spanqa.testing contract" in out
    lengths = [float(x) for x in re.findall(r"^\S+\s+(\d+\.\d+)$", out, flags=re.MULTILINE)]
    assert len(lengths) == 4
    assert lengths == sorted(lengths, reverse=True) and lengths[-1] < lengths[0]  # a penalty shortens answers


@pytest.mark.slow
def test_fine_tune_and_evaluate(tmp_path: Path) -> None:
    out = run_example("fine_tune_and_evaluate.py", tmp_path)
    assert re.search(r"EM \d+\.\d\d  F1 \d+\.\d\d", out)
    assert "failed:            0" in out
    report = tmp_path / "out" / "report"
    assert {"errors.html", "calibration.png", "answer_lengths.png", "metrics.json"} <= {
        path.name for path in report.iterdir()
    }
    assert (tmp_path / "out" / "reader" / "spanqa_decoding.json").is_file()


@pytest.mark.slow
def test_squad_v2_threshold(tmp_path: Path) -> None:
    out = run_example("squad_v2_threshold.py", tmp_path)
    assert "96 training and 24 dev questions (8 dev ones unanswerable)" in out
    untuned = re.search(r"threshold 0:\s+EM (\S+)  F1 (\S+)", out)
    tuned = re.search(r"tuned threshold \S+: EM (\S+)  F1 (\S+)", out)
    assert untuned and tuned
    assert float(tuned.group(2)) >= float(untuned.group(2))  # the tuned threshold is the best-F1 one
    assert "reloaded reader (threshold" in out


@pytest.mark.slow
def test_squad_v2_threshold_on_a_real_squad_v2_file(tmp_path: Path, data_dir: Path) -> None:
    out = run_example("squad_v2_threshold.py", tmp_path, "--data", str(data_dir / "squad-v2-dev-small.json"))
    assert re.search(r"96 training and 24 dev questions \(\d+ dev ones unanswerable\)", out)


@pytest.mark.slow
def test_long_document(tmp_path: Path) -> None:
    out = run_example("long_document.py", tmp_path)
    match = re.search(r"one document: [\d,]+ characters in (\d+) windows", out)
    assert match and int(match.group(1)) > 1  # longer than a window
    answers = re.findall(r"^  (['\"]).*\1 at \d+\.\.\d+ p=", out, flags=re.MULTILINE)  # repr() quotes
    assert len(answers) == 9  # three questions, three answers each
    corpus = re.search(r"a corpus: 240 paragraphs, ([\d,]+) tokens", out)
    assert corpus and int(corpus.group(1).replace(",", "")) > 384 * 50
    assert out.count("retrieve-then-read, over 3 separate documents") == 2


@pytest.mark.slow
def test_plain_pytorch_loop(tmp_path: Path) -> None:
    out = run_example("plain_pytorch_loop.py", tmp_path)
    losses = [float(x) for x in re.findall(r"mean loss (\d+\.\d+)", out)]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert re.search(r"EM \d+\.\d\d  F1 \d+\.\d\d on 32 questions", out)
