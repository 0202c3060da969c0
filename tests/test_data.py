"""Tests of spanqa.data: readers, structural errors, answer validation/repair, the report and writing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spanqa.data import (
    DataReport,
    DroppedItem,
    QARecord,
    RepairedAnswer,
    load_records,
    read_records,
    records_to_dataset,
    write_squad,
)
from spanqa.errors import ConfigError, DataError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COVID = "covidqa-draft-200421.json"

#: file -> (questions, answers, unanswerable), from shared/data/README.md (answers counted in the files).
SQUAD_FILES = {
    "squadshifts-new_wiki-v1.0.json": (7938, 22794, 0),
    "tydiqa-goldp-en-train.json": (3696, 3696, 0),
    "squad-v2-train-beyonce.json": (753, 753, 0),
    "squad-v2-dev-small.json": (1292, 2503, 580),
    "xquad.en.json": (1190, 1190, 0),
    "xquad.de.json": (1190, 1190, 0),
    "xquad.zh.json": (1190, 1190, 0),
    "xquad.th.json": (1190, 1190, 0),
    "xquad.ar.json": (1190, 1190, 0),
    COVID: (1327, 1327, 0),
}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real SQuAD-format files of ../shared/data; the tests that need them skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def record(record_id: str = "q1", **overrides: Any) -> dict[str, Any]:
    """A valid flat record; ``overrides`` replace (or, with value ``...``, remove) fields."""
    base: dict[str, Any] = {
        "id": record_id,
        "title": "Rivers",
        "context": "The Rhine flows through Basel and Cologne.",
        "question": "Which river flows through Basel?",
        "answers": {"text": ["Rhine"], "answer_start": [4]},
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def squad_document(
    qas: list[Any], context: str = "The Rhine flows through Basel and Cologne."
) -> dict[str, Any]:
    return {
        "version": "v2.0",
        "data": [{"title": "Rivers", "paragraphs": [{"context": context, "qas": qas}]}],
    }


def assert_invariant(records: list[QARecord]) -> None:
    for rec in records:
        answers = rec["answers"]
        assert len(answers["text"]) == len(answers["answer_start"])
        assert rec["is_impossible"] == (not answers["text"])
        for text, start in zip(answers["text"], answers["answer_start"], strict=True):
            assert text and text == text.strip(), rec["id"]
            assert rec["context"][start : start + len(text)] == text, rec["id"]


# ------------------------------------------------------------------------------------------ real files


@pytest.mark.parametrize("name", sorted(SQUAD_FILES))
def test_every_shared_file_loads_with_the_readme_counts(shared_data: Path, name: str) -> None:
    questions, answers, unanswerable = SQUAD_FILES[name]
    loaded = load_records(shared_data / name)
    report = loaded.report
    assert (report.num_records, report.num_answers, report.num_unanswerable) == (
        questions,
        answers,
        unanswerable,
    )
    assert report.source == str(shared_data / name)
    assert len({rec["id"] for rec in loaded.records}) == len(loaded.records)
    assert all(isinstance(rec["id"], str) for rec in loaded.records)
    assert_invariant(loaded.records)
    if name != COVID:
        # The README: every other file's offsets are right; only TyDi pads 12 answers with a space.
        assert report.dropped == ()
        assert report.repaired_by_reason()["offset"] == report.repaired_by_reason()["case"] == 0
        assert len(loaded) == questions


def test_squad_v2_unanswerable_records_have_empty_answers(shared_data: Path) -> None:
    raw = json.loads((shared_data / "squad-v2-dev-small.json").read_text(encoding="utf-8"))
    impossible_ids = {
        qa["id"]
        for article in raw["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
        if qa["is_impossible"]
    }
    loaded = load_records(shared_data / "squad-v2-dev-small.json")
    assert set(loaded.report.unanswerable) == impossible_ids
    for rec in loaded.records:
        if rec["id"] in impossible_ids:
            # plausible_answers stay out of the answers.
            assert rec["is_impossible"] and rec["answers"] == {"text": [], "answer_start": []}
        else:
            assert not rec["is_impossible"] and rec["answers"]["text"]


def test_tydi_file_without_version_has_whitespace_repairs_only(shared_data: Path) -> None:
    report = load_records(shared_data / "tydiqa-goldp-en-train.json").report
    assert report.repaired_by_reason() == {"whitespace": 12, "offset": 0, "case": 0}
    assert all(item.old_text.strip() == item.new_text for item in report.repaired)


def covid_mismatches(shared_data: Path) -> dict[str, tuple[str, int]]:
    """Ids of the COVID-QA answers whose text is not at their offset, computed from the raw file."""
    raw = json.loads((shared_data / COVID).read_text(encoding="utf-8"))
    bad: dict[str, tuple[str, int]] = {}
    for article in raw["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                for answer in qa["answers"]:
                    text, start = answer["text"], answer["answer_start"]
                    if paragraph["context"][start : start + len(text)] != text:
                        bad[str(qa["id"])] = (text, start)
    return bad


def test_covid_repair_fixes_offsets_and_whitespace_and_lists_them(shared_data: Path) -> None:
    mismatched = covid_mismatches(shared_data)
    assert len(mismatched) == 229  # the README's count
    loaded = load_records(shared_data / COVID)
    report = loaded.report
    assert_invariant(loaded.records)
    by_reason = report.repaired_by_reason()
    assert by_reason == {"whitespace": 291, "offset": 221, "case": 0}
    offset_ids = {item.id for item in report.repaired if item.reason == "offset"}
    not_found = {item.id for item in report.dropped if item.reason == "not-found"}
    # Every mismatched answer is either repaired at another offset or dropped as not found.
    assert offset_ids | not_found == set(mismatched)
    assert not offset_ids & not_found
    assert len(not_found) == 8 and "3463" in not_found
    assert report.num_dropped_records == 8 and report.num_kept_records == len(loaded) == 1319
    kept = {rec["id"]: rec for rec in loaded.records}
    for item in report.repaired:
        rec = kept[item.id]
        assert rec["answers"]["answer_start"][item.answer_index] == item.new_start
        assert rec["answers"]["text"][item.answer_index] == item.new_text
        if item.reason == "offset":
            old_text, old_start = mismatched[item.id]
            assert (item.old_start, item.old_text) == (old_start, old_text)
            assert item.new_start != old_start
            assert abs(item.new_start - old_start) <= 20  # off by a few characters, as the README says


def test_covid_drop_policy_drops_every_mismatch(shared_data: Path) -> None:
    mismatched = covid_mismatches(shared_data)
    loaded = load_records(shared_data / COVID, policy="drop")
    report = loaded.report
    assert_invariant(loaded.records)
    assert report.num_dropped_answers == report.num_dropped_records == 229
    assert {item.id for item in report.dropped} == set(mismatched)
    assert {item.reason for item in report.dropped} == {"mismatch", "no-answers"}
    assert report.repaired_by_reason() == {"whitespace": 291, "offset": 0, "case": 0}
    assert len(loaded) == 1327 - 229


def test_covid_error_policy_names_the_record(shared_data: Path) -> None:
    with pytest.raises(DataError, match=r"covidqa-draft-200421\.json: record '\d+', answer 0: answer_start"):
        load_records(shared_data / COVID, policy="error")


def test_loading_validated_records_again_changes_nothing(shared_data: Path) -> None:
    loaded = load_records(shared_data / COVID)
    again = load_records(loaded.records, policy="error")
    assert again.report.clean
    assert again.records == loaded.records


def test_covid_round_trips_through_write_squad(shared_data: Path, tmp_path: Path) -> None:
    loaded = load_records(shared_data / COVID)
    path = write_squad(loaded.records, tmp_path / "covid.json")
    assert read_records(path) == loaded.records


# ------------------------------------------------------------------------------------- input shapes


def test_nested_squad_ids_become_strings_and_missing_title_is_empty() -> None:
    document = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "The Rhine flows through Basel.",
                        "qas": [
                            {
                                "id": 7,
                                "question": "Which river?",
                                "answers": [{"text": "Rhine", "answer_start": 4}],
                            }
                        ],
                    }
                ]
            }
        ]
    }
    (rec,) = read_records(document)
    assert rec == {
        "id": "7",
        "title": "",
        "context": "The Rhine flows through Basel.",
        "question": "Which river?",
        "answers": {"text": ["Rhine"], "answer_start": [4]},
        "is_impossible": False,
    }


def test_flat_records_accept_both_answer_styles_and_the_datasets_convention() -> None:
    squad_style = record("a", answers=[{"text": "Basel", "answer_start": 24}])
    hf_style = record("b", answers={"text": ["Basel", "Basel"], "answer_start": [24, 24]})
    unanswerable = record("c", answers={"text": [], "answer_start": []})
    explicit = record(
        "d", answers=[], is_impossible=True, plausible_answers=[{"text": "Basel", "answer_start": 24}]
    )
    records = read_records([squad_style, hf_style, unanswerable, explicit])
    assert [rec["answers"]["text"] for rec in records] == [["Basel"], ["Basel", "Basel"], [], []]
    assert [rec["is_impossible"] for rec in records] == [False, False, True, True]


def test_flat_json_list_and_data_wrapper_files(tmp_path: Path) -> None:
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps([record("a"), record("b")]), encoding="utf-8")
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"data": [record("a"), record("b")]}), encoding="utf-8")
    assert read_records(as_list) == read_records(wrapped)
    assert [rec["id"] for rec in read_records(str(as_list))] == ["a", "b"]


def test_jsonl_files_and_json_lines_under_a_json_name(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(rec) for rec in (record("a"), record("b"))) + "\n\n"
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text(lines, encoding="utf-8")
    # ``Dataset.to_json`` writes JSON lines under a .json name.
    disguised = tmp_path / "train.json"
    disguised.write_text(lines, encoding="utf-8")
    assert [rec["id"] for rec in read_records(jsonl)] == ["a", "b"]
    assert read_records(disguised) == read_records(jsonl)


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record("a")) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl: line 2: invalid JSON at column 2"):
        read_records(path)
    path.write_text(
        json.dumps(record("a")) + "\n" + json.dumps(record("b", question=...)) + "\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"bad\.jsonl: line 2 \(id 'b'\): missing field 'question'"):
        read_records(path)


def test_dataset_input_and_records_to_dataset() -> None:
    records = read_records([record("a"), record("b", answers={"text": [], "answer_start": []})])
    dataset = records_to_dataset(records)
    assert isinstance(dataset, datasets.Dataset)
    assert dataset.num_rows == 2
    assert dataset.features["answers"]["answer_start"].feature.dtype == "int32"
    loaded = load_records(dataset)
    assert loaded.records == records
    assert loaded.report.source == "<Dataset>"
    assert loaded.report.unanswerable == ("b",)


def test_records_to_dataset_types_empty_answer_columns() -> None:
    only_unanswerable = read_records([record("a", answers=[], is_impossible=True)])
    dataset = load_records(only_unanswerable).to_dataset()
    assert dataset.features["answers"]["text"].feature.dtype == "string"
    assert dataset[0]["answers"] == {"text": [], "answer_start": []}
    assert records_to_dataset([]).num_rows == 0


def test_dataset_with_a_partly_missing_is_impossible_column() -> None:
    # from_list takes its columns from the first record and fills them in with None where others lack them.
    dataset = datasets.Dataset.from_list(
        [record("a", answers={"text": [], "answer_start": []}, is_impossible=True), record("b")]
    )
    assert dataset[1]["is_impossible"] is None
    assert [rec["is_impossible"] for rec in read_records(dataset)] == [True, False]


def test_dataset_rows_are_named_in_errors() -> None:
    dataset = datasets.Dataset.from_list([record("a"), record("b", question="  ")])
    with pytest.raises(DataError, match=r"row 1 \(id 'b'\): empty question"):
        read_records(dataset)


def test_input_records_are_not_modified() -> None:
    original = record("a", answers=[{"text": " Rhine ", "answer_start": 3}])
    snapshot = json.loads(json.dumps(original))
    loaded = load_records([original])
    assert loaded.records[0]["answers"] == {"text": ["Rhine"], "answer_start": [4]}
    assert original == snapshot


# ------------------------------------------------------------------------------- structural errors


def test_duplicate_ids_name_both_positions() -> None:
    with pytest.raises(DataError, match=r"records\[2\]: duplicate id 'a' \(first used at records\[0\]\)"):
        read_records([record("a"), record("b"), record("a")])


def test_duplicate_ids_after_string_conversion() -> None:
    document = squad_document(
        [
            {"id": 5, "question": "Which river?", "answers": [{"text": "Rhine", "answer_start": 4}]},
            {"id": "5", "question": "Which city?", "answers": [{"text": "Basel", "answer_start": 24}]},
        ]
    )
    with pytest.raises(DataError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[1\]: duplicate id '5'"):
        read_records(document)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"context": ""}, r"records\[0\] \(id 'q1'\): empty context"),
        ({"context": " \n"}, r"empty context"),
        ({"question": ...}, r"records\[0\] \(id 'q1'\): missing field 'question'"),
        ({"context": ...}, r"missing field 'context'"),
        ({"answers": ...}, r"missing field 'answers'"),
        ({"id": ...}, r"records\[0\]: missing field 'id'"),
        ({"id": 1.5}, r"id must be a string or an integer, got 1\.5"),
        ({"id": True}, r"id must be a string or an integer, got True"),
        ({"id": " "}, r"empty id"),
        ({"title": 3}, r"title must be a string, got int"),
        ({"question": ["why"]}, r"question must be a string, got list"),
        ({"is_impossible": "no"}, r"is_impossible must be true or false, got 'no'"),
        ({"is_impossible": True}, r"is_impossible is true but the record has 1 answer"),
        ({"answers": "Rhine"}, r"answers must be a list .* got str"),
        (
            {"answers": [{"text": "Rhine", "answer_start": "4"}]},
            r"answers\[0\]\.answer_start must be an integer, got '4'",
        ),
        ({"answers": [{"text": "Rhine", "answer_start": 4.0}]}, r"answer_start must be an integer, got 4\.0"),
        ({"answers": [{"text": 5, "answer_start": 4}]}, r"answers\[0\]\.text must be a string, got 5"),
        ({"answers": [{"text": "Rhine"}]}, r"answers\[0\]: missing field 'answer_start'"),
        ({"answers": ["Rhine"]}, r"answers\[0\] must be an object, got str"),
        ({"answers": {"text": ["Rhine"], "answer_start": [4, 5]}}, r"1 text\(s\) but 2 answer_start\(s\)"),
        (
            {"answers": {"text": "Rhine", "answer_start": 4}},
            r"answers\.text and answers\.answer_start must be lists",
        ),
        ({"answers": {"answer_start": [4]}}, r"answers: missing field 'text'"),
        (
            {"answers": {"text": ["Rhine"], "answer_start": [True]}},
            r"answers\.answer_start\[0\] must be an integer",
        ),
    ],
)
def test_structural_problems_raise_data_error_naming_the_record(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_records([record(**overrides)])


def test_nested_errors_name_the_position() -> None:
    qas = [
        {"id": "ok", "question": "Which river?", "answers": [{"text": "Rhine", "answer_start": 4}]},
        {"id": "bad", "answers": [{"text": "Rhine", "answer_start": 4}]},
    ]
    with pytest.raises(
        DataError, match=r"^data\[0\]\.paragraphs\[0\]\.qas\[1\] \(id 'bad'\): missing field 'question'$"
    ):
        read_records(squad_document(qas))
    with pytest.raises(
        DataError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: expected a record object, got int"
    ):
        read_records(squad_document([3]))
    with pytest.raises(DataError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\] \(id 'ok'\): empty context"):
        read_records(squad_document(qas[:1], context=""))
    no_context = {"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}
    with pytest.raises(DataError, match=r"data\[0\]\.paragraphs\[0\]: missing field 'context'"):
        read_records(no_context)
    bad_paragraphs = {"data": [{"title": "T", "paragraphs": {"context": "x"}}]}
    with pytest.raises(DataError, match=r"data\[0\]\.paragraphs: expected a list, got dict"):
        read_records(bad_paragraphs)
    mixed = {"data": [{"title": "T", "paragraphs": []}, "oops"]}
    with pytest.raises(DataError, match=r"data\[1\]: expected an article object, got str"):
        read_records(mixed)


def test_invalid_json_file_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n  {"title": "x",\n   "paragraphs": [}\n]}', encoding="utf-8")
    with pytest.raises(DataError, match=r"broken\.json: invalid JSON at line 3, column 19: Expecting value"):
        read_records(path)
    pretty_then_garbage = tmp_path / "garbage.json"
    pretty_then_garbage.write_text('{\n  "data": []\n}\n}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"garbage\.json: invalid JSON at line 4, column 1: Extra data"):
        read_records(pretty_then_garbage)


def test_unreadable_files_and_unknown_shapes(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.json: no such file"):
        read_records(tmp_path / "missing.json")
    with pytest.raises(DataError, match=r"is a directory"):
        read_records(tmp_path)
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('[{"id": "é"}]'.encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.json: not UTF-8 text"):
        read_records(latin1)
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42", encoding="utf-8")
    with pytest.raises(DataError, match=r"scalar\.json: unknown top-level shape.* got int"):
        read_records(scalar)
    with pytest.raises(DataError, match=r"unknown top-level shape.*keys \['version', 'articles'\]"):
        read_records({"version": "v2.0", "articles": []})
    splits = {"train": datasets.Dataset.from_list([record("a")])}
    with pytest.raises(DataError, match=r"DatasetDict\? pass one split"):
        read_records(splits)
    with pytest.raises(DataError, match=r"got int"):
        read_records(42)  # type: ignore[arg-type]


def test_bom_and_empty_inputs(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    question = {"id": "q1", "question": "Which river?", "answers": [{"text": "Rhine", "answer_start": 4}]}
    path.write_text("\ufeff" + json.dumps(squad_document([question])), encoding="utf-8")
    loaded = load_records(path)
    assert [r["id"] for r in loaded.records] == ["q1"] and loaded.report.clean
    # A file without any question is an error naming it, never an empty result (it gave {} and exit 0).
    path.write_text("\ufeff" + json.dumps(squad_document([])), encoding="utf-8")
    with pytest.raises(DataError, match=r"bom\.json: no question found"):
        load_records(path)
    assert load_records([]).records == []  # in memory, an empty list is a legitimate input


def test_unknown_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"policy must be one of repair, drop, error; got 'fix'"):
        load_records([record()], policy="fix")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- answer policies

CONTEXT = "Basel lies on the Rhine. The Rhine then flows north to Cologne and Rotterdam."


def one(text: str, start: int, context: str = CONTEXT, record_id: str = "q") -> dict[str, Any]:
    return record(record_id, context=context, answers=[{"text": text, "answer_start": start}])


def test_exact_answers_are_kept_unchanged() -> None:
    loaded = load_records([one("Rhine", 18), one("Rhine", 29, record_id="r")])
    assert loaded.report.clean
    assert [rec["answers"]["answer_start"] for rec in loaded.records] == [[18], [29]]


def test_repair_takes_the_nearest_occurrence() -> None:
    # "Rhine" occurs at 18 and 29: an offset of 27 is nearer the second one, 21 nearer the first.
    loaded = load_records([one("Rhine", 27, record_id="a"), one("Rhine", 21, record_id="b")])
    assert [rec["answers"]["answer_start"] for rec in loaded.records] == [[29], [18]]
    assert loaded.report.repaired == (
        RepairedAnswer("a", 0, 27, 29, "offset", "Rhine", "Rhine"),
        RepairedAnswer("b", 0, 21, 18, "offset", "Rhine", "Rhine"),
    )


def test_repair_handles_offsets_outside_the_context() -> None:
    loaded = load_records([one("Rotterdam", 500, record_id="far"), one("Basel", -3, record_id="neg")])
    assert [rec["answers"]["answer_start"] for rec in loaded.records] == [[CONTEXT.index("Rotterdam")], [0]]
    # Negative offsets must not slice from the end of the context.
    tail = CONTEXT[-10:]
    loaded = load_records([one(tail, -10)], policy="drop")
    assert loaded.report.dropped[0].reason == "mismatch"
    assert "outside the context" in loaded.report.dropped[0].detail


def test_whitespace_is_stripped_under_every_policy() -> None:
    padded = one(" Rhine ", 17, record_id="pad")  # the offset includes the leading space
    unpadded_offset = one(" Cologne", CONTEXT.index("Cologne"), record_id="late")  # offset of the word
    for policy in ("repair", "drop", "error"):
        loaded = load_records([padded, unpadded_offset], policy=policy)  # type: ignore[arg-type]
        assert [rec["answers"] for rec in loaded.records] == [
            {"text": ["Rhine"], "answer_start": [18]},
            {"text": ["Cologne"], "answer_start": [CONTEXT.index("Cologne")]},
        ]
        assert [item.reason for item in loaded.report.repaired] == ["whitespace", "whitespace"]
        assert loaded.report.repaired[0].old_start == 17 and loaded.report.repaired[0].new_start == 18


def test_whitespace_and_offset_together_count_as_offset() -> None:
    loaded = load_records([one("Cologne ", CONTEXT.index("Cologne") + 3)])
    (item,) = loaded.report.repaired
    assert (item.reason, item.new_start, item.new_text) == ("offset", CONTEXT.index("Cologne"), "Cologne")


def test_repair_ignoring_case_takes_the_context_spelling() -> None:
    loaded = load_records([one(" the RHINE", 16)])
    (item,) = loaded.report.repaired
    assert item.reason == "case"
    assert (item.new_start, item.new_text) == (14, "the Rhine")
    assert loaded.records[0]["answers"] == {"text": ["the Rhine"], "answer_start": [14]}


def test_case_search_is_literal_not_a_pattern() -> None:
    context = "Costs rose by 5% (a.k.a. [sic]) in 2020."
    loaded = load_records([one("(A.K.A. [SIC])", 0, context=context)])
    assert loaded.records[0]["answers"] == {"text": ["(a.k.a. [sic])"], "answer_start": [17]}


def test_unrepairable_answers_are_dropped_with_their_record() -> None:
    records = [
        record(
            "keep",
            context=CONTEXT,
            answers=[{"text": "Paris", "answer_start": 3}, {"text": "Basel", "answer_start": 0}],
        ),
        one("Paris", 3, record_id="gone"),
        one("   ", 3, record_id="blank"),
    ]
    loaded = load_records(records)
    assert [rec["id"] for rec in loaded.records] == ["keep"]
    assert loaded.records[0]["answers"] == {"text": ["Basel"], "answer_start": [0]}
    assert [(item.id, item.answer_index, item.reason) for item in loaded.report.dropped] == [
        ("keep", 0, "not-found"),
        ("gone", 0, "not-found"),
        ("gone", None, "no-answers"),
        ("blank", 0, "empty-text"),
        ("blank", None, "no-answers"),
    ]
    report = loaded.report
    assert (report.num_records, report.num_answers, report.num_kept_records, report.num_kept_answers) == (
        3,
        4,
        1,
        1,
    )


def test_answerable_record_without_answers_is_dropped_or_an_error() -> None:
    rec = record("empty", answers=[], is_impossible=False)
    loaded = load_records([rec])
    assert loaded.records == []
    assert loaded.report.dropped == (
        DroppedItem("empty", None, "no-answers", "the record has no answers and is not marked is_impossible"),
    )
    with pytest.raises(DataError, match=r"record 'empty': the record has no answers"):
        load_records([rec], policy="error")


def test_drop_and_error_policies_do_not_search() -> None:
    shifted = one("Rhine", 19, record_id="shifted")
    loaded = load_records([shifted, one("Basel", 0, record_id="fine")], policy="drop")
    assert [rec["id"] for rec in loaded.records] == ["fine"]
    assert loaded.report.dropped[0] == DroppedItem(
        "shifted", 0, "mismatch", "answer_start 19 points at 'hine.', not at the answer text 'Rhine'"
    )
    with pytest.raises(
        DataError, match=r"^<list>: record 'shifted', answer 0: answer_start 19 points at 'hine\.'"
    ):
        load_records([shifted], policy="error")


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(alphabet="abcdefgh ,.", max_size=40),
    answer=st.text(alphabet="ABCDEFGH xyz", min_size=1, max_size=12),
    suffix=st.text(alphabet="abcdefgh ,.", max_size=40),
    shift=st.integers(min_value=-5, max_value=5),
)
def test_repair_recovers_a_unique_span_from_a_perturbed_offset(
    prefix: str, answer: str, suffix: str, shift: int
) -> None:
    context = prefix + answer + suffix
    gold = answer.strip()
    assume(gold and context.count(gold) == 1)
    gold_start = context.index(gold)
    loaded = load_records([one(answer, len(prefix) + shift, context=context)])
    assert loaded.records[0]["answers"] == {"text": [gold], "answer_start": [gold_start]}
    # The answer is left alone exactly when it was right; otherwise exactly one repair is reported.
    assert loaded.report.num_repaired == (0 if shift == 0 and gold == answer else 1)


# ------------------------------------------------------------------------------------------- report


def test_report_to_dict_is_json_and_complete() -> None:
    loaded = load_records(
        [
            one("Rhine", 27, record_id="a"),
            one("Paris", 0, record_id="b"),
            record("c", answers=[], is_impossible=True),
        ]
    )
    as_dict = json.loads(json.dumps(loaded.report.to_dict()))
    assert as_dict["source"] == "<list>" and as_dict["policy"] == "repair"
    assert as_dict["counts"] == {
        "records": 3,
        "answers": 2,
        "kept_records": 2,
        "kept_answers": 1,
        "unanswerable": 1,
        "repaired_answers": 1,
        "repaired_by_reason": {"whitespace": 0, "offset": 1, "case": 0},
        "dropped_answers": 1,
        "dropped_records": 1,
    }
    assert as_dict["repaired"] == [
        {
            "id": "a",
            "answer_index": 0,
            "old_start": 27,
            "new_start": 29,
            "reason": "offset",
            "old_text": "Rhine",
            "new_text": "Rhine",
        }
    ]
    assert [entry["id"] for entry in as_dict["dropped"]] == ["b", "b"]
    assert as_dict["unanswerable"] == ["c"]


def test_report_text_lists_entries_by_id_and_caps_long_lists() -> None:
    records = [one("Rhine", 27, record_id=f"r{i}") for i in range(25)] + [one("Paris", 0, record_id="lost")]
    report = load_records(records).report
    text = str(report)
    assert text.splitlines()[:5] == [
        "<list> (policy: repair)",
        "  records:      26 read, 25 kept (0 unanswerable)",
        "  answers:      26 read, 25 kept",
        "  repaired:     25 answers (0 whitespace, 25 offset, 0 case)",
        "  dropped:      1 answers, 1 records",
    ]
    assert "  r0 answer 0: start 27 -> 29 (offset): text 'Rhine'" in text
    assert "  ... and 5 more" in text
    assert "  lost record: no-answers: every answer of the record was dropped" in text
    full = report.format(max_items=None)
    assert "r24 answer 0" in full and "... and" not in full


def test_report_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="policy"):
        DataReport(source="x", policy="fix", num_records=0, num_answers=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_records must be >= 0"):
        DataReport(source="x", policy="repair", num_records=-1, num_answers=0)
    with pytest.raises(ValueError, match="reason"):
        RepairedAnswer("a", 0, 1, 2, "guess", "x", "x")  # type: ignore[arg-type]
    report = DataReport(source="x", policy="drop", num_records=1, num_answers=1, unanswerable=["a"])
    assert report.unanswerable == ("a",)


# -------------------------------------------------------------------------------------------- write


def test_write_squad_groups_paragraphs_and_round_trips(tmp_path: Path) -> None:
    context_b = "Cologne has a cathedral."
    records = read_records(
        [
            record("1"),
            record("2", question="Which city?", answers=[{"text": "Basel", "answer_start": 24}]),
            record(
                "3",
                title="Cities",
                context=context_b,
                question="What?",
                answers=[{"text": "a cathedral", "answer_start": 12}],
            ),
            record("4", answers=[], is_impossible=True),
        ]
    )
    path = write_squad(records, tmp_path / "out.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "v2.0"
    assert [article["title"] for article in document["data"]] == ["Rivers", "Cities"]
    (paragraph,) = document["data"][0]["paragraphs"]
    assert [qa["id"] for qa in paragraph["qas"]] == ["1", "2", "4"]
    assert paragraph["qas"][2] == {
        "id": "4",
        "question": "Which river flows through Basel?",
        "answers": [],
        "is_impossible": True,
    }
    assert read_records(path) == [records[0], records[1], records[3], records[2]]
    assert sorted(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_write_squad_v1_and_its_limits(tmp_path: Path) -> None:
    path = write_squad([record("1")], tmp_path / "v1.json", version="v1.1")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "v1.1"
    assert "is_impossible" not in document["data"][0]["paragraphs"][0]["qas"][0]
    assert read_records(path) == read_records([record("1")])
    with pytest.raises(DataError, match=r"record '2' is unanswerable, which SQuAD v1\.1 cannot express"):
        write_squad([record("2", answers=[], is_impossible=True)], tmp_path / "bad.json", version="v1.1")
    with pytest.raises(ConfigError, match=r"version must be 'v1\.1' or 'v2\.0'; got '3'"):
        write_squad([record("1")], tmp_path / "bad.json", version="3")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"records\[1\]: duplicate id '1'"):
        write_squad([record("1"), record("1")], tmp_path / "dup.json")
    assert not (tmp_path / "bad.json").exists() and not (tmp_path / "dup.json").exists()


def test_write_squad_keeps_non_ascii_text(tmp_path: Path) -> None:
    rec = record(
        "zh",
        title="长江",
        context="长江流经上海。",
        question="哪条河?",
        answers=[{"text": "长江", "answer_start": 0}],
    )
    path = write_squad([rec], tmp_path / "zh.json")
    assert "长江流经上海" in path.read_text(encoding="utf-8")
    assert read_records(path) == read_records([rec])
