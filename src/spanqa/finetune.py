"""QAFineTuner: fine-tune, evaluate, predict and save an extractive QA model in one object.

It is glue with opinions: the :class:`~spanqa.Aligner` makes (and proves) the labels, a narrow
``transformers.Trainer`` subclass trains with dynamic padding and length-grouped batches, evaluation streams
logits batch by batch through the :class:`~spanqa.SpanDecoder` (memory does not grow with the size of the
dev set) and scores them with :mod:`spanqa.metrics`. ``save`` writes the model, the tokenizer and the
decoding config (with a tuned null threshold) together, so a reloaded model decodes exactly the same way.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import attrs
import torch
from transformers import PrinterCallback, Trainer, TrainerCallback

from spanqa._compat import training_arguments
from spanqa.align import Aligner
from spanqa.alignment_report import AlignmentReport
from spanqa.batching import LengthGroupedSampler, QADataCollator
from spanqa.data import LoadedRecords, Policy, QARecord, Source, load_questions, split_by_context
from spanqa.decode import (
    DecodingChoice,
    DecodingConfig,
    DecodingGrid,
    Prediction,
    SpanDecoder,
    choose_decoding,
    tune_null_threshold,
)
from spanqa.errors import ConfigError, DataError, SpanQAError
from spanqa.features import TrainFeatures
from spanqa.inference import predict_records, predict_records_each
from spanqa.metrics import evaluate as squad_evaluate
from spanqa.models import (
    DECODING_CONFIG_FILE,
    DECODING_TUNING_FILE,
    UntrainedHeadWarning,
    load_qa_model,
    load_tokenizer,
    quiet_transformers,
)
from spanqa.windows import DEFAULT_MAX_LENGTH, DEFAULT_MAX_QUESTION_TOKENS, DEFAULT_STRIDE

#: What data arguments accept: the sources :func:`spanqa.load_records` reads.
DataSource: TypeAlias = Source
Precision: TypeAlias = Literal["auto", "fp32", "fp16", "bf16"]


#: The fewest held-out questions the decoding is chosen on: below that, one question more or less right
#: (0.3 F1 at 300 questions, 2 at 50) outweighs the differences between decodings.
MIN_TUNING_QUESTIONS = 50


class TrainingDivergedError(SpanQAError, FloatingPointError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""


class AlignmentFailedError(DataError):
    """No training answer survived alignment; :attr:`report` is the alignment report that says why."""

    def __init__(self, message: str, report: AlignmentReport) -> None:
        super().__init__(message)
        self.report = report


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ConfigError(f"TrainingConfig.{attribute.name} must be > 0, got {value!r}")


def _fraction(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 <= value < 1:
        raise ConfigError(f"TrainingConfig.{attribute.name} must be in [0, 1), got {value!r}")


@attrs.frozen(kw_only=True)
class TrainingConfig:
    """Hyper-parameters of a fine-tuning run, named as in transformers' run_qa.py where they mean the same.

    ``stride`` is the overlap between consecutive windows of a long context, in tokens (run_qa.py calls it
    ``doc_stride``). ``trainer_options`` passes any other ``transformers.TrainingArguments`` option through
    unchanged (for example ``{"gradient_accumulation_steps": 2}``).

    ``group_by_length`` batches windows of similar length (each batch is padded only to its longest
    window): every epoch the windows are shuffled, cut into pools of ``length_group_batches`` batches and
    each pool sorted by length. Smaller pools give more random batches and more padding
    (:class:`spanqa.batching.LengthGroupedSampler`). ``seed`` makes a run reproducible: it also seeds the
    initialisation of a new QA head and the held-out split.

    ``tuning_size`` questions of the training data (whole contexts, at most a fifth of the questions) are
    held out when no ``tuning_data`` is given, and the decoding is chosen on them after training
    (:meth:`QAFineTuner.tune_decoding`); 0 (the default) holds out nothing. It is off by default because
    held-out questions are not trained on: on the demo recipe, holding out 300 of 2,000 questions cost
    11 F1 on XQuAD-en (32.55 against 43.45 with the same fixed decoding), far more than tuning gained.
    Fewer than :data:`MIN_TUNING_QUESTIONS` are not enough to choose on, and then nothing is held out.
    """

    output_dir: str = "spanqa-model"
    num_train_epochs: float = attrs.field(default=2.0, validator=_positive)
    learning_rate: float = attrs.field(default=1e-4, validator=_positive)
    per_device_train_batch_size: int = attrs.field(default=16, validator=_positive)
    per_device_eval_batch_size: int = attrs.field(default=32, validator=_positive)
    warmup_ratio: float = attrs.field(default=0.1, validator=_fraction)
    weight_decay: float = attrs.field(default=0.01, validator=attrs.validators.ge(0.0))
    seed: int = 42
    max_length: int = attrs.field(default=DEFAULT_MAX_LENGTH, validator=_positive)
    stride: int = attrs.field(default=DEFAULT_STRIDE, validator=attrs.validators.ge(0))
    max_question_tokens: int = attrs.field(default=DEFAULT_MAX_QUESTION_TOKENS, validator=_positive)
    group_by_length: bool = True
    length_group_batches: int = attrs.field(default=8, validator=_positive)
    precision: Precision = attrs.field(
        default="auto", validator=attrs.validators.in_(("auto", "fp32", "fp16", "bf16"))
    )
    logging_steps: int = attrs.field(default=20, validator=_positive)
    save_steps: int = attrs.field(default=500, validator=_positive)
    save_total_limit: int | None = 2
    progress: bool = True
    tuning_size: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    trainer_options: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)

    def resolved_precision(self) -> Literal["fp32", "fp16", "bf16"]:
        """``auto`` means bf16 on a GPU that supports it, fp16 on other GPUs and fp32 on the CPU."""
        if self.precision != "auto":
            return self.precision
        if torch.cuda.is_available():
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"


@attrs.frozen
class EvaluationResult:
    """Metrics (official SQuAD key names), the predictions behind them and the tuned null threshold."""

    metrics: dict[str, float]
    predictions: dict[str, Prediction]
    decoding: DecodingConfig
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "decoding": self.decoding.to_dict(),
            "seconds": self.seconds,
        }


def _check_writable(directory: Path) -> None:
    """Fail before hours of training, not after, when the output directory cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".spanqa-write-test-"):
            pass
    except OSError as error:
        raise ConfigError(f"output directory {str(directory)!r} is not writable: {error}") from error


