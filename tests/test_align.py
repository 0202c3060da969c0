"""Tests of spanqa.align: labels proven on real data for every tokenizer family, features, bad input.

The central claim of the Aligner is that every label is its gold answer's minimal token span. These tests
check that claim *independently* of the Aligner's code and report: ``alignment_reference.check_labels``
recomputes every answer's first and last token from the tokenizer's own offset mapping and the gold
character offsets, and every label must be exactly that span.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import datasets
import numpy as np
import pytest

from alignment_reference import check_labels
from spanqa import AlignmentReport, TrainFeatures
from spanqa.align import Aligner
from spanqa.data import load_records
from spanqa.errors import ConfigError, DataError, TokenizerError
from spanqa.features import EvalFeatures
from tokenizer_factory import slow_wordpiece

XQUAD = ("xquad.en.json", "xquad.zh.json", "xquad.th.json")

#: The report's top-level keys, in order.
REPORT_KEYS = ("answers", "exact", "covered", "outside_window", "failed", "repaired", "dropped", "features")
#: Questions of each XQuAD file aligned by the default (fast) suite; the slow suite aligns whole files.
SUBSET = 400


def record(
    record_id: str = "r1",
    context: str = "The Rhine flows through Basel and Cologne.",
    question: str = "Which river flows through Basel?",
    answers: Sequence[tuple[str, int]] = (("Rhine", 4),),
) -> dict[str, Any]:
    return {
        "id": record_id,
        "title": "t",
        "context": context,
        "question": question,
        "answers": {"text": [text for text, _ in answers], "answer_start": [start for _, start in answers]},
        "is_impossible": not answers,
    }


def answer_of(context: str, text: str, occurrence: int = 0) -> tuple[str, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = context.index(text, start + 1)
    return text, start


def align_both(aligner: Aligner, records: Sequence[Mapping[str, Any]]) -> tuple[TrainFeatures, EvalFeatures]:
    return aligner.train_features(records), aligner.eval_features(records)


# ------------------------------------------------------------------ real data, every tokenizer family


@pytest.mark.parametrize("name", XQUAD)
def test_every_xquad_answer_inside_a_window_aligns(any_tokenizer: Any, data_dir: Path, name: str) -> None:
    """XQuAD in three scripts (two without spaces), short windows so that many examples split."""
    records = load_records(data_dir / name).records[:SUBSET]
    aligner = Aligner(any_tokenizer, max_length=128, stride=32, max_question_tokens=32, progress=False)
    train, evaluation = align_both(aligner, records)
    check_labels(aligner, records, train, evaluation)
    # Short windows split most contexts (MiniLM turns unspaced Thai words into single [UNK] tokens, so its
    # Thai windows stay whole: that is what the tokenizer does, and the labels are still proven).
    assert train.report.features == len(train) >= len(records)
    assert np.diff(train.example_index).min(initial=1) >= 0
    assert train.report.exact >= 0.8 * train.report.answers


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings", [(128, 32, 32), (384, 128, 64), (192, 0, 48)], ids=["128-32", "384-128", "192-0"]
)
@pytest.mark.parametrize("name", XQUAD)
def test_every_answer_of_whole_xquad_files_aligns(
    any_tokenizer: Any, data_dir: Path, name: str, settings: tuple[int, int, int]
) -> None:
    max_length, stride, max_question_tokens = settings
    records = load_records(data_dir / name).records
    aligner = Aligner(
        any_tokenizer, max_length=max_length, stride=stride, max_question_tokens=max_question_tokens
    )
    check_labels(aligner, records, *align_both(aligner, records))


def test_squad_v2_unanswerable_examples_are_labelled_cls(tokenizer_family: Any, data_dir: Path) -> None:
    records = load_records(data_dir / "squad-v2-dev-small.json").records[:300]
    aligner = Aligner(tokenizer_family, max_length=160, stride=40)
    train, evaluation = align_both(aligner, records)
    check_labels(aligner, records, train, evaluation)
    impossible = {i for i, rec in enumerate(records) if rec["is_impossible"]}
    assert train.report.unanswerable == len(impossible) > 0
    for w in np.flatnonzero(np.isin(train.example_index, list(impossible))):
        assert train.start_positions[w] == train.end_positions[w] == train.cls_index[w]


def test_several_gold_answers_are_each_checked(minilm_tokenizer: Any, data_dir: Path) -> None:
    """new_wiki has three gold answers per question: every one is counted and checked."""
    records = load_records(data_dir / "squadshifts-new_wiki-v1.0.json").records[:400]
    aligner = Aligner(minilm_tokenizer, max_length=128, stride=32)
    train, evaluation = align_both(aligner, records)
    check_labels(aligner, records, train, evaluation)
    assert train.report.answers == sum(len(rec["answers"]["text"]) for rec in records) > 2 * len(records)


def test_covid_qa_subset_with_repaired_offsets_aligns(minilm_tokenizer: Any, data_dir: Path) -> None:
    """Long biomedical papers with off-by-a-few offsets, repaired by the data layer first."""
    loaded = load_records(data_dir / "covidqa-draft-200421.json", policy="repair")
    records = loaded.records[:80]
    train = Aligner(minilm_tokenizer).train_features(records, data_report=loaded.report)
    assert train.report.failed == 0
    assert train.report.repaired == len(loaded.report.repaired) > 0
    assert train.report.features > 10 * len(records)  # whole papers: many windows per question


@pytest.mark.slow
def test_whole_covid_qa_file_aligns(minilm_tokenizer: Any, data_dir: Path) -> None:
    loaded = load_records(data_dir / "covidqa-draft-200421.json", policy="repair")
    report = Aligner(minilm_tokenizer).align_report(loaded)
    assert report.failed == 0
    assert report.answers == len(loaded.records)
    assert report.dropped == len(loaded.report.dropped)


# ----------------------------------------------------------------------------------- evaluation features


def test_eval_features_locate_context_and_cls(any_tokenizer: Any) -> None:
    context = "Paris is the capital of France. " * 30
    records = [record("a", context, "What is the capital of France?", [answer_of(context, "Paris", 7)])]
    records.append(record("b", "Short context here.", "Where?", [("Short", 0)]))
    evaluation = Aligner(any_tokenizer, max_length=64, stride=16, max_question_tokens=16).eval_features(
        records
    )
    assert evaluation.example_ids == ["a", "b"]
    assert evaluation.contexts == [rec["context"] for rec in records]
    assert evaluation.padding_side == any_tokenizer.padding_side
    assert list(evaluation.example_index) == sorted(evaluation.example_index)
    assert np.count_nonzero(evaluation.example_index == 0) > 1
    assert evaluation.offsets.dtype == np.int32 and evaluation.offsets.shape[2] == 2
    for w in range(len(evaluation)):
        ids = evaluation.input_ids[w]
        length = int(evaluation.lengths[w])
        assert len(ids) == len(evaluation.attention_mask[w]) == length
        offsets = evaluation.offsets[w]
        assert (offsets[length:] == -1).all()
        cls = int(evaluation.cls_index[w])
        assert ids[cls] == any_tokenizer.cls_token_id
        if any_tokenizer.padding_side == "left":
            assert cls == length - 1  # XLNet-like: the CLS token closes the window
        else:
            assert cls == 0
        context_tokens = np.flatnonzero(offsets[:length, 0] >= 0)
        assert len(context_tokens) > 0
        # the context is one contiguous run of tokens
        assert context_tokens[-1] - context_tokens[0] + 1 == len(context_tokens)


def test_question_tokens_never_carry_offsets(any_tokenizer: Any) -> None:
    """The question's tokens are -1 in the offsets, whichever comes first, question or context."""
    question = "Which river flows through Basel?"
    records = [record(question=question)]
    evaluation = Aligner(any_tokenizer, max_length=128, stride=8, max_question_tokens=32).eval_features(
        records
    )
    pair = (question, records[0]["context"])
    encoding = any_tokenizer(*(pair if any_tokenizer.padding_side == "right" else pair[::-1]))
    question_sequence = 0 if any_tokenizer.padding_side == "right" else 1
    sequence_ids = encoding.sequence_ids(0)
    assert evaluation.input_ids[0] == encoding["input_ids"]
    for position, sequence in enumerate(sequence_ids):
        has_offsets = evaluation.offsets[0, position, 0] >= 0
        assert has_offsets == (sequence is not None and sequence != question_sequence)


