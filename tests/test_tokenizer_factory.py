"""The tiny test tokenizers are the same in every process, so a failing example can be replayed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared_data import DATA_DIR
from tokenizer_factory import FAMILIES

TESTS = Path(__file__).resolve().parent

BUILD = """
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from tokenizer_factory import save_families, training_texts

data = Path(sys.argv[2])
save_families(training_texts(data if data.is_dir() else None), Path(sys.argv[3]))
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_every_family_is_built_identically_in_fresh_processes(
    tmp_path: Path, tokenizer_dirs: dict[str, Path]
) -> None:
    """Two fresh interpreters with different hash seeds (and so different Rust hash-map orders too,
    which change with every process anyway) build every family byte for byte like this session did."""
    outputs = [tmp_path / f"build-{seed}" for seed in (1, 2)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD, str(TESTS), str(DATA_DIR), str(output)],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for seed, output in zip((1, 2), outputs, strict=True)
    ]
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0, out
    for family in FAMILIES:
        built = [_files(output / family) for output in outputs]
        assert "tokenizer.json" in built[0], family
        assert built[0] == built[1], f"{family}: two processes built different tokenizers"
        assert built[0] == _files(tokenizer_dirs[family]), f"{family}: differs from this session's"