class QAFineTuner:
    """Fine-tune, evaluate, predict with and save an extractive question-answering model.

    Example::

        tuner = QAFineTuner("path/to/encoder", train_data="train.json", eval_data="dev.json")
        tuner.train()
        result = tuner.evaluate()        # EM/F1 (+ HasAns/NoAns and a tuned null threshold on SQuAD 2.0)
        tuner.save("my-reader")          # model + tokenizer + decoding config
        QAFineTuner.load("my-reader").predict([{"id": "q1", "question": "...", "context": "..."}])

    ``model`` is a model name or directory (any ``AutoModelForQuestionAnswering``; a fast tokenizer is
    required). Data is a SQuAD JSON / JSONL path, a list of records or a ``datasets.Dataset``; answers
    whose offsets are wrong are repaired (``data_policy="repair"``) and reported, never dropped silently.

    After training, the decoding is chosen on ``tuning_data`` (or on ``config.tuning_size`` questions
    held out of ``train_data`` by whole contexts, which are then not trained on; off by default): every
    decoding of ``decoding_grid`` (answer-length caps, ``same-text`` and ``null-relative`` on and off, and
    the null threshold on SQuAD 2.0 data) is scored there and the best is kept and saved with the model
    (:meth:`tune_decoding`). ``eval_data`` is only reported, never tuned on. ``decoding_grid=None`` keeps
    ``decoding`` as given.
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        train_data: DataSource | LoadedRecords | None = None,
        eval_data: DataSource | LoadedRecords | None = None,
        config: TrainingConfig | None = None,
        decoding: DecodingConfig | None = None,
        data_policy: Policy = "repair",
        callbacks: Sequence[Any] = (),
        tuning_data: DataSource | LoadedRecords | None = None,
        decoding_grid: DecodingGrid | None = DecodingGrid(),  # noqa: B008 - frozen, so safe to share
    ) -> None:
        self.config = config or TrainingConfig()
        #: ``transformers.TrainerCallback`` instances handed to the Trainer (early stopping, logging...).
        self.callbacks: list[Any] = list(callbacks)
        self.model_path = str(model)
        self.tokenizer = load_tokenizer(model)
        # A new QA head is initialised from torch's global RNG: seed it, so `seed` makes the whole run
        # reproducible (the Trainer seeds only dropout and data order), without touching the caller's RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            self.model, untrained = load_qa_model(model)
        if untrained is not None:
            warnings.warn(f"{untrained}: fine-tune it before evaluating", UntrainedHeadWarning, stacklevel=2)
        #: Why the model cannot answer yet (its QA head was never trained); cleared by :meth:`train`.
        self._untrained_head = untrained
        self.aligner = Aligner(
            self.tokenizer,
            max_length=self.config.max_length,
            stride=self.config.stride,
            max_question_tokens=self.config.max_question_tokens,
        )
        saved_decoding = Path(model) / DECODING_CONFIG_FILE
        saved_decoding_config = None
        if decoding is None and saved_decoding.is_file():
            decoding = saved_decoding_config = DecodingConfig.load(saved_decoding)
        self.decoding = decoding
        self.data_policy = data_policy
        self.train_data = (
            None if train_data is None else load_questions(train_data, policy=data_policy, what="training")
        )
        self.eval_data = (
            None if eval_data is None else load_questions(eval_data, policy=data_policy, what="evaluation")
        )
        self.decoding_grid = decoding_grid
        #: Where the decoding was chosen (a :class:`DecodingChoice`'s ``source``); ``None``: not chosen.
        #: Read back from a saved model, so that evaluating it never re-tunes on the data it reports.
        self.tuned_on: str | None = None
        if saved_decoding_config is not None and decoding is saved_decoding_config:
            self.tuned_on = _saved_tuning_source(Path(model))
        #: The grid's scores and the choice, after :meth:`tune_decoding` ran in this process.
        self.decoding_choice: DecodingChoice | None = None
        self.tuning_data = (
            None if tuning_data is None else load_questions(tuning_data, policy=data_policy, what="tuning")
        )
        #: Why no decoding will be chosen after training (``None``: it will be).
        self.tuning_skipped: str | None = None
        self._tuning_held_out = False
        if decoding_grid is None:
            self.tuning_skipped = "decoding_grid is None"
        elif self.tuning_data is None and self.train_data is not None:
            self.train_data, self.tuning_data, self.tuning_skipped = _hold_out(self.train_data, self.config)
            self._tuning_held_out = self.tuning_data is not None
        elif self.tuning_data is None:
            self.tuning_skipped = "no tuning_data and no train_data to hold questions out of"
        self.train_features: TrainFeatures | None = None
        self.trainer: Trainer | None = None

    @classmethod
    def load(cls, directory: str | os.PathLike[str], **kwargs: Any) -> QAFineTuner:
        """Reload a model saved by :meth:`save` (its decoding config and null threshold included)."""
        return cls(directory, **kwargs)

    # ------------------------------------------------------------------ training

    def _build_trainer(self, train_features: TrainFeatures) -> Trainer:
        config = self.config
        precision = config.resolved_precision()
        options: dict[str, Any] = {
            "output_dir": config.output_dir,
            "num_train_epochs": config.num_train_epochs,
            "learning_rate": config.learning_rate,
            "per_device_train_batch_size": config.per_device_train_batch_size,
            "per_device_eval_batch_size": config.per_device_eval_batch_size,
            "weight_decay": config.weight_decay,
            "seed": config.seed,
            "logging_steps": config.logging_steps,
            "save_steps": config.save_steps,
            "save_total_limit": config.save_total_limit,
            "bf16": precision == "bf16",
            "fp16": precision == "fp16",
            "report_to": "none",
            "disable_tqdm": not config.progress,
            "remove_unused_columns": False,
            "dataloader_pin_memory": torch.cuda.is_available(),
            # Without an accelerator, say so: under torchrun this makes the Trainer use DDP over gloo
            # (otherwise every CPU process trains on all the data).
            "use_cpu": not (torch.cuda.is_available() or torch.backends.mps.is_available()),
        }
        options.update(config.trainer_options)
        # Length grouping is spanqa's own sampler (SpanQATrainer); the Trainer's stays at its random default.
        args = training_arguments(warmup_ratio=config.warmup_ratio, **options)
        collator = QADataCollator(
            pad_token_id=int(self.tokenizer.pad_token_id or 0),
            padding_side=self.aligner.padding_side,
        )
        sampler = None
        if config.group_by_length:
            sampler = LengthGroupedSampler(
                train_features.lengths.tolist(),
                batch_size=args.train_batch_size * args.gradient_accumulation_steps,
                group_batches=config.length_group_batches,
                seed=args.data_seed if args.data_seed is not None else args.seed,
            )
        trainer = SpanQATrainer(
            model=self.model,
            args=args,
            train_dataset=train_features.to_dataset(),
            data_collator=collator,
            processing_class=self.tokenizer,
            callbacks=[*self.callbacks, _FiniteWeightsGuard()],
            length_sampler=sampler,
        )
        if trainer.pop_callback(PrinterCallback) is not None:  # progress off: logs go to stderr, not stdout
            trainer.add_callback(_StderrLogPrinter())
        return trainer

    def train(self, *, resume_from_checkpoint: str | bool | None = None) -> dict[str, float]:
        """Fine-tune on ``train_data``; returns the Trainer's training metrics (loss, runtime, ...).

        ``resume_from_checkpoint`` is a checkpoint directory or ``True``: the newest *complete* checkpoint
        in ``output_dir`` (one that a crash interrupted while it was written is skipped with a warning,
        where ``Trainer`` would take it and fail on its truncated files). Raises :class:`ConfigError` when
        there is no complete checkpoint to resume from, :class:`DataError` when no answer survives
        alignment (the error carries the alignment report) and :class:`TrainingDivergedError` when the
        loss becomes NaN.
        """
        if self.train_data is None:
            raise ConfigError("QAFineTuner.train() needs train_data")
        _check_writable(Path(self.config.output_dir))
        features = self.aligner.train_features(self.train_data.records, data_report=self.train_data.report)
        report = features.report
        answerable = report.answers - report.outside_window
        if len(features) == 0 or (report.answers > 0 and answerable <= 0 and report.unanswerable == 0):
            raise AlignmentFailedError(
                "no training answer survives alignment (all lost to truncation or failed); "
                f"alignment report:\n{report}",
                report,
            )
        checkpoint = _resolve_checkpoint(resume_from_checkpoint, self.config.output_dir)
        self.train_features = features
        self.trainer = self._build_trainer(features)
        output = self.trainer.train(resume_from_checkpoint=checkpoint)
        self._untrained_head = None
        if self.tuning_data is not None and self.decoding_grid is not None:
            self.tune_decoding()
        return dict(output.metrics)

    def _require_trained_head(self) -> None:
        """Evaluating or predicting with a head that was never trained scores random spans: refuse it, in
        the words :meth:`spanqa.Reader.from_pretrained` uses."""
        if self._untrained_head is not None:
            raise ConfigError(
                f"{self._untrained_head}; fine-tune it first (spanqa train, or QAFineTuner.train)"
            )

    def tune_decoding(
        self,
        data: DataSource | LoadedRecords | None = None,
        *,
        grid: DecodingGrid | None = None,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> DecodingChoice:
        """Choose the decoding that scores best (F1) on ``data`` (default: ``tuning_data``) and use it.

        Every decoding of ``grid`` (default: ``decoding_grid``, else :class:`DecodingGrid`'s defaults),
        built from the current decoding, reads the logits of one forward pass; on SQuAD 2.0 data each gets
        its best null threshold first. The choice becomes this tuner's decoding (so :meth:`save` keeps it,
        with the grid's scores) and is returned; ``choice.format()`` shows the grid. In multi-process runs
        every process tunes on the same data with the same weights, so all reach the same choice.
        """
        source = data if data is not None else self.tuning_data
        if source is None:
            raise ConfigError(
                "tune_decoding() needs data: pass it, or give QAFineTuner tuning_data (or training data to "
                "hold questions out of)"
            )
        self._require_trained_head()
        loaded = load_questions(source, policy=self.data_policy, what="tuning")
        configs = (grid or self.decoding_grid or DecodingGrid()).configs(self._decoder(loaded.records).config)
        each = predict_records_each(
            self.model,
            self.aligner,
            [SpanDecoder(config) for config in configs],
            loaded.records,
            batch_size=batch_size or self.config.per_device_eval_batch_size,
            autocast_dtype=self._autocast_dtype(),
            progress=progress if progress is not None else self.config.progress,
            description="Tuning the decoding",
        )
        held_out = data is None and self._tuning_held_out
        label = f"held-out training questions of {loaded.report.source}" if held_out else loaded.report.source
        choice = choose_decoding(list(zip(configs, each, strict=True)), loaded.records, source=label)
        self.decoding, self.decoding_choice, self.tuned_on = choice.decoding, choice, choice.source
        return choice

    # ---------------------------------------------------------------- evaluation

    def _decoder(self, records: Sequence[QARecord]) -> SpanDecoder:
        if self.decoding is not None:
            return SpanDecoder(self.decoding)
        has_null = any(record["is_impossible"] for record in records)
        return SpanDecoder(DecodingConfig.squad_v2() if has_null else DecodingConfig.squad_v1())

    def predict(
        self, data: DataSource | LoadedRecords, *, batch_size: int | None = None, progress: bool | None = None
    ) -> dict[str, Prediction]:
        """Answer every question of ``data`` (answers are optional in prediction data)."""
        self._require_trained_head()
        loaded = load_questions(data, policy=self.data_policy, what="prediction")
        return self._predict_records(loaded.records, self._decoder(loaded.records), batch_size, progress)

    def _predict_records(
        self,
        records: Sequence[QARecord],
        decoder: SpanDecoder,
        batch_size: int | None,
        progress: bool | None,
    ) -> dict[str, Prediction]:
        return predict_records(
            self.model,
            self.aligner,
            decoder,
            records,
            batch_size=batch_size or self.config.per_device_eval_batch_size,
            autocast_dtype=self._autocast_dtype(),
            progress=progress if progress is not None else self.config.progress,
            description="Evaluating",
        )

    def _autocast_dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.config.resolved_precision())

    def evaluate(
        self,
        data: DataSource | LoadedRecords | None = None,
        *,
        tune_threshold: bool | None = None,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> EvaluationResult:
        """SQuAD EM/F1 on ``data`` (default: ``eval_data``), decoded with the configured strategies.

        On data with unanswerable questions the v2.0 breakdown is reported. When the decoding was not
        chosen on tuning data (:attr:`tuned_on` is ``None``) or ``tune_threshold=True``, the null threshold
        is tuned for best F1 in the same pass on ``data`` and becomes this tuner's decoding config (so
        :meth:`save` keeps it); a decoding chosen on tuning data keeps its threshold, so the scores
        reported were not tuned on the data they are reported on. In multi-process runs (torchrun, accelerate)
        rank 0 evaluates and broadcasts metrics and decoding config, so metrics are computed once; the
        per-question ``predictions`` are only on rank 0 (empty elsewhere).
        """
        source = data if data is not None else self.eval_data
        if source is None:
            raise ConfigError("QAFineTuner.evaluate() needs eval_data")
        self._require_trained_head()
        loaded = load_questions(source, policy=self.data_policy, what="evaluation")
        records = loaded.records
        if not _distributed():
            result = self._evaluate_records(records, tune_threshold, batch_size, progress)
        else:  # rank 0 evaluates; the others receive metrics and decoding config (plain, picklable data)
            shared: list[Any] = [None]
            if torch.distributed.get_rank() == 0:
                result = self._evaluate_records(records, tune_threshold, batch_size, progress)
                shared[0] = (result.metrics, result.decoding.to_dict(), result.seconds)
            torch.distributed.broadcast_object_list(shared, src=0)
            if torch.distributed.get_rank() != 0:
                metrics, decoding, seconds = shared[0]
                result = EvaluationResult(metrics, {}, DecodingConfig.from_dict(decoding), seconds)
        self.decoding = result.decoding
        return result

    def _evaluate_records(
        self,
        records: Sequence[QARecord],
        tune_threshold: bool | None,
        batch_size: int | None,
        progress: bool | None,
    ) -> EvaluationResult:
        started = time.perf_counter()
        decoder = self._decoder(records)
        predictions = self._predict_records(records, decoder, batch_size, progress)
        has_null = any(record["is_impossible"] for record in records)
        decoding = decoder.config
        na_probs = None
        can_tune = decoding.null_threshold is not None
        if tune_threshold and not can_tune:
            raise ConfigError(
                "tune_threshold=True needs a decoding config with the 'null-answer' strategy "
                "(DecodingConfig.squad_v2())"
            )
        tuned = None
        if tune_threshold or (tune_threshold is None and has_null and can_tune and self.tuned_on is None):
            tuned = tune_null_threshold(predictions, records)
            decoding = tuned.apply(decoding)
            predictions = SpanDecoder(decoding).apply_null_threshold(predictions)
            na_probs = {key: float(p.null_score_diff or 0.0) for key, p in predictions.items()}
        texts = {key: prediction.text for key, prediction in predictions.items()}
        metrics = squad_evaluate(list(records), texts, na_probs)
        if tuned is not None:
            # The official search's thresholds assume probabilities in [0, 1]; report the thresholds that
            # reproduce best_exact / best_f1 with spanqa's rule (the one saved), see spanqa.decode.threshold.
            metrics.update(
                best_exact=tuned.best_exact,
                best_exact_thresh=tuned.best_exact_thresh,
                best_f1=tuned.best_f1,
                best_f1_thresh=tuned.best_f1_thresh,
            )
        return EvaluationResult(
            metrics=dict(metrics),
            predictions=predictions,
            decoding=decoding,
            seconds=time.perf_counter() - started,
        )

    # -------------------------------------------------------------------- saving

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write model (safetensors), tokenizer and decoding config to ``directory``, atomically.

        Everything is written to a temporary sibling directory first and moved into place at the end, so an
        interrupted save never leaves a directory that looks like a complete model.
        """
        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            with quiet_transformers():
                self.model.save_pretrained(staging)
                self.tokenizer.save_pretrained(staging)
            decoding = self.decoding or DecodingConfig.squad_v1()
            decoding.save(staging / DECODING_CONFIG_FILE)
            if self.decoding_choice is not None and self.decoding_choice.decoding is decoding:
                self.decoding_choice.save(staging / DECODING_TUNING_FILE)
            if target.exists():
                backup = target.with_name(f".{target.name}.old-{os.getpid()}")
                target.rename(backup)
                staging.rename(target)
                shutil.rmtree(backup, ignore_errors=True)
            else:
                staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target


