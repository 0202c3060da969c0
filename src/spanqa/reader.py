"""Reader: answer questions over contexts and long documents with any extractive QA model.

This is what ``pipeline("question-answering")`` was in transformers 4, rebuilt on spanqa's pieces: the
:class:`~spanqa.Aligner` splits contexts into overlapping windows, one streamed, length-grouped batched
forward pass runs the model, and the :class:`~spanqa.SpanDecoder` finds the exact best spans, ``top_k``
*distinct* ones (filtered before the cut, so ``top_k`` answers come back whenever the text has them).

Scores are raw ``start + end`` logit sums, comparable across the windows of a context and across the
documents of one question (same model, same question). Probabilities are a softmax over the candidates
considered together: an example's own candidates for question/context pairs, and every document's
candidates at once for :meth:`Reader.ask` over many documents, so they sum to at most 1 per question.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import attrs
import numpy as np
import torch

from spanqa.align import Aligner
from spanqa.batching import resolve_batch_tokens
from spanqa.data import LoadedRecords, QARecord
from spanqa.decode import N_BEST, NULL_ANSWER, Answer, DecodingConfig, Prediction, SpanDecoder
from spanqa.errors import ConfigError, DataError
from spanqa.inference import predict_records
from spanqa.models import DECODING_CONFIG_FILE, load_tokenizer, load_trained_model
from spanqa.windows import DEFAULT_MAX_LENGTH, DEFAULT_MAX_QUESTION_TOKENS, DEFAULT_STRIDE

Precision = Literal["fp32", "fp16", "bf16"]
_DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@attrs.frozen
class ReaderAnswer:
    """One answer: text, character span in its context, score, probability and the document it is from.

    ``is_null`` marks the "no answer" prediction of a SQuAD 2.0 model (``text`` is ``""`` and ``start`` /
    ``end`` are ``None``); ``document`` is the index of the context the answer comes from (always 0 for a
    single question/context pair).
    """

    text: str
    start: int | None
    end: int | None
    score: float
    probability: float
    document: int = 0
    is_null: bool = False

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {str(device)!r} requested but CUDA is not available on this machine")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {str(device)!r} requested but MPS is not available on this machine")
    return resolved


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 matrix products natively (AVX512-BF16 or AMX), so bf16 is faster
    than fp32 there rather than emulated and slower."""
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, so looked up defensively
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def _check_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise DataError(f"{what} is empty")
    return value


