"""The corpus cases that load, through the Aligner, the decoder, the Reader and ``spanqa predict``.

Every case runs with every tokenizer family (WordPiece, byte-level BPE, Unigram, XLNet-style context-first
with left padding): labels are proven independently (``alignment_reference.check_labels``), decoded spans are
always ``context[start:end]``, and hostile strings the data layer would reject are rejected by the Aligner
and the Reader too, with a :class:`~spanqa.DataError` naming the record or argument. Hostile *logits*
(NaN, infinities, wrong shapes) are covered case by case in :mod:`test_decode` and
:mod:`test_decode_exact`; here the decoder runs on the corpus's real windows.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alignment_reference import check_labels, is_padding
from model_factory import save_tiny_qa_model
from spanqa import cli
from spanqa.align import Aligner
from spanqa.data import LoadedRecords, load_records
from spanqa.decode import DecodingConfig, SpanDecoder
from spanqa.errors import DataError
from spanqa.models import UntrainedHeadWarning
from spanqa.reader import Reader

from .corpus import LOADING, SMALL_LOADING, Case, case_named

WINDOW = {"max_length": 48, "stride": 12, "max_question_tokens": 12}


def _id(case: Case) -> str:
    return case.name


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedRecords]:
    """Every loading case, read once through ``load_records``."""
    directory = tmp_path_factory.mktemp("corpus")
    return {case.name: load_records(case.write(directory)) for case in LOADING}


@pytest.mark.parametrize("case", SMALL_LOADING, ids=_id)
def test_aligner_labels_are_proven_for_every_family(
    case: Case, loaded: dict[str, LoadedRecords], tokenizer_family: Any
) -> None:
    records = loaded[case.name].records
    aligner = Aligner(tokenizer_family, **WINDOW)
    train = aligner.train_features(loaded[case.name])
    evaluation = aligner.eval_features(records)
    check_labels(aligner, records, train, evaluation)
    report = train.report
    assert report.failed == 0, report
    assert report.exact + report.covered + report.outside_window == report.answers
    if case.name == "question-longer-than-max-length":
        assert report.truncated_question_ids == (case.name,)
    for w in range(len(evaluation)):
        offsets = evaluation.offsets[w, : evaluation.lengths[w]]
        inside = offsets[offsets[:, 0] >= 0]
        context = records[int(evaluation.example_index[w])]["context"]
        assert (
            (inside[:, 0] <= inside[:, 1]).all()
            and (inside[:, 0] >= 0).all()
            and (inside[:, 1] <= len(context)).all()
        )


def test_a_million_character_context_is_windowed_and_its_last_word_labelled(
    loaded: dict[str, LoadedRecords], family_tokenizers: dict[str, Any]
) -> None:
    """The Reader's own million-character test is ``test_reader.test_a_million_character_context``."""
    case = case_named("context-million")
    [record] = loaded[case.name].records
    assert len(record["context"]) > 1_000_000
    aligner = Aligner(family_tokenizers["bytelevel-bpe"], max_length=384, stride=128, progress=False)
    train = aligner.train_features(loaded[case.name])
    assert train.report.exact == 1 and train.report.outside_window == 0
    assert len(train) > 1000
    labelled = np.flatnonzero(train.start_positions != train.cls_index)
    assert labelled.size >= 1, "the window holding the last word is labelled"


@pytest.mark.parametrize("case", SMALL_LOADING, ids=_id)
def test_decoder_spans_are_slices_of_the_context(
    case: Case, loaded: dict[str, LoadedRecords], tokenizer_family: Any
) -> None:
    records = loaded[case.name].records
    features = Aligner(tokenizer_family, **WINDOW).eval_features(records)
    rng = np.random.default_rng(0)
    shape = (len(features), int(features.lengths.max()))
    for config in (DecodingConfig.squad_v1(n_best_size=5), DecodingConfig.squad_v2()):
        start, end = rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)
        predictions = SpanDecoder(config).decode(start, end, features)
        assert set(predictions) == {record["id"] for record in records}
        for record in records:
            prediction = predictions[record["id"]]
            for answer in prediction.n_best:
                assert answer.start is not None and answer.end is not None
                assert record["context"][answer.start : answer.end] == answer.text


#: Cases whose windows hold whitespace-only tokens (byte-level BPE's lone ``"Ġ"`` before an emoji or an
#: exotic space, SentencePiece's lone ``"▁"``) in at least one family. Such a token carries the empty span
#: at its end, so ``EvalFeatures.context_mask`` lets it lie inside an answer but never start or end one.
_WHITESPACE_TOKEN_CASES = ("emoji", "non-breaking-space", "control-characters", "right-to-left-arabic")
#: Cases with invisible format characters (category Cf) next to or inside answers.
_FORMAT_CHARACTER_CASES = (
    "answer-zero-width-space-edge",
    "answer-format-characters-edges",
    "answer-zero-width-joiner-end",
    "zero-width-space-after-answer",
    "zero-width-space",
    "bidi-override",
)