def test_context_first_tokenizer_puts_context_before_question(family_tokenizers: dict[str, Any]) -> None:
    records = [record()]
    for family, context_first in (("wordpiece", False), ("xlnet", True)):
        evaluation = Aligner(family_tokenizers[family]).eval_features(records)
        context_positions = np.flatnonzero(evaluation.offsets[0, : evaluation.lengths[0], 0] >= 0)
        starts_window = context_positions[0] == 0
        assert starts_window == context_first, family


def test_stride_is_the_overlap_between_windows(tokenizer_family: Any) -> None:
    context = " ".join(f"word{i} number {i}." for i in range(200))
    stride = 12
    evaluation = Aligner(
        tokenizer_family, max_length=64, stride=stride, max_question_tokens=16
    ).eval_features([record(context=context, answers=[answer_of(context, "word7")])])
    assert len(evaluation) > 3
    spans = []
    for w in range(len(evaluation)):
        offsets = evaluation.offsets[w, : evaluation.lengths[w]]
        spans.append([tuple(span) for span in offsets[offsets[:, 0] >= 0]])
    for previous, following in itertools.pairwise(spans):
        # The same `stride` tokens end one window and start the next. A whitespace-only token (empty
        # span, never an answer boundary) may sit at its end in one window and one character earlier in
        # the other with weakly trained byte-level vocabularies, so only tokens with text are compared.
        assert [s if s[1] > s[0] else None for s in previous[-stride:]] == [
            s if s[1] > s[0] else None for s in following[:stride]
        ]


