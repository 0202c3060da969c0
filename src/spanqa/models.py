"""Loading models and tokenizers for extractive QA, with errors and warnings a user can act on.

Shared by :class:`~spanqa.QAFineTuner` and :class:`~spanqa.Reader`: a slow tokenizer, a model type
without a question-answering head and a head that was never trained are reported in spanqa's words,
instead of a stack trace or a table printed by transformers.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from spanqa.errors import ConfigError, TokenizerError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

#: File, inside a saved model directory, that holds the decoding config (strategies, tuned threshold).
DECODING_CONFIG_FILE = "spanqa_decoding.json"
#: Saved next to it when the decoding was chosen on tuning data: the grid's scores, and on which data.
DECODING_TUNING_FILE = "spanqa_decoding_tuning.json"

#: Files that hold a tokenizer's vocabulary; a local tokenizer directory must have at least one of them
#: (or another SentencePiece ``*.model`` file). Without any, transformers 5 still builds a tokenizer from
#: ``config.json`` alone: a five-word vocabulary that maps every word to the unknown token, whose answers,
#: alignment report and scores are garbage with exit status 0.
TOKENIZER_FILES: tuple[str, ...] = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)


class UntrainedHeadWarning(UserWarning):
    """The model's question-answering head was newly initialised (it must be fine-tuned first)."""


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' own load report and weight-loading/saving progress bars while spanqa
    reports what matters; the previous settings are restored afterwards (no global change)."""
    from transformers.utils import logging as hf_logging

    logger = logging.getLogger("transformers")
    level = logger.level
    bars = hf_logging.is_progress_bar_enabled()
    logger.setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        logger.setLevel(level)
        if bars:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def _check_local(name_or_path: str | os.PathLike[str], what: str) -> None:
    """A path-like name that does not exist is a typo, not a hub id: say so instead of a hub error."""
    text = str(name_or_path)
    if (os.sep in text or text.startswith(".")) and not Path(text).exists():
        raise ConfigError(f"{what} directory {text!r} does not exist")


def check_config_file(name_or_path: str | os.PathLike[str], *, required: bool = True) -> None:
    """Validate a local model directory's ``config.json`` before transformers builds anything from it.

    transformers reports a config that is not a JSON object, or a field of the wrong type, with errors of
    its own (``TypeError``, ``StrictDataclassFieldValidationError``) that do not say which file is wrong;
    a file read from disk is checked here first, so the :class:`ConfigError` names it. ``required=False``
    accepts a directory without the file (a tokenizer saved on its own has none).
    """
    directory = Path(name_or_path)
    if not directory.is_dir():
        return  # a hub id: nothing local to check
    path = directory / "config.json"
    if not path.is_file():
        if not required:
            return
        raise ConfigError(f"model directory {str(directory)!r} has no config.json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the model configuration: {error}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(
            f"{path}: a model configuration must be a JSON object, got {type(document).__name__}"
        )
    model_type = document.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        raise ConfigError(f"{path}: model_type must be a string, got {model_type!r}")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def load_qa_model(name_or_path: str | os.PathLike[str]) -> tuple[PreTrainedModel, str | None]:
    """An ``AutoModelForQuestionAnswering`` from a name or directory, and why it cannot answer yet.

    The second value is ``None`` for a model with a trained QA head, else a sentence saying that the head's
    weights are not in the checkpoint (a bare encoder: right before fine-tuning, wrong before predicting).
    Raises :class:`ConfigError` for a model type without an extractive QA head, a malformed
    ``config.json`` and weights that cannot be read (truncated safetensors, a pickled ``.bin`` that
    torch's safe ``weights_only`` loader refuses), naming the directory. Remote code is never run
    (``trust_remote_code`` is left at transformers' default, off).
    """
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    _check_local(name_or_path, "model")
    check_config_file(name_or_path)
    try:
        config = AutoConfig.from_pretrained(name_or_path)
    except Exception as error:  # transformers' errors vary by version and field; all mean "bad config"
        raise ConfigError(
            f"cannot load a model configuration from {str(name_or_path)!r}: {_describe(error)}"
        ) from error
    try:
        with quiet_transformers():
            model, info = AutoModelForQuestionAnswering.from_pretrained(
                name_or_path, config=config, output_loading_info=True
            )
    except ValueError as error:
        raise ConfigError(
            f"{str(name_or_path)!r} ({type(config).__name__}) has no extractive question-answering head "
            f"in transformers (AutoModelForQuestionAnswering): {error}"
        ) from error
    except Exception as error:  # missing, truncated or refused (unsafe pickle) weight files
        raise ConfigError(
            f"cannot load the model weights from {str(name_or_path)!r}: {_describe(error)}"
        ) from error
    missing = [key for key in info.get("missing_keys", ()) if key.split(".")[0].startswith("qa")]
    untrained = None
    if missing:
        untrained = (
            f"{str(name_or_path)!r} has no trained question-answering head "
            f"({', '.join(sorted(missing))} newly initialised)"
        )
    return model, untrained


def load_trained_model(name_or_path: str | os.PathLike[str], purpose: str) -> PreTrainedModel:
    """:func:`load_qa_model` for answering questions: a model whose QA head was never trained is refused.

    Training starts from an untrained head on purpose; evaluating or predicting with one gives random
    answers, so ``spanqa predict``, ``spanqa evaluate`` and the :class:`~spanqa.Reader` all refuse it here,
    in the same words. ``purpose`` ends the message (for example ``"the Reader needs a fine-tuned model"``).
    """
    model, untrained = load_qa_model(name_or_path)
    if untrained is not None:
        raise ConfigError(f"{untrained}; {purpose}")
    return model


def check_tokenizer_files(name_or_path: str | os.PathLike[str]) -> None:
    """Refuse a local directory that holds no tokenizer vocabulary (see :data:`TOKENIZER_FILES`)."""
    directory = Path(name_or_path)
    if not directory.is_dir():
        return  # a hub id: nothing local to check
    if any((directory / name).is_file() for name in TOKENIZER_FILES) or any(directory.glob("*.model")):
        return
    raise TokenizerError(
        f"{str(directory)!r} holds no tokenizer files (none of {', '.join(TOKENIZER_FILES)}): save the "
        "tokenizer beside the model (tokenizer.save_pretrained(DIR)); without them transformers builds a "
        "placeholder vocabulary that maps every word to the unknown token"
    )


def load_tokenizer(name_or_path: str | os.PathLike[str]) -> PreTrainedTokenizerBase:
    """The model's tokenizer, which must be a fast one (character offsets come only from those).

    The one loader of tokenizers in spanqa (the CLI, :class:`~spanqa.Reader`, :class:`~spanqa.QAFineTuner`
    and :meth:`spanqa.Aligner.from_pretrained` use it), so every path refuses the same bad directories.
    """
    from transformers import AutoTokenizer

    _check_local(name_or_path, "model")
    try:
        check_config_file(name_or_path, required=False)
    except ConfigError as error:
        raise TokenizerError(f"cannot load a tokenizer: {error}") from error
    check_tokenizer_files(name_or_path)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as error:  # transformers' and tokenizers' errors vary; all mean "unusable tokenizer"
        raise TokenizerError(
            f"cannot load a tokenizer from {str(name_or_path)!r}: {_describe(error)}"
        ) from error
    if not getattr(tokenizer, "is_fast", False):
        raise TokenizerError(
            f"the tokenizer of {str(name_or_path)!r} ({type(tokenizer).__name__}) is not a fast tokenizer: "
            "spanqa needs the character offsets only fast (Rust) tokenizers provide"
        )
    return tokenizer
