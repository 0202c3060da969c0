"""spanqa: extractive question answering on top of Hugging Face transformers.

The public API is small:

* data: :func:`load_records` (SQuAD / JSON lines / ``datasets.Dataset`` -> validated flat records with a
  report of everything repaired or dropped);
* :class:`Aligner`: records -> model windows with labels that are decoded back and proven
  (:class:`AlignmentReport`);
* :class:`SpanDecoder` and :class:`DecodingConfig`: exact span decoding with pluggable strategies
  (:data:`hookimpl` for plugin authors, :func:`make_plugin_manager`);
* :class:`QAFineTuner`: fine-tune, evaluate (SQuAD EM/F1), predict and save through ``transformers.Trainer``;
* :class:`Reader`: question answering over contexts and long documents with a fine-tuned model.

Heavy modules (transformers, torch) load on first use of the class that needs them, so ``import spanqa``
stays cheap and the command line starts fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from spanqa.errors import ConfigError, DataError, PluginError, SpanQAError, TokenizerError

if TYPE_CHECKING:
    from spanqa.align import Aligner
    from spanqa.alignment_report import AlignmentReport
    from spanqa.data.readers import load_records
    from spanqa.data.schema import DataReport, LoadedRecords, QARecord
    from spanqa.data.writers import write_squad
    from spanqa.decode.config import DecodingConfig
    from spanqa.decode.engine import DecodeStream, SpanDecoder
    from spanqa.decode.predictions import Answer, Prediction
    from spanqa.decode.threshold import NullThreshold, tune_null_threshold
    from spanqa.decode.tuning import DecodingChoice, DecodingGrid
    from spanqa.features import EvalFeatures, TrainFeatures
    from spanqa.finetune import EvaluationResult, QAFineTuner, TrainingConfig, TrainingDivergedError
    from spanqa.hookspecs import hookimpl
    from spanqa.plugins import make_plugin_manager, register_plugin
    from spanqa.reader import Reader, ReaderAnswer

try:
    __version__ = version("spanqa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

#: public name -> module that defines it (imported on first access, PEP 562).
_LAZY: dict[str, str] = {
    "Aligner": "spanqa.align",
    "AlignmentReport": "spanqa.alignment_report",
    "TrainFeatures": "spanqa.features",
    "DataReport": "spanqa.data.schema",
    "LoadedRecords": "spanqa.data.schema",
    "QARecord": "spanqa.data.schema",
    "load_records": "spanqa.data.readers",
    "write_squad": "spanqa.data.writers",
    "Answer": "spanqa.decode.predictions",
    "DecodeStream": "spanqa.decode.engine",
    "DecodingConfig": "spanqa.decode.config",
    "NullThreshold": "spanqa.decode.threshold",
    "Prediction": "spanqa.decode.predictions",
    "SpanDecoder": "spanqa.decode.engine",
    "tune_null_threshold": "spanqa.decode.threshold",
    "DecodingChoice": "spanqa.decode.tuning",
    "DecodingGrid": "spanqa.decode.tuning",
    "EvalFeatures": "spanqa.features",
    "EvaluationResult": "spanqa.finetune",
    "QAFineTuner": "spanqa.finetune",
    "TrainingConfig": "spanqa.finetune",
    "TrainingDivergedError": "spanqa.finetune",
    "hookimpl": "spanqa.hookspecs",
    "make_plugin_manager": "spanqa.plugins",
    "register_plugin": "spanqa.plugins",
    "Reader": "spanqa.reader",
    "ReaderAnswer": "spanqa.reader",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spanqa' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Aligner",
    "AlignmentReport",
    "Answer",
    "ConfigError",
    "DataError",
    "DataReport",
    "DecodeStream",
    "DecodingChoice",
    "DecodingConfig",
    "DecodingGrid",
    "EvalFeatures",
    "EvaluationResult",
    "LoadedRecords",
    "NullThreshold",
    "PluginError",
    "Prediction",
    "QAFineTuner",
    "QARecord",
    "Reader",
    "ReaderAnswer",
    "SpanDecoder",
    "SpanQAError",
    "TokenizerError",
    "TrainFeatures",
    "TrainingConfig",
    "TrainingDivergedError",
    "__version__",
    "hookimpl",
    "load_records",
    "make_plugin_manager",
    "register_plugin",
    "tune_null_threshold",
    "write_squad",
]
