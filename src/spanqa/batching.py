"""Dynamic padding and the streamed forward pass over evaluation windows.

Both training and inference pad each batch only to its own longest window (never to ``max_length``), and
group windows of similar length into a batch, so FLOPs go to real tokens. Evaluation never keeps the logits
of the whole set: each batch's logits go straight into a :class:`~spanqa.decode.DecodeStream`, which keeps
only per-window candidates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol

import numpy as np
import torch

from spanqa.errors import ConfigError
from spanqa.features import EvalFeatures, PaddingSide
from spanqa.onednn import onednn_linears


class LogitsSink(Protocol):
    """What takes each batch's logits: a :class:`~spanqa.decode.DecodeStream`, or several at once."""

    def add(self, start_logits: Any, end_logits: Any, window_indices: Any = None) -> None: ...


#: Model-input columns that are padded, with the value used for padding (``None``: the pad token id).
_PADDED_COLUMNS: dict[str, int | None] = {"input_ids": None, "attention_mask": 0, "token_type_ids": 0}


def pad_batch(
    columns: Mapping[str, Sequence[Sequence[int]]],
    *,
    pad_token_id: int,
    padding_side: PaddingSide,
    pad_to_multiple_of: int | None = None,
) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Pad the model-input ``columns`` (``input_ids``, ``attention_mask``, ...) to the batch's longest row.

    Returns the padded tensors and, per row, the shift applied to its token positions (the number of pad
    tokens put *before* it: 0 for right padding), which label positions must be moved by.
    """
    lengths = np.array([len(ids) for ids in columns["input_ids"]], dtype=np.int64)
    width = int(lengths.max()) if len(lengths) else 0
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    shifts = (width - lengths) if padding_side == "left" else np.zeros_like(lengths)
    batch: dict[str, torch.Tensor] = {}
    for column, pad_value in _PADDED_COLUMNS.items():
        if column not in columns:
            continue
        fill = pad_token_id if pad_value is None else pad_value
        array = np.full((len(lengths), width), fill, dtype=np.int64)
        for i, row in enumerate(columns[column]):
            start = int(shifts[i])
            array[i, start : start + lengths[i]] = row
        batch[column] = torch.from_numpy(array)
    return batch, shifts


class QADataCollator:
    """Pads training windows per batch and moves the answer labels with left padding.

    ``transformers.DataCollatorWithPadding`` pads correctly but leaves ``start_positions`` untouched, which
    points labels at the wrong tokens for left-padding (XLNet-like) tokenizers; this collator shifts them.
    """

    def __init__(
        self, *, pad_token_id: int, padding_side: PaddingSide, pad_to_multiple_of: int | None = None
    ):
        self.pad_token_id = pad_token_id
        self.padding_side: PaddingSide = padding_side
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        batch, shifts = pad_batch(
            {column: [row[column] for row in rows] for column in _PADDED_COLUMNS if column in rows[0]},
            pad_token_id=self.pad_token_id,
            padding_side=self.padding_side,
            pad_to_multiple_of=self.pad_to_multiple_of,
        )
        for label in ("start_positions", "end_positions"):
            if label in rows[0]:
                positions = np.array([int(row[label]) for row in rows], dtype=np.int64) + shifts
                batch[label] = torch.from_numpy(positions)
        return batch


class LengthGroupedSampler(torch.utils.data.Sampler[int]):
    """Training order in which each batch holds windows of similar length, drawn from a small random pool.

    Each epoch the windows are shuffled, cut into pools of ``group_batches`` batches, and every pool is
    sorted by length (longest first) before it is cut into batches, so a batch pads little. transformers'
    own sampler sorts pools of up to 50 batches: its batches are nearly uniform in length (and questions
    on one context, whose windows have almost the same length, land together), and on spanqa's fine-tuning
    benchmark that cost 1.6 EM / 2.3 F1 against random batches padded to 384, while pools of 8 batches
    scored above them at about 9% more padded tokens than pools of 50 (``docs/benchmarks.md``). The order
    depends only on ``seed`` and the epoch (``set_epoch``, which ``Trainer`` calls), so a resumed run sees
    the same batches.
    """

    def __init__(self, lengths: Sequence[int], *, batch_size: int, group_batches: int, seed: int) -> None:
        if batch_size < 1 or group_batches < 1:
            raise ConfigError(f"batch_size and group_batches must be >= 1, got {batch_size}, {group_batches}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.pool = batch_size * group_batches
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.lengths))
        pools = [order[i : i + self.pool] for i in range(0, len(order), self.pool)]
        pools = [pool[np.argsort(-self.lengths[pool], kind="stable")] for pool in pools]
        return iter(np.concatenate(pools).tolist() if pools else [])


#: Padded tokens per forward pass on the CPU when the caller sets no budget ("auto"). Large CPU batches
#: are slower per token, not faster: a pass of 32 windows of 384 tokens makes 75 MB feed-forward
#: activations for a MiniLM (more for larger models) that spill out of the CPU caches. On 2 cores, passes
#: of 1,536-3,072 tokens answered 3-23% more XQuAD questions per second than passes of 32 windows
#: (interleaved runs; benchmarks/reader.py has the full-set figure). GPUs want the biggest batch that
#: fits, so there "auto" means no budget.
CPU_BATCH_TOKENS = 2048


def resolve_batch_tokens(max_batch_tokens: int | Literal["auto"] | None, device: torch.device) -> int | None:
    """The token budget per forward pass: ``"auto"`` is :data:`CPU_BATCH_TOKENS` on the CPU and no budget
    on a GPU; ``None`` is no budget anywhere; a number is that budget."""
    if max_batch_tokens == "auto":
        return CPU_BATCH_TOKENS if device.type == "cpu" else None
    if max_batch_tokens is None:
        return None
    if isinstance(max_batch_tokens, bool) or not isinstance(max_batch_tokens, int) or max_batch_tokens < 1:
        raise ConfigError(f"max_batch_tokens must be an int >= 1, 'auto' or None, got {max_batch_tokens!r}")
    return max_batch_tokens


def length_sorted_batches(
    lengths: np.ndarray, batch_size: int, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Window indices in batches of similar length (longest first, so memory peaks at once, early).

    A batch holds at most ``batch_size`` windows and, with ``max_tokens``, at most that many tokens once
    padded to its longest window (a window longer than the budget still gets a batch of its own).
    """
    order = np.argsort(-lengths, kind="stable")
    if max_tokens is None:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        width = max(int(lengths[order[start]]), 1)  # the longest window of the batch comes first
        size = min(batch_size, max(1, max_tokens // width))
        batches.append(order[start : start + size])
        start += size
    return batches


def stream_windows(
    model: torch.nn.Module,
    features: EvalFeatures,
    stream: LogitsSink,
    *,
    pad_token_id: int,
    batch_size: int = 32,
    max_batch_tokens: int | Literal["auto"] | None = "auto",
    progress: bool | None = None,
    autocast_dtype: torch.dtype | None = None,
    onednn: bool = True,
    description: str = "Evaluating",
) -> None:
    """Run ``model`` over every window of ``features`` and feed the logits to ``stream`` batch by batch.

    Windows are sorted by length so each batch pads little; logits of a batch are handed to the stream
    (and dropped) before the next batch runs, so memory does not grow with the number of windows.
    A batch holds at most ``batch_size`` windows and ``max_batch_tokens`` padded tokens (see
    :func:`resolve_batch_tokens`). ``progress=None`` shows a bar only for more than a few batches.
    ``onednn`` runs fp32 CPU linear layers through oneDNN with packed weights
    (``spanqa.onednn.onednn_linears``: forward pass 1.17-1.37x as fast on the benchmark CPU).
    """
    from tqdm.auto import tqdm

    device = next(model.parameters()).device
    budget = resolve_batch_tokens(max_batch_tokens, device)
    batches = length_sorted_batches(features.lengths, batch_size, budget)
    show = progress if progress is not None else len(batches) > 4
    was_training = model.training
    if was_training:  # toggling walks every module: skip it when the model is already in eval mode
        model.eval()
    try:
        with torch.inference_mode(), onednn_linears(model, onednn and autocast_dtype is None):
            for indices in tqdm(batches, desc=description, unit="batch", disable=not show):
                inputs, _ = pad_batch(
                    features.model_inputs(indices.tolist()),
                    pad_token_id=pad_token_id,
                    padding_side=features.padding_side,
                )
                inputs = {name: tensor.to(device) for name, tensor in inputs.items()}
                if autocast_dtype is not None:
                    with torch.autocast(device_type=device.type, dtype=autocast_dtype):
                        outputs = model(**inputs)
                else:
                    outputs = model(**inputs)
                stream.add(outputs.start_logits, outputs.end_logits, indices)
    finally:
        if was_training:
            model.train()