@pytest.mark.parametrize("case_name", _WHITESPACE_TOKEN_CASES + _FORMAT_CHARACTER_CASES)
def test_decoded_answers_are_never_empty_or_padded(
    case_name: str, loaded: dict[str, LoadedRecords], family_tokenizers: dict[str, Any]
) -> None:
    bad: list[tuple[str, str]] = []
    for family, tokenizer in family_tokenizers.items():
        records = loaded[case_name].records
        features = Aligner(tokenizer, **WINDOW).eval_features(records)
        rng = np.random.default_rng(0)
        shape = (len(features), int(features.lengths.max()))
        start, end = rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)
        predictions = SpanDecoder(DecodingConfig.squad_v1(n_best_size=20)).decode(start, end, features)
        bad += [
            (family, answer.text)
            for prediction in predictions.values()
            for answer in prediction.n_best
            if not answer.text or is_padding(answer.text[0]) or is_padding(answer.text[-1])
        ]
    assert bad == []


@pytest.fixture(scope="module", params=["wordpiece", "xlnet"])
def reader(request: pytest.FixtureRequest, tokenizer_dirs: dict[str, Path], tmp_path_factory: Any) -> Reader:
    """A Reader over a tiny random QA model (answers are arbitrary; their *form* is what is checked)."""
    directory = save_tiny_qa_model(tokenizer_dirs[request.param], tmp_path_factory.mktemp("m") / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return Reader.from_pretrained(directory, progress=False, **WINDOW)


@pytest.mark.parametrize("case", SMALL_LOADING, ids=_id)
def test_reader_answers_every_loading_case(
    case: Case, loaded: dict[str, LoadedRecords], reader: Reader
) -> None:
    for record in loaded[case.name].records:
        answers = reader(record["question"], record["context"], top_k=3)
        assert 1 <= len(answers) <= 3
        spans = [(a.start, a.end) for a in answers if not a.is_null]
        assert len(set(spans)) == len(spans), "top_k answers are distinct spans"
        for answer in answers:
            if not answer.is_null:
                assert record["context"][answer.start : answer.end] == answer.text
        assert sum(a.probability for a in answers) <= 1 + 1e-6


@pytest.mark.parametrize(
    ("question", "context", "message"),
    [
        ("Who?\ud800", "some context", r"question.*unpaired surrogate '\\ud800' at character 4"),
        ("Who won?", "The \udfff Broncos", "context.*unpaired surrogate"),
        ("", "some context", "question is empty"),
        ("Who won?", " \u00a0\t\n", "context is empty"),
        ("Who won?", b"bytes", "context must be a string"),
        (None, "some context", "question must be a string"),
    ],
)
def test_reader_rejects_hostile_strings_clearly(
    reader: Reader, question: Any, context: Any, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        reader(question, context)


def test_aligner_rejects_records_the_data_layer_would_reject(family_tokenizers: dict[str, Any]) -> None:
    aligner = Aligner(family_tokenizers["wordpiece"], **WINDOW)
    bad = {
        "id": "q-7",
        "question": "Who?",
        "context": "The \ud800 Broncos",
        "answers": {"text": [], "answer_start": []},
    }
    for method in (aligner.train_features, aligner.eval_features):
        with pytest.raises(DataError, match=r"record 'q-7' \(#0\): context: unpaired surrogate"):
            method([bad])
    with pytest.raises(DataError, match=r"'q-8'.*must be strings"):
        aligner.eval_features([{"id": "q-8", "question": 5, "context": "c"}])


def test_predict_command_reports_bad_input_in_one_line(
    reader: Reader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "model"
    reader.model.save_pretrained(directory)
    reader.tokenizer.save_pretrained(directory)
    capsys.readouterr()
    status = cli.main(
        ["predict", "--model", str(directory), "--question", " ", "--context", "The Broncos won."]
    )
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == "spanqa predict: error: question is empty"
    status = cli.main(
        [
            "predict",
            "--model",
            str(directory),
            "--question",
            "Who won?",
            "--context",
            "The 🏈 Broncos\x00 won.",
        ]
    )
    assert status == 0


@pytest.mark.parametrize("case_name", _FORMAT_CHARACTER_CASES)
def test_format_characters_at_answer_edges_label_exactly(
    case_name: str, loaded: dict[str, LoadedRecords], family_tokenizers: dict[str, Any]
) -> None:
    """A zero-width or other format character at an answer's edge carries no token of its own (or a
    padding-only one): the label is the visible text, counted ``exact``, never ``failed`` or ``covered``."""
    for family, tokenizer in family_tokenizers.items():
        report = Aligner(tokenizer, **WINDOW).train_features(loaded[case_name]).report
        assert (report.exact, report.failed, report.covered) == (report.answers, 0, 0), (family, report)
