"""Tiny, real question-answering models for the fine-tuning and inference tests.

A two-layer BERT with a 32-wide hidden state trains a step in milliseconds on the CPU, so tests exercise
the real ``transformers.Trainer`` path (optimizer, scheduler, checkpoints) instead of a mock. The encoder
is architecture-agnostic with respect to the tokenizer, so one model class serves every tokenizer family
(its vocabulary size and special-token ids are taken from the tokenizer).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering, BertModel


def tiny_bert_config(vocab_size: int, pad_token_id: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        pad_token_id=pad_token_id,
        type_vocab_size=3,  # XLNet-style tokenizers give the CLS token segment id 2
    )


def save_tiny_qa_model(tokenizer_dir: Path, out_dir: Path, *, seed: int = 0, with_head: bool = True) -> Path:
    """Save a randomly initialised tiny QA model (or a bare encoder) next to a copy of the tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
    config = tiny_bert_config(len(tokenizer), int(tokenizer.pad_token_id or 0))
    torch.manual_seed(seed)
    model = BertForQuestionAnswering(config) if with_head else BertModel(config)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