def test_offsets_never_start_or_end_with_whitespace(family_tokenizers: dict[str, Any]) -> None:
    """SentencePiece "▁word" and byte-level "Ġword" offsets are trimmed to the word."""
    context = "Hello   world \tthe  1990s were\u00a0great .\nBye"
    answers = [answer_of(context, "world"), answer_of(context, "1990s"), answer_of(context, "great")]
    for family, tokenizer in family_tokenizers.items():
        aligner = Aligner(tokenizer, max_length=64, stride=8, max_question_tokens=16)
        evaluation = aligner.eval_features([record(context=context, answers=answers)])
        offsets = evaluation.offsets[0][evaluation.offsets[0, :, 0] >= 0]
        for start, end in offsets:
            text = context[start:end]
            assert text == text.strip(), (family, text)  # whitespace-only tokens become empty spans
        report = aligner.align_report([record(context=context, answers=[answers[0]])])
        assert report.exact == 1, family


def test_characters_dropped_by_the_normalizer_join_the_token_before(minilm_tokenizer: Any) -> None:
    """Uncased BERT strips Thai vowel/tone marks (separate code points): the answer still decodes whole."""
    context = "ประเทศไทยมี สี่ ภาค"
    answers = [answer_of(context, "สี่")]
    aligner = Aligner(minilm_tokenizer, max_length=64, stride=8, max_question_tokens=16)
    train, evaluation = align_both(aligner, [record(context=context, question="กี่ภาค", answers=answers)])
    assert train.report.exact == 1
    start, end = train.start_positions[0], train.end_positions[0]
    assert context[evaluation.offsets[0, start, 0] : evaluation.offsets[0, end, 1]] == "สี่"


def test_literal_cls_token_in_the_context_is_not_the_cls_index(family_tokenizers: dict[str, Any]) -> None:
    for family, cls_text in (("wordpiece", "[CLS]"), ("xlnet", "<cls>")):
        tokenizer = family_tokenizers[family]
        context = f"A page that mentions {cls_text} in its text, and Basel."
        records = [record(context=context, answers=[answer_of(context, "Basel")])]
        train = Aligner(tokenizer, max_length=64, stride=8, max_question_tokens=16).train_features(records)
        ids = train.input_ids[0]
        assert ids.count(tokenizer.cls_token_id) == 2, family
        expected = 0 if family == "wordpiece" else len(ids) - 1
        assert train.cls_index[0] == expected, family


# ------------------------------------------------------------------------------------ training features


def test_first_gold_answer_held_by_the_window_labels_it(tokenizer_family: Any) -> None:
    context = "Alpha beta gamma. " * 40 + "The answer is Zurich."
    late = answer_of(context, "Zurich")
    early = answer_of(context, "gamma")
    aligner = Aligner(tokenizer_family, max_length=48, stride=8, max_question_tokens=8)
    records = [record(context=context, question="Which city?", answers=[late, early])]
    train, evaluation = align_both(aligner, records)
    check_labels(aligner, records, train, evaluation)
    decoded = []
    for w in range(len(train)):
        if train.start_positions[w] != train.cls_index[w]:
            offsets = evaluation.offsets[w]
            decoded.append(context[offsets[train.start_positions[w], 0] : offsets[train.end_positions[w], 1]])
    assert decoded[0] == "gamma" and decoded[-1] == "Zurich"
    assert train.report.answers == 2 and train.report.aligned == 2


