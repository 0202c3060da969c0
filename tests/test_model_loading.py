"""Model directories that cannot give real answers are refused by every command, in the same words.

Two silent failures found as a new user: a model directory without tokenizer files (transformers 5 then
builds a five-word placeholder vocabulary that maps every word to ``[UNK]``) answered, aligned "100% exact"
and scored EM 0.00, all with exit status 0; and ``spanqa evaluate`` on an encoder without a trained QA head
printed a raw warning and scored it, while ``spanqa predict`` refused it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model_factory import save_tiny_qa_model
from spanqa import Aligner, QAFineTuner, Reader
from spanqa.cli import main
from spanqa.errors import ConfigError, TokenizerError
from spanqa.models import TOKENIZER_FILES, UntrainedHeadWarning

CONTEXT = "The Broncos beat the Panthers in Super Bowl 50, played in Santa Clara in February 2016."
DATA = {
    "version": "v1.1",
    "data": [
        {
            "title": "Super Bowl",
            "paragraphs": [
                {
                    "context": CONTEXT,
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Who won Super Bowl 50?",
                            "answers": [{"text": "The Broncos", "answer_start": 0}],
                        }
                    ],
                }
            ],
        }
    ],
}
SMALL = ["--max_seq_length", "64", "--doc_stride", "16", "--max_question_tokens", "16"]


@pytest.fixture()
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(DATA), encoding="utf-8")
    return path


@pytest.fixture()
def without_tokenizer(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> Path:
    """A trained-looking QA model saved with config.json and weights only."""
    full = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "full")
    bare = tmp_path / "weights-only"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(full / name, bare / name)
    return bare


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()  # what the fixtures printed
    status = main(argv)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["predict", "--question", "Who won?", "--context", CONTEXT],
        ["predict", "--data", "{data}"],
        ["evaluate", "--data", "{data}", "--no_progress"],
    ],
    ids=["predict-question", "predict-data", "evaluate"],
)
def test_a_model_directory_without_tokenizer_files_is_refused(
    command: list[str], without_tokenizer: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [part.replace("{data}", str(data_file)) for part in command]
    status, err = _run([argv[0], "--model", str(without_tokenizer), *argv[1:], *SMALL], capsys)
    assert status == 2, err
    assert "holds no tokenizer files" in err and str(without_tokenizer) in err
    assert all(name in err for name in TOKENIZER_FILES)


def test_align_report_refuses_a_directory_without_tokenizer_files(
    without_tokenizer: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["align-report", "--tokenizer", str(without_tokenizer), "--data", str(data_file)]
    status, err = _run(argv, capsys)
    assert status == 2, err
    assert "holds no tokenizer files" in err
    with pytest.raises(TokenizerError, match="holds no tokenizer files"):
        Aligner.from_pretrained(without_tokenizer)


def test_evaluate_refuses_an_untrained_head_as_predict_does(
    tokenizer_dirs: dict[str, Path], data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encoder = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "encoder", with_head=False)
    messages = []
    for argv in (
        ["evaluate", "--model", str(encoder), "--data", str(data_file), "--no_progress", *SMALL],
        ["predict", "--model", str(encoder), "--data", str(data_file), *SMALL],
    ):
        status, err = _run(argv, capsys)
        assert status == 2, err
        assert err.count("\n") == 1, f"one line, no raw warning: {err!r}"
        messages.append(err)
    assert all("has no trained question-answering head" in message for message in messages)

    with pytest.warns(UntrainedHeadWarning):
        tuner = QAFineTuner(encoder)
    for call in (lambda: tuner.evaluate(data_file), lambda: tuner.predict(data_file)):
        with pytest.raises(ConfigError, match="no trained question-answering head"):
            call()
    with pytest.raises(ConfigError, match="no trained question-answering head"):
        Reader.from_pretrained(encoder)


def test_a_tokenizer_that_maps_most_text_to_unknown_is_refused(data_dir: Path, minilm_dir: Path) -> None:
    """Past the file check (a tokenizer object handed to the Aligner): a placeholder vocabulary like the one
    transformers 5 builds from config.json alone (five special tokens) maps every word to [UNK]; aligning
    with it is refused. A real tokenizer on a language it hardly knows (English MiniLM on Thai) is only
    warned about."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    from spanqa.data import load_records

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    core = Tokenizer(models.WordPiece({name: i for i, name in enumerate(specials)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    placeholder = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    records = load_records(data_dir / "xquad.en.json").records[:20]
    for call in (Aligner(placeholder).eval_features, Aligner(placeholder).align_report):
        with pytest.raises(TokenizerError, match=r"maps \d+% of the context tokens to its unknown token"):
            call(records)

    from spanqa.align import UnknownTokenWarning

    minilm = AutoTokenizer.from_pretrained(str(minilm_dir))
    thai = load_records(data_dir / "xquad.th.json").records[:20]
    with pytest.warns(UnknownTokenWarning, match=r"maps \d+% of the context tokens"):
        Aligner(minilm).eval_features(thai)