class Reader:
    """Extractive question answering with a fine-tuned model: ``reader(question, context)``.

    Build it with :meth:`from_pretrained` from a directory saved by :class:`~spanqa.QAFineTuner` (its
    decoding config and tuned null threshold are used) or any extractive QA model with a fast tokenizer.

    Args:
        model, tokenizer: a ``transformers`` QA model and its fast tokenizer.
        decoding: strategies and options (default: the saved config, else SQuAD v1 decoding).
        max_length, stride: window length and overlap (in tokens) for long contexts.
        batch_size: windows per forward pass, at most.
        max_batch_tokens: padded tokens per forward pass, at most: ``"auto"`` (default) caps CPU passes at
            :data:`spanqa.batching.CPU_BATCH_TOKENS` (smaller passes are faster on a CPU) and leaves GPU
            passes at ``batch_size`` windows; ``None`` never caps.
        device: ``"cpu"``, ``"cuda"``, ``"mps"`` (default: CUDA when available).
        precision: ``"fp16"``/``"bf16"`` cast the model on a GPU. On a CPU with native bf16 arithmetic
            (AVX512-BF16 or AMX) ``"bf16"`` runs the matrix products in bf16 under ``torch.autocast``
            (weights, layer norms and softmax stay fp32): 1.50x as fast as ``"fp32"`` at batch size 32 in
            the last Reader benchmark (47.3 vs 31.5 questions/s, run 2026-12-03 evening); see
            ``docs/benchmarks.md`` for what it does to EM/F1.
        onednn: on a CPU in fp32, run the model's linear layers through oneDNN with weights packed once
            (``spanqa.onednn``; forward pass 1.17-1.37x as fast on the benchmark CPU, same answers);
            ``False`` keeps PyTorch's default (MKL) kernels. Evaluation does the same by default, so the
            Reader's answers match :meth:`QAFineTuner.evaluate`'s.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        decoding: DecodingConfig | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        stride: int = DEFAULT_STRIDE,
        max_question_tokens: int = DEFAULT_MAX_QUESTION_TOKENS,
        batch_size: int = 32,
        max_batch_tokens: int | Literal["auto"] | None = "auto",
        device: str | torch.device | None = None,
        precision: Precision = "fp32",
        onednn: bool = True,
        progress: bool | None = None,
    ) -> None:
        if precision not in _DTYPES:
            raise ConfigError(f"precision must be one of {sorted(_DTYPES)}, got {precision!r}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.device = _resolve_device(device)
        resolve_batch_tokens(max_batch_tokens, self.device)  # a bad value fails here, not at the first call
        #: On the CPU reduced precision is autocast (see ``precision``); on a GPU the weights are cast.
        self.autocast_dtype: torch.dtype | None = None
        if precision != "fp32" and self.device.type == "cpu":
            if precision == "fp16" or not cpu_has_native_bf16():
                raise ConfigError(
                    f"precision {precision!r} needs a GPU"
                    + (", or a CPU with AVX512-BF16 or AMX for 'bf16'" if precision == "bf16" else "")
                    + "; use 'fp32' on this CPU"
                )
            self.autocast_dtype = torch.bfloat16
        self.aligner = Aligner(
            tokenizer, max_length=max_length, stride=stride, max_question_tokens=max_question_tokens
        )
        self.tokenizer = tokenizer
        dtype = torch.float32 if self.autocast_dtype is not None else _DTYPES[precision]
        self.model = model.to(self.device, dtype=dtype).eval()
        self.decoding = decoding or DecodingConfig.squad_v1()
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.onednn = onednn
        self.progress = progress

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str], **options: Any) -> Reader:
        """Load model, tokenizer and (if saved) decoding config from ``directory``.

        A directory whose model has no trained QA head is refused: its answers would be random.
        """
        tokenizer = load_tokenizer(directory)
        model = load_trained_model(directory, "the Reader needs a fine-tuned model")
        saved = Path(directory) / DECODING_CONFIG_FILE
        if "decoding" not in options and saved.is_file():
            options["decoding"] = DecodingConfig.load(saved)
        return cls(model, tokenizer, **options)

    # ------------------------------------------------------------------------------------------------

    def _config(
        self, top_k: int, max_answer_length: int | None, handle_impossible: bool | None
    ) -> DecodingConfig:
        if top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {top_k}")
        config = self.decoding
        if handle_impossible:
            config = config.with_strategy(NULL_ANSWER)
        elif handle_impossible is False:
            config = config.without_strategy(NULL_ANSWER)
        if max_answer_length is not None:
            config = config.with_strategy("length-capped", {"max_answer_length": max_answer_length})
        if N_BEST in config.strategies and (config.n_best_size or 0) < top_k:
            config = config.with_options(N_BEST, n_best_size=top_k)
        return config

    def predict(self, records: Sequence[Mapping[str, Any]] | LoadedRecords) -> dict[str, Prediction]:
        """Decode every record (flat QA records with ``id``, ``question`` and ``context``; answers are not
        needed) with the reader's decoding config: ``{id: Prediction}``, the same predictions
        :meth:`QAFineTuner.evaluate` makes for the same model and settings."""
        return self._predict(records, self.decoding)

    def _predict(
        self, records: Sequence[Mapping[str, Any]] | LoadedRecords, config: DecodingConfig
    ) -> dict[str, Prediction]:
        return predict_records(
            self.model,
            self.aligner,
            SpanDecoder(config),
            records,
            batch_size=self.batch_size,
            max_batch_tokens=self.max_batch_tokens,
            autocast_dtype=self.autocast_dtype,
            onednn=self.onednn,
            progress=self.progress,
            description="Reading",
        )

    @overload
    def __call__(  # type: ignore[overload-overlap]  # a str is also a Sequence[str]
        self,
        question: str,
        context: str,
        *,
        top_k: int = 1,
        max_answer_length: int | None = None,
        handle_impossible: bool | None = None,
    ) -> list[ReaderAnswer]: ...

    @overload
    def __call__(
        self,
        question: Sequence[str],
        context: Sequence[str],
        *,
        top_k: int = 1,
        max_answer_length: int | None = None,
        handle_impossible: bool | None = None,
    ) -> list[list[ReaderAnswer]]: ...

    def __call__(
        self,
        question: str | Sequence[str],
        context: str | Sequence[str],
        *,
        top_k: int = 1,
        max_answer_length: int | None = None,
        handle_impossible: bool | None = None,
    ) -> list[ReaderAnswer] | list[list[ReaderAnswer]]:
        """Answer one question about one context (a list of ``top_k`` answers, best first), or lists of
        questions and contexts pairwise (a list of such lists).

        ``handle_impossible`` switches "no answer" on or off (default: as saved with the model).
        """
        single = isinstance(question, str) and isinstance(context, str)
        questions = _as_list(question, "question")
        contexts = _as_list(context, "context")
        if len(questions) != len(contexts):
            raise DataError(
                f"got {len(questions)} questions but {len(contexts)} contexts; pass them in pairs"
            )
        records = [
            _record(
                str(i),
                _check_text(q, "question" if single else f"question {i}"),
                _check_text(c, "context" if single else f"context {i}"),
            )
            for i, (q, c) in enumerate(zip(questions, contexts, strict=True))
        ]
        config = self._config(top_k, max_answer_length, handle_impossible)
        predictions = self._predict(records, config)
        answers = [_ranked(predictions[record["id"]], top_k) for record in records]
        return answers[0] if single else answers

    def ask(
        self,
        question: str,
        documents: Sequence[str],
        *,
        top_k: int = 1,
        max_answer_length: int | None = None,
        handle_impossible: bool | None = None,
    ) -> list[ReaderAnswer]:
        """Answer one question over many documents: the ``top_k`` best distinct answers of all of them,
        each tagged with its document index. Null is returned only when every document predicts null."""
        _check_text(question, "question")
        if isinstance(documents, str) or not documents:
            raise DataError("documents must be a non-empty list of strings")
        records = [
            _record(str(i), question, _check_text(d, f"document {i}")) for i, d in enumerate(documents)
        ]
        config = self._config(top_k, max_answer_length, handle_impossible)
        predictions = self._predict(records, config)
        spans: list[tuple[Answer, int]] = [
            (answer, document)
            for document, record in enumerate(records)
            if not predictions[record["id"]].is_null
            for answer in predictions[record["id"]].n_best
        ]
        if not spans:
            best_null = max(predictions.values(), key=lambda p: p.score)
            return [ReaderAnswer("", None, None, best_null.score, 1.0, int(best_null.example_id), True)]
        scores = np.array([answer.score for answer, _ in spans], dtype=np.float64)
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [
            ReaderAnswer(
                spans[i][0].text,
                spans[i][0].start,
                spans[i][0].end,
                float(scores[i]),
                float(probabilities[i]),
                spans[i][1],
            )
            for i in order
        ]


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return [value]
    # bytes are a Sequence (of ints): without this check they became "1 question but 5 contexts".
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return list(value)
    raise DataError(f"{what} must be a string or a list of strings, got {type(value).__name__}")


def _record(example_id: str, question: str, context: str) -> QARecord:
    return {
        "id": example_id,
        "title": "",
        "context": context,
        "question": question,
        "answers": {"text": [], "answer_start": []},
        "is_impossible": False,
    }


def _ranked(prediction: Prediction, top_k: int) -> list[ReaderAnswer]:
    """The prediction's answers, best first: the null answer leads when it was predicted."""
    answers = [
        ReaderAnswer(a.text, a.start, a.end, a.score, a.probability) for a in prediction.n_best[:top_k]
    ]
    if not answers and prediction.start is not None:
        answers = [
            ReaderAnswer(
                prediction.text, prediction.start, prediction.end, prediction.score, prediction.probability
            )
        ]
    if prediction.is_null:
        null = ReaderAnswer("", None, None, prediction.score, prediction.probability, is_null=True)
        answers = [null, *answers[: top_k - 1]]
    return answers
