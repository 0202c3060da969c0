"""The Aligner's output: :class:`EvalFeatures` (the contract between the :class:`~spanqa.Aligner` and the
:class:`~spanqa.SpanDecoder`) and :class:`TrainFeatures` (labelled windows for training).

An example (question + context) becomes one or more *windows* when its context is longer than the model's
``max_length``. Everything the decoder needs to map logits back to characters is stored here **columnar**
(numpy arrays), never as per-token Python objects, so decoding thousands of windows is a handful of
vectorised operations.

Token positions are positions inside the *unpadded* window: column ``k`` of ``offsets[i]`` is token ``k``
of window ``i``. When a batch of windows is padded for the model, right padding keeps those positions;
left padding shifts them, which is why :attr:`EvalFeatures.padding_side` travels with the features and the
decoder undoes the shift (``column = padded_length - lengths[i] + k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from spanqa.alignment_report import AlignmentReport

if TYPE_CHECKING:
    import datasets

PaddingSide = Literal["right", "left"]

#: Offset value of every token that is not part of the context (question, special and padding tokens).
NOT_CONTEXT = -1


_Int = TypeVar("_Int", np.int32, np.int64)


def _int_array(value: Any, dtype: type[_Int], ndim: int) -> npt.NDArray[_Int]:
    """``value`` as an ``ndim``-dimensional array of ``dtype``: the one conversion rule of every integer
    column of the features. The dtype is the column's: int32 for :class:`EvalFeatures` (offsets and window
    metadata, kept small), int64 for :class:`TrainFeatures` (labels, as the model's loss wants them)."""
    array = np.asarray(value, dtype=dtype)
    if array.ndim != ndim:
        raise ValueError(f"expected a {ndim}-d integer array, got shape {array.shape}")
    return array


# Named converters (attrs and mypy's attrs plugin take named functions).
def _int_array_1d(value: Any) -> npt.NDArray[np.int32]:
    return _int_array(value, np.int32, 1)


def _int_array_3d(value: Any) -> npt.NDArray[np.int32]:
    return _int_array(value, np.int32, 3)


def _int64_1d(value: Any) -> npt.NDArray[np.int64]:
    return _int_array(value, np.int64, 1)


@attrs.frozen(eq=False)
class EvalFeatures:
    """Windows of a set of examples, ready for a model's forward pass and for decoding.

    Attributes:
        input_ids: token ids of each window, unpadded (one list per window).
        attention_mask: attention mask of each window, unpadded.
        token_type_ids: segment ids of each window, or ``None`` when the tokenizer has none.
        offsets: ``int32 (n_windows, max_window_length, 2)``: the character span ``[start, end)`` of every
            context token in its example's context; ``-1`` for question, special and padding tokens, so a
            decoder can never answer with a question token.
        lengths: ``int32 (n_windows,)``: tokens in each window.
        cls_index: ``int32 (n_windows,)``: position of the window's CLS token (the null answer), taken
            from the tokenizer, not assumed to be 0.
        example_index: ``int32 (n_windows,)``: index of the window's example in ``example_ids``.
        example_ids: id of every example, in input order (examples may have several windows).
        contexts: context of every example, aligned with ``example_ids``.
        padding_side: the tokenizer's padding side, used to map padded logits back to window positions.
    """

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    token_type_ids: list[list[int]] | None
    offsets: npt.NDArray[np.int32] = attrs.field(converter=_int_array_3d)
    lengths: npt.NDArray[np.int32] = attrs.field(converter=_int_array_1d)
    cls_index: npt.NDArray[np.int32] = attrs.field(converter=_int_array_1d)
    example_index: npt.NDArray[np.int32] = attrs.field(converter=_int_array_1d)
    example_ids: list[str]
    contexts: list[str]
    padding_side: PaddingSide = "right"

    def __attrs_post_init__(self) -> None:
        n = len(self.input_ids)
        for name in ("attention_mask", "lengths", "cls_index", "example_index"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"EvalFeatures.{name} has {len(getattr(self, name))} rows, expected {n}")
        if self.offsets.shape[0] != n or (n and self.offsets.shape[2] != 2):
            raise ValueError(f"EvalFeatures.offsets has shape {self.offsets.shape}, expected ({n}, L, 2)")
        if len(self.contexts) != len(self.example_ids):
            raise ValueError("EvalFeatures.contexts and example_ids differ in length")
        if self.padding_side not in ("right", "left"):
            raise ValueError(
                f"EvalFeatures.padding_side must be 'right' or 'left', not {self.padding_side!r}"
            )

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def num_examples(self) -> int:
        return len(self.example_ids)

    @property
    def context_mask(self) -> npt.NDArray[np.bool_]:
        """``bool (n_windows, max_window_length)``: True where a token can start or end an answer.

        That is a context token with text: whitespace-only tokens (a lone ``"▁"`` or ``"Ġ"``) carry the
        empty span at their end, so an answer starting or ending on one would be empty or padded with a
        space; they can still lie *inside* an answer.
        """
        mask: npt.NDArray[np.bool_] = (self.offsets[:, :, 0] >= 0) & (
            self.offsets[:, :, 1] > self.offsets[:, :, 0]
        )
        return mask

    def model_inputs(self, indices: Sequence[int] | None = None) -> dict[str, list[list[int]]]:
        """The unpadded model inputs of the given windows (all by default), for a padding collator."""
        rows = range(len(self)) if indices is None else indices
        columns: dict[str, list[list[int]]] = {
            "input_ids": [self.input_ids[i] for i in rows],
            "attention_mask": [self.attention_mask[i] for i in rows],
        }
        if self.token_type_ids is not None:
            columns["token_type_ids"] = [self.token_type_ids[i] for i in rows]
        return columns

    def select(self, indices: Sequence[int]) -> EvalFeatures:
        """A subset of windows (all examples are kept, so example indices stay valid)."""
        idx = np.asarray(indices, dtype=np.int64)
        return attrs.evolve(
            self,
            input_ids=[self.input_ids[i] for i in idx],
            attention_mask=[self.attention_mask[i] for i in idx],
            token_type_ids=None if self.token_type_ids is None else [self.token_type_ids[i] for i in idx],
            offsets=self.offsets[idx],
            lengths=self.lengths[idx],
            cls_index=self.cls_index[idx],
            example_index=self.example_index[idx],
        )

    @classmethod
    def from_offsets(
        cls,
        offsets: npt.ArrayLike,
        window_example_ids: Sequence[str],
        contexts: dict[str, str],
        *,
        cls_index: npt.ArrayLike | None = None,
        padding_side: PaddingSide = "right",
    ) -> EvalFeatures:
        """Build decoding-only features from precomputed offsets (for example logits saved to disk).

        ``offsets`` is ``(n_windows, L, 2)`` with ``-1`` (or ``(0, 0)`` never) on non-context tokens;
        ``window_example_ids`` names each window's example and ``contexts`` maps ids to contexts. There are
        no input ids, so such features can be decoded but not fed to a model.
        """
        offsets_array = np.asarray(offsets, dtype=np.int32)
        n, length = offsets_array.shape[0], offsets_array.shape[1]
        order: dict[str, int] = {}
        for example_id in window_example_ids:
            order.setdefault(str(example_id), len(order))
        missing = [example_id for example_id in order if example_id not in contexts]
        if missing:
            raise ValueError(f"no context given for example id(s) {missing[:5]}")
        return cls(
            input_ids=[[] for _ in range(n)],
            attention_mask=[[] for _ in range(n)],
            token_type_ids=None,
            offsets=offsets_array,
            lengths=np.full(n, length, dtype=np.int32),
            cls_index=np.zeros(n, dtype=np.int32) if cls_index is None else cls_index,
            example_index=np.array([order[str(e)] for e in window_example_ids], dtype=np.int32),
            example_ids=list(order),
            contexts=[contexts[example_id] for example_id in order],
            padding_side=padding_side,
        )


@attrs.frozen(eq=False)
class TrainFeatures:
    """Training windows with their answer labels, unpadded (a collator pads each batch to its longest row).

    Label positions are positions inside the *unpadded* window, like every position in spanqa: a collator
    that pads on the left must add the number of pad tokens (``spanqa.batching.QADataCollator`` does).

    Attributes:
        input_ids: token ids of each window.
        attention_mask: attention mask of each window.
        token_type_ids: segment ids of each window, or None when the tokenizer returns none.
        start_positions: ``int64 (n_windows,)``: the answer's first token, or the window's CLS index.
        end_positions: ``int64 (n_windows,)``: the answer's last token (inclusive), or the CLS index.
        cls_index: ``int64 (n_windows,)``: the position of each window's CLS token.
        example_index: ``int64 (n_windows,)``: index of the window's example in ``example_ids``.
        example_ids: id of every example, in input order.
        padding_side: the tokenizer's padding side.
        report: the alignment report of these features.
    """

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    token_type_ids: list[list[int]] | None
    start_positions: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    end_positions: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    cls_index: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    example_index: npt.NDArray[np.int64] = attrs.field(converter=_int64_1d)
    example_ids: list[str]
    padding_side: PaddingSide
    report: AlignmentReport

    def __attrs_post_init__(self) -> None:
        n = len(self.input_ids)
        for name in ("attention_mask", "start_positions", "end_positions", "cls_index", "example_index"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"TrainFeatures.{name} has {len(getattr(self, name))} rows, expected {n}")
        if self.token_type_ids is not None and len(self.token_type_ids) != n:
            rows = len(self.token_type_ids)
            raise ValueError(f"TrainFeatures.token_type_ids has {rows} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        """``int64 (n_windows,)``: tokens in each window (for length-grouped batching)."""
        return np.fromiter(map(len, self.input_ids), dtype=np.int64, count=len(self.input_ids))

    def to_dataset(self) -> datasets.Dataset:
        """A ``datasets.Dataset`` with the model columns and the labels, unpadded (dynamic padding later).

        Columns: ``input_ids``, ``attention_mask``, ``token_type_ids`` (when the tokenizer has them),
        ``start_positions`` and ``end_positions``.
        """
        import datasets

        columns: dict[str, Any] = {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        if self.token_type_ids is not None:
            columns["token_type_ids"] = self.token_type_ids
        columns["start_positions"] = self.start_positions.tolist()
        columns["end_positions"] = self.end_positions.tolist()
        return datasets.Dataset.from_dict(columns)