def test_answer_outside_every_window_is_counted_and_labelled_cls(tokenizer_family: Any) -> None:
    words = "one two three four five six seven eight nine ten "
    context = words * 6
    text, start = answer_of(context, (words * 3).strip())
    aligner = Aligner(tokenizer_family, max_length=24, stride=2, max_question_tokens=4)
    train = aligner.train_features([record(context=context, question="What?", answers=[(text, start)])])
    assert train.report.outside_window == 1
    assert train.report.outside_window_ids == ("r1",)
    assert (train.start_positions == train.cls_index).all()
    assert (train.end_positions == train.cls_index).all()


def test_answer_of_dropped_characters_only_is_reported_failed(minilm_tokenizer: Any) -> None:
    """An answer the tokenizer drops entirely (a lone combining accent, deleted by uncased BERT) has no
    token: it is a failure with its id, and its window is labelled CLS."""
    context = "abc \u0301 def"
    records = [record("mark", context=context, question="What?", answers=[("\u0301", 4)])]
    train = Aligner(minilm_tokenizer, max_length=32, stride=4, max_question_tokens=8).train_features(records)
    assert train.report.failed == 1
    assert train.report.failed_ids == ("mark",)
    assert not train.report.ok
    assert train.start_positions[0] == train.cls_index[0]


def test_answer_of_format_characters_only_is_refused_naming_the_record(minilm_tokenizer: Any) -> None:
    """A zero-width space is padding, like a space: an answer of nothing else has no text to label."""
    records = [record("zw", context="abc \u200b def", question="What?", answers=[("\u200b", 4)])]
    with pytest.raises(DataError, match=r"record 'zw' \(#0\): answer 0 has no visible character"):
        Aligner(minilm_tokenizer, max_length=32, stride=4, max_question_tokens=8).train_features(records)


def test_to_dataset_has_the_model_columns(family_tokenizers: dict[str, Any]) -> None:
    records = [record(), record("r2", question="Which city lies on the Rhine?", answers=[("Basel", 24)])]
    for family, tokenizer in family_tokenizers.items():
        train = Aligner(tokenizer).train_features(records)
        dataset = train.to_dataset()
        assert isinstance(dataset, datasets.Dataset)
        expected = ["input_ids", "attention_mask", "start_positions", "end_positions"]
        if "token_type_ids" in tokenizer.model_input_names:
            expected.insert(2, "token_type_ids")
        assert dataset.column_names == expected, family
        assert dataset["start_positions"] == train.start_positions.tolist()
        assert dataset["input_ids"] == train.input_ids
        assert train.start_positions.dtype == np.int64
        np.testing.assert_array_equal(train.lengths, [len(ids) for ids in train.input_ids])


def test_records_may_be_a_dataset_or_loaded_records(minilm_tokenizer: Any, data_dir: Path) -> None:
    loaded = load_records(data_dir / "xquad.en.json")
    records = loaded.records[:50]
    aligner = Aligner(minilm_tokenizer)
    from_list = aligner.train_features(records)
    from_dataset = aligner.train_features(datasets.Dataset.from_list(records))
    assert from_dataset.input_ids == from_list.input_ids
    np.testing.assert_array_equal(from_dataset.start_positions, from_list.start_positions)
    assert aligner.train_features(loaded).report.examples == len(loaded.records)


def test_empty_records(tokenizer_family: Any) -> None:
    aligner = Aligner(tokenizer_family)
    train = aligner.train_features([])
    assert len(train) == 0 and train.report.answers == 0 and train.report.features == 0
    assert train.to_dataset().num_rows == 0
    evaluation = aligner.eval_features([])
    assert len(evaluation) == 0 and evaluation.num_examples == 0


def test_empty_context_gives_a_window_without_context(tokenizer_family: Any) -> None:
    records = [record(context="", answers=[])]
    train, evaluation = align_both(Aligner(tokenizer_family), records)
    assert len(train) == 1
    assert train.start_positions[0] == train.cls_index[0]
    assert (evaluation.offsets[0] == -1).all()


# ----------------------------------------------------------------------------------------- bad input


