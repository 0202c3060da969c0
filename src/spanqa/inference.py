"""The one inference path: records -> windows -> streamed forward pass -> decoded predictions.

:class:`~spanqa.Reader` (``predict``, ``__call__``, ``ask``) and :class:`~spanqa.QAFineTuner` (``evaluate``,
``predict``) both answer through :func:`predict_records`, so "the Reader answers what ``evaluate`` scored"
holds by construction: the same windows, the same length-sorted batches under the same token budget, the
same kernels (oneDNN for fp32 on the CPU, autocast for reduced precision) and the same decoder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import torch

from spanqa.align import Aligner
from spanqa.batching import stream_windows
from spanqa.data import LoadedRecords
from spanqa.decode import DecodeStream, Prediction, SpanDecoder

__all__ = ["predict_records", "predict_records_each"]


def predict_records(
    model: torch.nn.Module,
    aligner: Aligner,
    decoder: SpanDecoder,
    records: Iterable[Mapping[str, Any]] | LoadedRecords,
    *,
    batch_size: int,
    max_batch_tokens: int | Literal["auto"] | None = "auto",
    autocast_dtype: torch.dtype | None = None,
    onednn: bool = True,
    progress: bool | None = None,
    description: str = "Reading",
) -> dict[str, Prediction]:
    """``{id: Prediction}`` for every record (answers are not needed), decoded as the batches finish.

    Logits never accumulate: each batch is reduced to span candidates by the decode stream before the
    next one runs (see :func:`spanqa.batching.stream_windows` for the batching options).
    """
    (predictions,) = predict_records_each(
        model,
        aligner,
        (decoder,),
        records,
        batch_size=batch_size,
        max_batch_tokens=max_batch_tokens,
        autocast_dtype=autocast_dtype,
        onednn=onednn,
        progress=progress,
        description=description,
    )
    return predictions


def predict_records_each(
    model: torch.nn.Module,
    aligner: Aligner,
    decoders: Sequence[SpanDecoder],
    records: Iterable[Mapping[str, Any]] | LoadedRecords,
    *,
    batch_size: int,
    max_batch_tokens: int | Literal["auto"] | None = "auto",
    autocast_dtype: torch.dtype | None = None,
    onednn: bool = True,
    progress: bool | None = None,
    description: str = "Reading",
) -> list[dict[str, Prediction]]:
    """:func:`predict_records` for each of ``decoders``, from one forward pass: every decoder reads the
    same logits (how :mod:`spanqa.decode.tuning` scores a grid of decodings at the cost of one)."""
    features = aligner.eval_features(records)
    streams = _Streams([decoder.stream(features) for decoder in decoders])
    stream_windows(
        model,
        features,
        streams,
        pad_token_id=int(aligner.tokenizer.pad_token_id or 0),
        batch_size=batch_size,
        max_batch_tokens=max_batch_tokens,
        autocast_dtype=autocast_dtype,
        onednn=onednn,
        progress=progress,
        description=description,
    )
    return [stream.finish() for stream in streams.streams]


class _Streams:
    """Hands each batch of logits to several decode streams (they only read them)."""

    def __init__(self, streams: Sequence[DecodeStream]) -> None:
        self.streams = list(streams)

    def add(self, start_logits: Any, end_logits: Any, window_indices: Any = None) -> None:
        for stream in self.streams:
            stream.add(start_logits, end_logits, window_indices)