def _hold_out(
    train: LoadedRecords, config: TrainingConfig
) -> tuple[LoadedRecords, LoadedRecords | None, str | None]:
    """``(kept training data, held-out tuning data or None, why nothing was held out or None)``."""
    questions = len(train.records)
    size = min(config.tuning_size, questions // 5)
    if config.tuning_size == 0:
        return train, None, "tuning_size is 0"
    if size < MIN_TUNING_QUESTIONS:
        return (
            train,
            None,
            f"{questions} training questions are too few to hold out {MIN_TUNING_QUESTIONS} (at most a "
            "fifth) for choosing the decoding; give tuning data",
        )
    kept, held_out = split_by_context(train.records, size, seed=config.seed)
    return (
        LoadedRecords(records=kept, report=train.report),
        LoadedRecords(records=held_out, report=train.report),
        None,
    )


def _saved_tuning_source(directory: Path) -> str | None:
    """The ``source`` of the tuning record saved next to a model (``None``: none, or unreadable)."""
    try:
        source = json.loads((directory / DECODING_TUNING_FILE).read_text(encoding="utf-8"))["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(source)


def _distributed() -> bool:
    return bool(torch.distributed.is_available() and torch.distributed.is_initialized())


class IncompleteCheckpointWarning(UserWarning):
    """A checkpoint directory was left incomplete (the run was killed while writing it) and is skipped."""


#: Written last by ``Trainer._save_checkpoint``: a checkpoint with a readable one was written completely.
_TRAINER_STATE = "trainer_state.json"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def _checkpoint_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete checkpoint, or ``None`` when it is."""
    if not path.is_dir():
        return "no such directory"
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        return "no model weights"
    try:
        json.loads((path / _TRAINER_STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no {_TRAINER_STATE} (interrupted while it was written)"
    except (OSError, ValueError) as error:
        return f"unreadable {_TRAINER_STATE} ({error})"
    return None


def _checkpoints(output_dir: str) -> list[Path]:
    """``checkpoint-<step>`` directories of ``output_dir``, by step."""
    found = [p for p in Path(output_dir).glob("checkpoint-*") if p.name.rsplit("-", 1)[-1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.rsplit("-", 1)[-1]))


def _resolve_checkpoint(resume: str | bool | None, output_dir: str) -> str | bool | None:
    """The checkpoint ``Trainer.train`` should resume from: ``True`` becomes the newest complete one.

    ``Trainer`` takes the highest-numbered ``checkpoint-*`` directory even when a SIGKILL or power loss
    cut it short, and then fails on (or silently loads) truncated files; a checkpoint is complete when its
    weights exist and ``trainer_state.json``, which ``Trainer`` writes last, parses.
    """
    if resume is None or resume is False:
        return resume
    if resume is True:
        for path in reversed(_checkpoints(output_dir)):
            problem = _checkpoint_problem(path)
            if problem is None:
                return str(path)
            warnings.warn(f"skipping incomplete checkpoint {path}: {problem}", IncompleteCheckpointWarning, 3)
        raise ConfigError(
            f"resume_from_checkpoint=True but output directory {output_dir!r} holds no complete checkpoint"
        )
    problem = _checkpoint_problem(Path(resume))
    if problem is not None:
        raise ConfigError(f"resume_from_checkpoint {str(resume)!r} is not a complete checkpoint: {problem}")
    return str(resume)


def _last_checkpoint(output_dir: str) -> str:
    checkpoints = _checkpoints(output_dir)
    return str(checkpoints[-1]) if checkpoints else "none written yet"


class SpanQATrainer(Trainer):
    """``Trainer`` that stops with a clear error when the loss stops being finite, and takes spanqa's
    length-grouped sampler.

    It overrides only ``training_step`` and ``_get_train_sampler``. The loss check runs before the
    optimizer step, so the weights (and every checkpoint already written) are still the last good ones
    when the error is raised.
    """

    def __init__(self, *args: Any, length_sampler: LengthGroupedSampler | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.length_sampler = length_sampler

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        if self.length_sampler is not None and (train_dataset is None or train_dataset is self.train_dataset):
            return self.length_sampler
        return super()._get_train_sampler(train_dataset)

    def training_step(self, model: Any, inputs: Any, num_items_in_batch: Any = None) -> torch.Tensor:
        loss: torch.Tensor = super().training_step(model, inputs, num_items_in_batch)
        if not math.isfinite(float(loss.detach())):
            raise TrainingDivergedError(
                f"training loss became {float(loss)} at step {self.state.global_step + 1}; stopped before "
                f"the optimizer step. Last good checkpoint: {_last_checkpoint(self.args.output_dir or '')}. "
                "Try a lower learning rate or fp32."
            )
        return loss


class _StderrLogPrinter(TrainerCallback):
    """Prints the Trainer's log lines to stderr, so stdout stays clean for ``--json`` output."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if logs and state.is_local_process_zero:
            print(json.dumps({"step": state.global_step, **logs}), file=sys.stderr, flush=True)


class _FiniteWeightsGuard(TrainerCallback):
    """Refuses to write a checkpoint of non-finite weights (it runs after every other step-end callback,
    right before the Trainer saves), so a diverged run never leaves a corrupted checkpoint behind."""

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not control.should_save or model is None:
            return
        with torch.no_grad():
            bad = [name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())]
        if bad:
            raise TrainingDivergedError(
                f"model weights became non-finite at step {state.global_step} ({', '.join(bad[:3])}"
                f"{', ...' if len(bad) > 3 else ''}); checkpoint-{state.global_step} was not written. "
                f"Last good checkpoint: {_last_checkpoint(args.output_dir)}."
            )