def test_slow_tokenizer_is_rejected(tokenizer_dirs: dict[str, Path], tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    fast = AutoTokenizer.from_pretrained(str(tokenizer_dirs["wordpiece"]))
    vocab = tmp_path / "vocab.txt"
    ids = fast.get_vocab()
    vocab.write_text("\n".join(sorted(ids, key=ids.__getitem__)) + "\n", encoding="utf-8")
    slow = slow_wordpiece(vocab)
    assert not getattr(slow, "is_fast", True)
    with pytest.raises(TokenizerError, match="slow"):
        Aligner(slow)


def test_raw_tokenizers_object_is_rejected_with_a_hint(tokenizer_family: Any) -> None:
    with pytest.raises(TokenizerError, match="PreTrainedTokenizerFast"):
        Aligner(tokenizer_family.backend_tokenizer)
    with pytest.raises(TokenizerError):
        Aligner("bert-base-uncased")


def test_stride_too_large_names_the_numbers(minilm_tokenizer: Any) -> None:
    with pytest.raises(ConfigError) as error:
        Aligner(minilm_tokenizer, max_length=384, stride=317, max_question_tokens=64)
    message = str(error.value)
    for number in ("stride 317", "max_length 384", "max_question_tokens 64", "3 special tokens", "= 317"):
        assert number in message
    assert Aligner(minilm_tokenizer, max_length=384, stride=316).stride == 316


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"max_length": 0}, "max_length"),
        ({"max_length": 1024}, "model_max_length 512"),
        ({"stride": -1}, "stride"),
        ({"stride": 1.5}, "stride"),
        ({"max_question_tokens": True}, "max_question_tokens"),
        ({"max_length": 64, "max_question_tokens": 61}, "no room"),
        ({"batch_size": 0}, "batch_size"),
        ({"progress": "yes"}, "progress"),
    ],
)
def test_invalid_settings_raise_config_error(
    minilm_tokenizer: Any, settings: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        Aligner(minilm_tokenizer, **settings)


def test_evolve_validates_the_changed_copy(minilm_tokenizer: Any) -> None:
    aligner = Aligner(minilm_tokenizer)
    assert attrs.evolve(aligner, stride=64).stride == 64
    with pytest.raises(ConfigError, match="stride"):
        attrs.evolve(aligner, stride=400)
    assert "BertTokenizer" in repr(aligner) or "Tokenizer" in repr(aligner)


def test_question_longer_than_max_length_is_truncated_and_counted(family_tokenizers: dict[str, Any]) -> None:
    long_question = "Which of the many rivers that flow through the old cities of Europe is it? " * 40
    records = [record("long", question=long_question), record("short", question="Where?")]
    for family, tokenizer in family_tokenizers.items():
        aligner = Aligner(tokenizer, max_length=96, stride=16, max_question_tokens=20)
        train, evaluation = align_both(aligner, records)
        assert train.report.truncated_questions == 1, family
        assert train.report.truncated_question_ids == ("long",)
        assert train.report.exact == 2, family
        question_tokens = [
            int(evaluation.lengths[w]) - int((evaluation.offsets[w, :, 0] >= 0).sum()) for w in range(2)
        ]
        specials = tokenizer.num_special_tokens_to_add(pair=True)
        assert question_tokens[0] - specials == 20, family


def test_question_just_over_the_limit_is_truncated_in_the_windows(minilm_tokenizer: Any) -> None:
    """A question short enough not to break the pair call but over max_question_tokens is still cut."""
    question = "how many " * 12  # 24 tokens, 108 characters: far from breaking a 256-token window
    aligner = Aligner(minilm_tokenizer, max_length=256, stride=16, max_question_tokens=20)
    train = aligner.train_features([record(question=question), record("r2")])
    assert train.report.truncated_question_ids == ("r1",)
    assert train.report.exact == 2


def test_question_that_breaks_the_pair_call_is_truncated_after_all(minilm_tokenizer: Any) -> None:
    """The pair call's own failure (here: the up-front check is switched off) falls back to truncation."""

    class Unchecked(Aligner):
        def _risky_questions(self, questions: Sequence[str]) -> list[int]:
            return []

    aligner = Unchecked(minilm_tokenizer, max_length=64, stride=8, max_question_tokens=16)
    train = aligner.train_features([record(question="which river " * 50), record("r2")])
    assert train.report.truncated_question_ids == ("r1",)
    assert train.report.aligned == 2


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"context": None}, "'question' and 'context' must be strings"),
        ({"answers": {"text": ["Rhine"], "answer_start": [5]}}, "not at answer_start 5"),
        ({"answers": {"text": ["Rhine", "Basel"], "answer_start": [4]}}, "2 texts but 1 answer_start"),
        ({"answers": {"text": [" "], "answer_start": [3]}}, "has no visible character"),
        ({"answers": ["Rhine"]}, "must be a mapping"),
        ({"answers": {"text": "Rhine", "answer_start": 4}}, "must be lists"),
        ({"answers": {"text": ["Rhine"], "answer_start": ["4"]}}, "must be a text"),
    ],
)
def test_malformed_records_raise_data_error_naming_the_id(
    minilm_tokenizer: Any, bad: dict[str, Any], match: str
) -> None:
    broken = record("bad-id") | bad
    with pytest.raises(DataError, match=match) as error:
        Aligner(minilm_tokenizer).train_features([record("ok"), broken])
    assert "bad-id" in str(error.value)


