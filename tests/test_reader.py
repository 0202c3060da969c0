"""Reader: inference over question/context pairs and long documents with tiny real models."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from model_factory import save_tiny_qa_model
from spanqa import ConfigError, DataError
from spanqa.data import load_records
from spanqa.finetune import QAFineTuner, TrainingConfig
from spanqa.reader import Reader, cpu_has_native_bf16


@pytest.fixture(scope="module", params=["wordpiece", "xlnet"])
def model_dir(request: pytest.FixtureRequest, tokenizer_dirs: dict[str, Path], tmp_path_factory: Any) -> Path:
    """A tiny QA model per tokenizer family (xlnet: left padding, context first, CLS last)."""
    return save_tiny_qa_model(tokenizer_dirs[request.param], tmp_path_factory.mktemp(request.param) / "m")


@pytest.fixture(scope="module")
def xquad(data_dir: Path) -> list[Any]:
    return load_records(data_dir / "xquad.en.json").records


def _reader(model_dir: Path, **options: Any) -> Reader:
    return Reader.from_pretrained(model_dir, max_length=96, stride=24, max_question_tokens=24, **options)


def _tuner(model_dir: Path, tmp_path: Path, *, batch_size: int, **options: Any) -> QAFineTuner:
    """A QAFineTuner with the Reader's window settings (same batch size: a BERT model behind a
    left-padding tokenizer sees its positions shift with the padding, so only equal batches agree)."""
    config = TrainingConfig(
        output_dir=str(tmp_path),
        max_length=96,
        stride=24,
        max_question_tokens=24,
        per_device_eval_batch_size=batch_size,
        progress=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return QAFineTuner(model_dir, config=config, **options)


def test_single_pair_returns_top_k_distinct_spans_of_the_context(model_dir: Path, xquad: list[Any]) -> None:
    record = xquad[0]
    answers = _reader(model_dir)(record["question"], record["context"], top_k=5)
    assert len(answers) == 5
    assert len({(a.start, a.end) for a in answers}) == 5
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)
    for answer in answers:
        assert answer.start is not None and answer.end is not None
        assert record["context"][answer.start : answer.end] == answer.text
        assert 0.0 <= answer.probability <= 1.0
    assert sum(a.probability for a in answers) <= 1.0 + 1e-9


def test_pairs_and_the_same_answers_as_qafinetuner_evaluation(
    model_dir: Path, xquad: list[Any], tmp_path: Path
) -> None:
    records = xquad[:20]
    # Same batch size on both sides: a BERT model behind a left-padding tokenizer sees its absolute
    # positions shift with the amount of padding, so only identical batches give identical logits.
    reader = _reader(model_dir, batch_size=16)
    answers = reader([r["question"] for r in records], [r["context"] for r in records])
    assert len(answers) == 20 and all(len(a) == 1 for a in answers)
    tuner = _tuner(model_dir, tmp_path, batch_size=16)
    evaluated = tuner.evaluate(records).predictions
    for record, (best,) in zip(records, answers, strict=True):
        assert (best.text, best.start) == (evaluated[record["id"]].text, evaluated[record["id"]].start)
        assert best.score == pytest.approx(evaluated[record["id"]].score, abs=1e-4)


def test_reader_predict_is_what_evaluate_scored_prediction_by_prediction(
    model_dir: Path, xquad: list[Any], tmp_path: Path
) -> None:
    """One inference path (spanqa.inference): every field of every prediction is equal, n-best included,
    on a dev set whose long contexts span several windows."""
    records = xquad[:60]
    reader = _reader(model_dir, batch_size=8)
    tuner = _tuner(model_dir, tmp_path, batch_size=8, decoding=reader.decoding)
    assert len(reader.aligner.eval_features(records).lengths) > len(records)  # multi-window contexts
    read = reader.predict(records)
    evaluated = tuner.evaluate(records).predictions
    assert list(read) == list(evaluated)
    for key, prediction in read.items():
        assert prediction == evaluated[key], key


def test_one_question_over_many_documents_tags_each_answer_with_its_document(
    model_dir: Path, xquad: list[Any]
) -> None:
    documents = [xquad[i]["context"] for i in (0, 40, 80)]
    documents = list(dict.fromkeys(documents))
    answers = _reader(model_dir).ask(xquad[0]["question"], documents, top_k=6)
    assert len(answers) == 6
    for answer in answers:
        assert documents[answer.document][answer.start : answer.end] == answer.text
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)
    assert sum(a.probability for a in answers) <= 1.0 + 1e-9


def test_long_document_is_windowed_and_answered(model_dir: Path, xquad: list[Any]) -> None:
    paragraphs = list(dict.fromkeys(r["context"] for r in xquad))
    document = "\n\n".join(paragraphs)[:200_000]
    answers = _reader(model_dir, batch_size=64, progress=False)("Who won Super Bowl 50?", document, top_k=3)
    assert len(answers) == 3
    for answer in answers:
        assert document[answer.start : answer.end] == answer.text


@pytest.mark.slow
def test_a_million_character_context(model_dir: Path, xquad: list[Any]) -> None:
    paragraphs = list(dict.fromkeys(r["context"] for r in xquad))
    document = ("\n\n".join(paragraphs) * 5)[:1_000_000]
    answers = _reader(model_dir, batch_size=128, progress=False)("Who won Super Bowl 50?", document)
    assert answers and document[answers[0].start : answers[0].end] == answers[0].text


def test_bad_input_gives_clear_errors(
    model_dir: Path, tokenizer_dirs: dict[str, Path], tmp_path: Path
) -> None:
    reader = _reader(model_dir)
    with pytest.raises(DataError, match="question is empty"):
        reader("  ", "some context")
    with pytest.raises(DataError, match="context must be a string or a list of strings, got int"):
        reader("why?", 42)  # type: ignore[call-overload]
    with pytest.raises(DataError, match="2 questions but 1 contexts"):
        reader(["a?", "b?"], ["only one"])
    with pytest.raises(DataError, match="documents"):
        reader.ask("why?", [])
    with pytest.raises(ConfigError, match="top_k"):
        reader("why?", "because", top_k=0)
    with pytest.raises(ConfigError, match="needs a GPU"):
        _reader(model_dir, precision="fp16", device="cpu")
    for budget in (0, -1, 2.5, "all"):
        with pytest.raises(ConfigError, match="max_batch_tokens"):
            _reader(model_dir, max_batch_tokens=budget)
    encoder_only = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "encoder", with_head=False)
    with pytest.raises(ConfigError, match="no trained question-answering head"):
        Reader.from_pretrained(encoder_only)
    with pytest.raises(ConfigError, match="does not exist"):
        Reader.from_pretrained(tmp_path / "missing")


def test_a_token_budget_changes_the_batches_not_the_answers(
    tokenizer_dirs: dict[str, Path], xquad: list[Any], tmp_path: Path
) -> None:
    # Right padding (WordPiece): a window's logits do not depend on what else is in its batch.
    model = save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path / "m")
    records = xquad[:24]
    pairs = [r["question"] for r in records], [r["context"] for r in records]
    answers = {
        budget: [(a[0].text, a[0].start) for a in _reader(model, max_batch_tokens=budget)(*pairs, top_k=1)]
        for budget in (None, "auto", 96, 200)
    }
    assert answers[96] == answers[None] == answers["auto"] == answers[200]


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bf16 (AVX512-BF16 or AMX)")
def test_bf16_on_a_cpu_with_native_bf16_autocasts_and_keeps_fp32_weights(
    model_dir: Path, xquad: list[Any]
) -> None:
    import torch

    reader = _reader(model_dir, precision="bf16", device="cpu")
    assert next(reader.model.parameters()).dtype == torch.float32 and reader.autocast_dtype == torch.bfloat16
    fp32 = _reader(model_dir, device="cpu")
    records = xquad[:40]
    pairs = [r["question"] for r in records], [r["context"] for r in records]
    got, expected = reader(*pairs, top_k=3), fp32(*pairs, top_k=3)
    for answers, record in zip(got, records, strict=True):
        assert len(answers) == 3
        for answer in answers:
            assert record["context"][answer.start : answer.end] == answer.text
    # bf16 keeps 8 bits of mantissa: scores move a little, most best answers do not.
    same = sum(a[0].text == b[0].text for a, b in zip(got, expected, strict=True))
    assert same >= 0.8 * len(records)
    for a, b in zip(got, expected, strict=True):
        assert a[0].score == pytest.approx(b[0].score, abs=0.1 + 0.05 * abs(b[0].score))


@pytest.mark.skipif(cpu_has_native_bf16(), reason="this CPU computes bf16 natively")
def test_bf16_on_a_cpu_without_native_bf16_is_refused(model_dir: Path) -> None:
    with pytest.raises(ConfigError, match="AVX512-BF16 or AMX"):
        _reader(model_dir, precision="bf16", device="cpu")
