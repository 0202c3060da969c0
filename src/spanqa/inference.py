"""The one inference path: records -> windows -> streamed forward pass -> decoded predictions.

:class:`~spanqa.Reader` (``predict``, ``__call__``, ``ask``) and :class:`~spanqa.QAFineTuner` (``evaluate``,
``predict``) both answer through :func:`predict_records`, so "the Reader answers what ``evaluate`` scored"
holds by construction: the same windows, the same length-sorted batches under the same token budget, the
same kernels (oneDNN for fp32 on the CPU, autocast for reduced precision) and the same decoder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import torch

from spanqa.align import Aligner
from spanqa.batching import stream_windows
from spanqa.data import LoadedRecords
from spanqa.decode import Prediction, SpanDecoder

__all__ = ["predict_records"]


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
    features = aligner.eval_features(records)
    stream = decoder.stream(features)
    stream_windows(
        model,
        features,
        stream,
        pad_token_id=int(aligner.tokenizer.pad_token_id or 0),
        batch_size=batch_size,
        max_batch_tokens=max_batch_tokens,
        autocast_dtype=autocast_dtype,
        onednn=onednn,
        progress=progress,
        description=description,
    )
    return stream.finish()
