"""QAFineTuner under ``torchrun --nproc_per_node=2`` and ``accelerate launch --num_processes=2`` (DDP with
gloo on the CPU)."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from model_factory import save_tiny_qa_model
from spanqa.data import load_records, write_squad

WORKER = Path(__file__).with_name("distributed_worker.py")


def _launcher(name: str) -> str | None:
    """The launcher's executable, beside this Python first (a venv that is not activated), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def _launch_command(launcher: str, port: int) -> list[str]:
    """Two CPU processes on this machine, with the rendezvous on ``port``."""
    executable = _launcher(launcher)
    if executable is None:
        pytest.skip(f"{launcher} is not installed")
    if launcher == "torchrun":
        return [executable, "--nproc_per_node=2", f"--master_port={port}"]
    return [
        executable,
        "launch",
        # accelerate's --cpu starts one process (several need mpirun); --multi_gpu starts them through
        # torch.distributed.run, and on a machine without GPUs the Trainer then uses DDP over gloo.
        "--multi_gpu",
        "--num_processes=2",
        "--num_machines=1",
        "--mixed_precision=no",
        "--dynamo_backend=no",
        "--num_cpu_threads_per_process=1",
        f"--main_process_port={port}",
    ]


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_processes_train_once_and_report_metrics_once(
    launcher: str, tokenizer_dirs: dict[str, Path], data_dir: Path, tmp_path: Path
) -> None:
    model = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "tiny")
    data = tmp_path / "data.json"
    write_squad(load_records(data_dir / "xquad.en.json").records[:56], data)
    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    # accelerate reads its config from HF_HOME; an empty one means "no saved config": flags only.
    env["HF_HOME"] = str(tmp_path / "hf-home")
    done = subprocess.run(
        [*_launch_command(launcher, port), str(WORKER), str(model), str(data), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            _, rank, payload = line.split(" ", 2)
            results[int(rank)] = json.loads(payload)
    assert sorted(results) == [0, 1]
    assert all(result["world_size"] == 2 for result in results.values())
    # Evaluated once (rank 0) and broadcast: both ranks hold the very same metrics.
    assert results[0]["metrics"] == results[1]["metrics"]
    assert results[0]["metrics"]["total"] == 24
    # DistributedDataParallel: each rank trains on half of the windows (batch 4 per rank).
    from transformers import AutoTokenizer

    from spanqa import Aligner
    from spanqa.finetune import QAFineTuner, TrainingConfig

    aligner = Aligner(
        AutoTokenizer.from_pretrained(str(model)), max_length=96, stride=24, max_question_tokens=24
    )
    windows = len(aligner.train_features(load_records(data).records[:32]))
    assert results[0]["steps"] == results[1]["steps"] == math.ceil(math.ceil(windows / 2) / 4)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = QAFineTuner(
            tmp_path / "out" / "model",
            config=TrainingConfig(
                output_dir=str(tmp_path / "x"),
                max_length=96,
                stride=24,
                max_question_tokens=24,
                per_device_eval_batch_size=16,
                progress=False,
            ),
        )
    again = single.evaluate(load_records(data).records[32:56]).metrics
    assert again["exact"] == pytest.approx(results[0]["metrics"]["exact"])
    assert again["f1"] == pytest.approx(results[0]["metrics"]["f1"])