def test_missing_fields_and_non_records_raise_data_error(minilm_tokenizer: Any) -> None:
    aligner = Aligner(minilm_tokenizer)
    incomplete = record("no-question")
    del incomplete["question"]
    with pytest.raises(DataError, match=r"'no-question'.*'question'"):
        aligner.eval_features([incomplete])
    with pytest.raises(DataError, match="#0 has no 'id'"):
        aligner.eval_features([{"question": "q", "context": "c"}])
    with pytest.raises(DataError, match="not a mapping"):
        aligner.eval_features(["just a string"])  # type: ignore[list-item]
    with pytest.raises(DataError, match="load_records"):
        aligner.train_features("data.json")  # type: ignore[arg-type]


def test_eval_features_do_not_need_answers(minilm_tokenizer: Any) -> None:
    unlabelled = {"id": "u", "question": "Which river?", "context": "The Rhine flows."}
    evaluation = Aligner(minilm_tokenizer).eval_features([unlabelled])
    assert evaluation.example_ids == ["u"] and len(evaluation) == 1


def test_from_pretrained_errors_name_the_directory(tmp_path: Path, minilm_dir: Path) -> None:
    with pytest.raises(TokenizerError, match="does not exist"):
        Aligner.from_pretrained(tmp_path / "missing")
    with pytest.raises(TokenizerError, match=str(tmp_path)):
        Aligner.from_pretrained(tmp_path)
    aligner = Aligner.from_pretrained(minilm_dir, max_length=256, stride=64)
    assert (aligner.max_length, aligner.stride, aligner.padding_side) == (256, 64, "right")


# ---------------------------------------------------------------------------------------------- report


def test_report_to_dict_and_text(minilm_tokenizer: Any) -> None:
    context = "zero one two three four " * 20
    long_answer = ("zero one two three four " * 6).strip()
    records = [
        record("in", context=context, answers=[answer_of(context, "three")]),
        record("out", context=context, answers=[answer_of(context, long_answer)]),
        record("none", context=context, answers=[]),
    ]
    aligner = Aligner(minilm_tokenizer, max_length=32, stride=4, max_question_tokens=8)
    report = aligner.align_report(records)
    payload = report.to_dict()
    assert tuple(payload)[: len(REPORT_KEYS) + 1] == (*REPORT_KEYS, "seconds")
    assert payload["outside_window_ids"] == ["out"]
    counts = (payload["answers"], payload["exact"], payload["outside_window"], payload["unanswerable"])
    assert counts == (2, 1, 1, 1)
    assert payload["examples"] == 3 and payload["features"] == report.features > 3
    text = report.format()
    assert "outside window:    1" in text and "ids (outside every window): out" in text
    assert str(report) == text


def test_report_counts_must_add_up() -> None:
    with pytest.raises(ValueError, match="do not add up"):
        AlignmentReport(answers=3, exact=1)
    report = AlignmentReport(answers=3, exact=1, covered=1, failed=1, failed_ids=["x"])
    assert report.failed_ids == ("x",) and not report.ok and report.aligned == 2
    long_list = AlignmentReport(answers=30, failed=30, failed_ids=[f"id{i}" for i in range(30)])
    assert "and 10 more" in long_list.format()
    assert "and 10 more" not in long_list.format(max_ids=None)
