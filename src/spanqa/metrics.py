"""SQuAD v1.1 and v2.0 evaluation, offline and numerically identical to the official scripts.

transformers 5 dropped its SQuAD metrics and ``evaluate.load("squad_v2")`` needs the network, yet every
published SQuAD number is defined by two small scripts (``evaluate-v1.1.py`` and ``evaluate-v2.0.py``).
This module reproduces their semantics exactly, quirks included, so a score computed here can be compared
with any paper or leaderboard:

* answers are normalised by lower-casing, removing ASCII punctuation, the articles *a*/*an*/*the* and
  redundant whitespace (:func:`normalize_answer`);
* a question's score is the maximum over its gold answers; in v2.0, gold answers that normalise to nothing
  are dropped and a question left without any is scored against ``[""]``;
* v2.0 F1 is 1 when gold and prediction both have no tokens and 0 when only one of them has none; v1.1 F1
  is 0 whenever either side has no tokens;
* ``HasAns``/``NoAns`` follow ``bool(answers)`` (the scripts never read ``is_impossible``);
* the best thresholds are found exactly as ``find_best_thresh`` does: questions sorted by no-answer
  probability with a stable sort (ties keep the order of ``na_probs``), a running score, and a threshold
  that moves only on a strict improvement;
* sums run in the scripts' own order with the scripts' own operations (``sum`` in v2.0, ``+=`` in v1.1),
  so results agree to the last bit on every Python version.

Where the scripts crash or silently mis-score, spanqa raises :class:`~spanqa.errors.DataError` naming the
record or file instead (duplicate question ids, a missing no-answer probability, a v1.1 question without a
gold answer, malformed JSON). A question without a prediction scores 0 and counts in every total, as in
the v1.1 script (the v2.0 script prints ``Missing prediction`` and then fails with a ``KeyError``); a
:class:`MissingPredictionWarning` reports how many there were. Gold answers are read as they are: the
scripts never look at ``answer_start``, so nothing is validated, repaired or dropped here.
"""

from __future__ import annotations

import collections
import json
import math
import numbers
import os
import re
import string
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import numpy as np

from spanqa.errors import ConfigError, DataError, excerpt, some_ids

__all__ = [
    "BestThresholds",
    "GoldQuestion",
    "GoldSet",
    "GoldSource",
    "MissingPredictionWarning",
    "best_thresholds",
    "evaluate",
    "evaluate_v1",
    "exact_match",
    "f1",
    "load_gold",
    "load_na_probs",
    "load_predictions",
    "normalize_answer",
    "score_answer",
]

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


class MissingPredictionWarning(UserWarning):
    """Some gold questions have no prediction; each of them scores 0 and still counts in the totals."""


# --------------------------------------------------------------------------------------------------------
# Answer-level metrics
# --------------------------------------------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    """Normalise an answer the way both official scripts do before comparing it.

    Lower-case, delete every ``string.punctuation`` character, replace the whole words *a*, *an* and *the*
    by a space, then collapse whitespace. The order matters (punctuation goes before articles, so
    ``"the-end"`` becomes ``"theend"``, which keeps its *the*) and is the scripts' order.
    """
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION))
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> int:
    """1 if ``prediction`` and ``gold`` are equal after :func:`normalize_answer`, else 0 (v1.1 and v2.0)."""
    return int(normalize_answer(prediction) == normalize_answer(gold))


def _token_f1(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    """F1 of the bag-of-tokens overlap, for two non-empty token lists (the formula both scripts share)."""
    common = collections.Counter(prediction_tokens) & collections.Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def f1(prediction: str, gold: str) -> float:
    """SQuAD v2.0 token F1 between one prediction and one gold answer.

    When either side normalises to no tokens (a no-answer), the score is 1 if both are empty and 0
    otherwise, as in ``evaluate-v2.0.py``; v1.1 scores every such pair 0.
    """
    prediction_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not prediction_tokens or not gold_tokens:
        return float(prediction_tokens == gold_tokens)
    return _token_f1(prediction_tokens, gold_tokens)


def _f1_v1(prediction: str, gold: str) -> float:
    """SQuAD v1.1 token F1: like :func:`f1` but 0 whenever the two share no token, empty ones included."""
    prediction_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not prediction_tokens or not gold_tokens:
        return 0.0
    return _token_f1(prediction_tokens, gold_tokens)


def score_answer(prediction: str, golds: Iterable[str]) -> tuple[int, float]:
    """Exact match (0/1) and F1 (0..1) of one predicted text under the SQuAD 2.0 rules: golds that
    normalise to nothing are dropped, and a question left with none is scored against ``""`` (so ``""``
    is right for an unanswerable question)."""
    return _score_v2(prediction, [text for text in golds if normalize_answer(text)] or [""])


def _score_v2(prediction: str, golds: Iterable[str]) -> tuple[int, float]:
    """Exact match and F1 of one prediction, each maximised over the question's (v2.0-filtered) golds."""
    prediction_tokens = normalize_answer(prediction).split()
    best_exact = 0
    best_f1 = 0.0
    for gold in golds:
        gold_tokens = normalize_answer(gold).split()
        # Equal token lists <=> equal normalised strings: normalisation already collapsed the whitespace.
        best_exact = max(best_exact, int(prediction_tokens == gold_tokens))
        if not prediction_tokens or not gold_tokens:
            score = float(prediction_tokens == gold_tokens)
        else:
            score = _token_f1(prediction_tokens, gold_tokens)
        best_f1 = max(best_f1, score)
    return best_exact, best_f1


# --------------------------------------------------------------------------------------------------------
# Gold data
# --------------------------------------------------------------------------------------------------------


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class GoldQuestion:
    """One scored question: its id and its gold answer texts, exactly as the data file has them.

    Attributes:
        id: the question id (integer ids, as in some SQuAD-like files, become strings: prediction files are
            JSON objects, whose keys are always strings).
        answers: the gold answer texts, unnormalised, duplicates kept; empty for an unanswerable question.
    """

    id: str = attrs.field(validator=attrs.validators.instance_of(str))
    answers: tuple[str, ...] = attrs.field(
        converter=_str_tuple,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(str)),
    )

    @property
    def has_answer(self) -> bool:
        """Whether the question counts as ``HasAns`` (the scripts' ``bool(qa["answers"])``)."""
        return bool(self.answers)


def _question_tuple(questions: Iterable[GoldQuestion]) -> tuple[GoldQuestion, ...]:
    return tuple(questions)


@attrs.frozen(eq=False)
class GoldSet:
    """The gold questions of an evaluation set, in file order, with unique ids.

    Load it once with :func:`load_gold` when scoring repeatedly (for example while tuning a null threshold
    on a dev set); every function here also accepts a path, a SQuAD dict or flat records and loads them.

    Attributes:
        questions: the questions in data order (the order the scripts sum in).
        source: what messages call the data: ``gold data file '<path>'``, or a description of the
            in-memory data (``"SQuAD dict"``, ``"records"``).
    """

    questions: tuple[GoldQuestion, ...] = attrs.field(converter=_question_tuple)
    source: str = "gold data"

    def __attrs_post_init__(self) -> None:
        if not self.questions:
            raise DataError(f"{self.source}: no questions to score")
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise DataError(
                    f"{self.source}: question id {question.id!r} occurs more than once; predictions are "
                    "keyed by id, so each question needs a unique one"
                )
            seen.add(question.id)

    def __len__(self) -> int:
        return len(self.questions)

    def missing_ids(self, predictions: Mapping[str, object]) -> list[str]:
        """Ids of the gold questions that ``predictions`` has no entry for, in data order."""
        return [question.id for question in self.questions if question.id not in predictions]


#: Everything the scoring functions accept as gold data: a :class:`GoldSet`, the path of a SQuAD JSON file
#: (or of a JSON list of flat records), a loaded SQuAD dict (``{"data": [...]}``), the list of articles
#: under its ``"data"`` key, or flat ``QARecord`` dicts (``id`` and ``answers``, as ``{"text": [...]}`` or
#: as SQuAD's ``[{"text": ...}]``; see ``docs/architecture.md``), for example a ``datasets.Dataset``.
#: ``"data"`` lists (in a file or a dict) may hold flat records too.
GoldSource: TypeAlias = "GoldSet | str | os.PathLike[str] | Mapping[str, Any] | Iterable[Mapping[str, Any]]"


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    """``value`` checked to be a JSON object; a :class:`DataError` naming ``where`` otherwise."""
    if not isinstance(value, Mapping):
        raise DataError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _field(container: object, key: str, kind: type, where: str) -> Any:
    """``container[key]`` checked to be a ``kind``; a :class:`DataError` naming ``where`` otherwise."""
    container = _mapping(container, where)
    if key not in container:
        raise DataError(f"{where}: missing key {key!r}")
    value = container[key]
    if not isinstance(value, kind):
        raise DataError(f"{where}: {key!r} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _question_id(container: Mapping[str, Any], where: str) -> str:
    if "id" not in container:
        raise DataError(f"{where}: missing key 'id'")
    qid = container["id"]
    if isinstance(qid, bool) or not isinstance(qid, str | int):
        raise DataError(f"{where}: 'id' must be a string or an integer, got {excerpt(qid)}")
    return str(qid)


def _article_questions(article: Mapping[str, Any], where: str, source: str) -> Iterable[GoldQuestion]:
    """Questions of one nested SQuAD article (paragraphs -> qas -> answers)."""
    for paragraph_index, paragraph in enumerate(_field(article, "paragraphs", list, where)):
        where_paragraph = f"{where}, paragraph {paragraph_index}"
        for qa_index, qa in enumerate(_field(paragraph, "qas", list, where_paragraph)):
            where_qa = f"{where_paragraph}, question {qa_index}"
            qid = _question_id(_mapping(qa, where_qa), where_qa)
            where_qa = f"{source}: question {qid!r}"
            answers = _field(qa, "answers", list, where_qa)
            yield GoldQuestion(
                qid, [_field(answer, "text", str, f"{where_qa}, answer") for answer in answers]
            )


def _record_question(record: Mapping[str, Any], where: str) -> GoldQuestion:
    """The question of one flat record, its answers datasets-style or SQuAD-style."""
    qid = _question_id(record, where)
    where = f"{where} ({qid!r})"
    answers = _field(record, "answers", object, where)
    if isinstance(answers, list):  # SQuAD-style: [{"text": ..., "answer_start": ...}, ...]
        return GoldQuestion(qid, [_field(answer, "text", str, f"{where}, answer") for answer in answers])
    texts = _field(answers, "text", list, f"{where}, answers")  # datasets-style: {"text": [...], ...}
    for text in texts:
        if not isinstance(text, str):
            raise DataError(f"{where}, answers: every answer text must be a string, got {excerpt(text)}")
    return GoldQuestion(qid, texts)


def _questions(items: object, source: str) -> list[GoldQuestion]:
    """Questions of a list whose entries are nested SQuAD articles (the scripts' ``dataset["data"]``) or
    flat records (the ``QARecord`` schema), told apart entry by entry by their ``paragraphs``/``id`` keys."""
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise DataError(f"{source}: expected a list of articles or records, got {type(items).__name__}")
    questions: list[GoldQuestion] = []
    for index, item in enumerate(items):
        entry = _mapping(item, f"{source}: entry {index}")
        if "paragraphs" in entry:
            questions.extend(_article_questions(entry, f"{source}: article {index}", source))
        elif "id" in entry:
            questions.append(_record_question(entry, f"{source}: record {index}"))
        else:
            raise DataError(
                f"{source}: entry {index} is neither a SQuAD article ('paragraphs') nor a record ('id')"
            )
    return questions


def _read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file; a missing, unreadable or invalid file is a :class:`DataError` naming it."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError(f"{what} file {os.fspath(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{what} file {os.fspath(path)!r} cannot be read: {error}") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{what} file {os.fspath(path)!r} is not valid JSON: {error}") from None


def load_gold(source: GoldSource) -> GoldSet:
    """Read gold questions from any :data:`GoldSource`, without validating or repairing answers.

    The official scripts read only ids and answer texts, so that is all this reads: ``answer_start``,
    ``is_impossible`` and ``plausible_answers`` play no part in the score.

    Raises:
        DataError: the file is missing or not JSON, the structure is not SQuAD-like (the message names the
            file and the article, paragraph, question or record), or an id occurs twice.
    """
    if isinstance(source, GoldSet):
        return source
    if isinstance(source, str | os.PathLike):
        name = f"gold data file {os.fspath(source)!r}"
        loaded = _read_json(source, "gold data")
        items = _field(loaded, "data", object, name) if isinstance(loaded, Mapping) else loaded
        return GoldSet(_questions(items, name), source=name)
    if isinstance(source, Mapping):
        return GoldSet(
            _questions(_field(source, "data", object, "SQuAD dict"), "SQuAD dict"), source="SQuAD dict"
        )
    if isinstance(source, Iterable):
        return GoldSet(_questions(source, "records"), source="records")
    raise DataError(f"gold data must be a path, a SQuAD dict, or flat records, got {type(source).__name__}")


# --------------------------------------------------------------------------------------------------------
# Predictions and no-answer probabilities
# --------------------------------------------------------------------------------------------------------


def _check_predictions(predictions: object, source: str) -> Mapping[str, str]:
    if not isinstance(predictions, Mapping):
        raise DataError(
            f"{source}: predictions must map question ids to answer texts, got {type(predictions).__name__}"
        )
    if isinstance(predictions.get("data"), list) and not isinstance(predictions.get("version", ""), dict):
        raise DataError(
            f"{source}: this is a SQuAD data file, not predictions (a JSON object mapping question ids "
            "to answer texts); give the data file first and the predictions second"
        )
    for qid, text in predictions.items():
        if not isinstance(qid, str):
            raise DataError(f"{source}: prediction keys must be question id strings, got {excerpt(qid)}")
        if not isinstance(text, str):
            raise DataError(
                f"{source}: the prediction for {excerpt(qid)} must be a string, "
                f"got {type(text).__name__} {excerpt(text)}"
            )
    return predictions


def _check_na_probs(na_probs: object, source: str) -> dict[str, float]:
    """Validated copy of ``na_probs``: ints and floats kept as they are (their JSON form shows in
    ``best_*_thresh``), other real numbers such as ``numpy.float32`` converted to ``float``."""
    if not isinstance(na_probs, Mapping):
        raise DataError(
            f"{source}: no-answer probabilities must map question ids to numbers, "
            f"got {type(na_probs).__name__}"
        )
    checked: dict[str, float] = {}
    for qid, value in na_probs.items():
        if not isinstance(qid, str):
            raise DataError(
                f"{source}: no-answer probability keys must be question id strings, got {excerpt(qid)}"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise DataError(
                f"{source}: the no-answer probability of {excerpt(qid)} must be a number, "
                f"got {excerpt(value)}"
            )
        if not isinstance(value, int | float):
            value = float(value)
        if math.isnan(value):
            raise DataError(f"{source}: the no-answer probability of {qid!r} is NaN")
        checked[qid] = value
    return checked


def load_predictions(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a predictions file (a JSON object mapping question id -> answer text, ``""`` for no answer).

    Raises:
        DataError: naming the file, when it is missing, not JSON, or not a mapping of strings to strings.
    """
    name = os.fspath(path)
    return dict(_check_predictions(_read_json(path, "predictions"), f"predictions file {name!r}"))


def load_na_probs(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read a no-answer probability file (a JSON object mapping question id -> number).

    Raises:
        DataError: naming the file, when it is missing, not JSON, or maps an id to something that is not a
            number (or to NaN).
    """
    name = os.fspath(path)
    return _check_na_probs(
        _read_json(path, "no-answer probabilities"), f"no-answer probabilities file {name!r}"
    )


def _warn_missing(gold: GoldSet, missing: list[str]) -> None:
    if missing:
        warnings.warn(
            f"{len(missing)} of {len(gold)} questions of {gold.source} have no prediction and score 0 "
            f"({some_ids(missing)})",
            MissingPredictionWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------------------
# SQuAD v2.0
# --------------------------------------------------------------------------------------------------------


@attrs.frozen
class _RawScores:
    """Per-question v2.0 scores before any no-answer threshold, in gold order (0 where unanswered)."""

    exact: list[float]
    f1: list[float]
    answered: list[bool]


def _raw_scores(gold: GoldSet, predictions: Mapping[str, str]) -> _RawScores:
    exact: list[float] = []
    f1_scores: list[float] = []
    answered: list[bool] = []
    for question in gold.questions:
        prediction = predictions.get(question.id)
        answered.append(prediction is not None)
        if prediction is None:
            exact.append(0)
            f1_scores.append(0.0)
            continue
        exact_score, f1_score = score_answer(prediction, question.answers)
        exact.append(exact_score)
        f1_scores.append(f1_score)
    return _RawScores(exact, f1_scores, answered)


def _require_na_probs(gold: GoldSet, raw: _RawScores, na_probs: Mapping[str, float], source: str) -> None:
    absent = [
        q.id
        for q, answered in zip(gold.questions, raw.answered, strict=True)
        if answered and q.id not in na_probs
    ]
    if absent:
        raise DataError(
            f"{source}: {len(absent)} answered questions have no no-answer probability ({some_ids(absent)})"
        )


def _find_best_threshold(
    gold: GoldSet,
    predictions: Mapping[str, str],
    scores: list[float],
    raw: _RawScores,
    na_probs: Mapping[str, float],
) -> tuple[float, float]:
    """``find_best_thresh`` of ``evaluate-v2.0.py``, vectorised: (best score in %, its threshold).

    Start as if every answered question were predicted unanswerable (the number of answered NoAns
    questions is correct), then switch questions to "answered" in ascending order of ``na_probs`` (a stable
    sort, so ties keep ``na_probs``' own order): a HasAns question gains its raw score, a NoAns question
    loses 1 if its prediction is a non-empty string. The threshold is the probability of the *first*
    question at which the running score reaches its maximum, and 0.0 if it never beats the start, exactly
    as the script's strict ``>`` does. The running sum is a sequential ``cumsum`` seeded with the start
    value, the same float operations as the script's ``cur_score += diff``.
    """
    position = {
        q.id: i for i, (q, answered) in enumerate(zip(gold.questions, raw.answered, strict=True)) if answered
    }
    ids = [qid for qid in na_probs if qid in position]
    rows = [position[qid] for qid in ids]
    has_answer = np.fromiter((gold.questions[i].has_answer for i in rows), dtype=bool, count=len(rows))
    raw_score = np.fromiter((scores[i] for i in rows), dtype=np.float64, count=len(rows))
    non_empty = np.fromiter((bool(predictions[qid]) for qid in ids), dtype=bool, count=len(rows))
    diffs = np.where(has_answer, raw_score, np.where(non_empty, -1.0, 0.0))
    probabilities = np.fromiter((na_probs[qid] for qid in ids), dtype=np.float64, count=len(rows))
    order = np.argsort(probabilities, kind="stable")

    start = int(np.count_nonzero(~has_answer))
    running = np.cumsum(np.concatenate(([float(start)], diffs[order])))[1:]
    best_score: float = start
    best_threshold: float = 0.0
    if running.size:
        top = int(np.argmax(running))
        if running[top] > start:
            best_score = float(running[top])
            best_threshold = na_probs[ids[int(order[top])]]
    return 100.0 * best_score / len(gold), best_threshold


@attrs.frozen
class BestThresholds:
    """The no-answer thresholds that maximise exact match and F1 on a dev set, and those maxima.

    A question is predicted unanswerable when its no-answer probability (or null-score difference) is
    *greater than* the threshold. ``best_exact`` and ``best_f1`` are percentages, as in
    ``evaluate-v2.0.py``.
    """

    best_exact: float = attrs.field(converter=float)
    best_exact_thresh: float = attrs.field(converter=float)
    best_f1: float = attrs.field(converter=float)
    best_f1_thresh: float = attrs.field(converter=float)

    def as_dict(self) -> dict[str, float]:
        """The four values under the script's key names, in the script's order."""
        return attrs.asdict(self)


def _best(
    gold: GoldSet, predictions: Mapping[str, str], raw: _RawScores, na_probs: Mapping[str, float]
) -> tuple[float, float, float, float]:
    best_exact, exact_threshold = _find_best_threshold(gold, predictions, raw.exact, raw, na_probs)
    best_f1, f1_threshold = _find_best_threshold(gold, predictions, raw.f1, raw, na_probs)
    return best_exact, exact_threshold, best_f1, f1_threshold


def _percentages(exact: list[float], f1_scores: list[float], prefix: str = "") -> dict[str, float]:
    # ``sum`` (not ``+=``), as ``make_eval_dict`` does: from Python 3.12 on, it sums floats with
    # compensation, and matching the script means matching that too.
    total = len(exact)
    return {
        f"{prefix}exact": 100.0 * sum(exact) / total,
        f"{prefix}f1": 100.0 * sum(f1_scores) / total,
        f"{prefix}total": total,
    }


def evaluate(
    gold: GoldSource,
    predictions: Mapping[str, str],
    na_probs: Mapping[str, float] | None = None,
    *,
    na_prob_thresh: float = 1.0,
) -> dict[str, float]:
    """Score predictions with the SQuAD v2.0 metric, as ``evaluate-v2.0.py`` does.

    Args:
        gold: the gold data (see :data:`GoldSource`).
        predictions: question id -> predicted answer text (``""`` predicts "no answer"). Ids that are not
            in ``gold`` are ignored, as the script ignores them.
        na_probs: question id -> probability (or any score) that the question has no answer; it must cover
            every answered gold question. ``None`` means 0.0 for every question (so only a negative
            ``na_prob_thresh`` changes anything) and no ``best_*`` keys, as when the script runs without
            ``--na-prob-file``.
        na_prob_thresh: questions whose ``na_probs`` value is greater than this are scored as predicted
            unanswerable (1 for a NoAns question, 0 for a HasAns one).

    Returns:
        The script's dict, keys in its order: ``exact``, ``f1``, ``total``, then ``HasAns_*`` and
        ``NoAns_*`` (each when such questions exist), then ``best_exact``, ``best_exact_thresh``,
        ``best_f1``, ``best_f1_thresh`` when ``na_probs`` is given. Scores are percentages, totals ints.

    Raises:
        DataError: malformed gold data or predictions, or answered questions without a ``na_probs`` entry.
        ConfigError: ``na_prob_thresh`` is NaN.
    """
    gold_set = load_gold(gold)
    predictions = _check_predictions(predictions, "predictions")
    if math.isnan(na_prob_thresh):
        raise ConfigError("na_prob_thresh must be a number, got NaN")
    checked_na_probs = _check_na_probs(na_probs, "na_probs") if na_probs is not None else None
    _warn_missing(gold_set, gold_set.missing_ids(predictions))

    raw = _raw_scores(gold_set, predictions)
    if checked_na_probs is not None:
        _require_na_probs(gold_set, raw, checked_na_probs, "na_probs")
    exact = list(raw.exact)
    f1_scores = list(raw.f1)
    for index, question in enumerate(gold_set.questions):
        if not raw.answered[index]:
            continue  # no prediction: scored 0 already, and it needs no no-answer probability
        # Without na_probs every probability is 0.0, as in the script: a negative threshold still applies.
        na_prob = checked_na_probs[question.id] if checked_na_probs is not None else 0.0
        if na_prob > na_prob_thresh:
            exact[index] = f1_scores[index] = float(not question.has_answer)

    result = _percentages(exact, f1_scores)
    for prefix, wanted in (("HasAns_", True), ("NoAns_", False)):
        rows = [i for i, question in enumerate(gold_set.questions) if question.has_answer is wanted]
        if rows:
            result.update(_percentages([exact[i] for i in rows], [f1_scores[i] for i in rows], prefix))
    if checked_na_probs is not None:
        best_exact, exact_threshold, best_f1, f1_threshold = _best(
            gold_set, predictions, raw, checked_na_probs
        )
        result["best_exact"] = best_exact
        result["best_exact_thresh"] = exact_threshold
        result["best_f1"] = best_f1
        result["best_f1_thresh"] = f1_threshold
    return result


def best_thresholds(
    gold: GoldSource, predictions: Mapping[str, str], na_probs: Mapping[str, float]
) -> BestThresholds:
    """The null thresholds that maximise exact match and F1, found in one pass over a dev set.

    This is the ``best_*`` part of :func:`evaluate` on its own, for tuning a decoder: pass each question's
    best non-null answer as ``predictions`` and its null-score difference (or no-answer probability) as
    ``na_probs``; predicting "no answer" whenever the value exceeds ``best_f1_thresh`` then reaches
    ``best_f1`` (up to ties, which the script resolves in ``na_probs`` order).

    Raises:
        DataError: malformed input, or answered questions without a ``na_probs`` entry.
    """
    gold_set = load_gold(gold)
    predictions = _check_predictions(predictions, "predictions")
    checked_na_probs = _check_na_probs(na_probs, "na_probs")
    _warn_missing(gold_set, gold_set.missing_ids(predictions))
    raw = _raw_scores(gold_set, predictions)
    _require_na_probs(gold_set, raw, checked_na_probs, "na_probs")
    return BestThresholds(*_best(gold_set, predictions, raw, checked_na_probs))


# --------------------------------------------------------------------------------------------------------
# SQuAD v1.1
# --------------------------------------------------------------------------------------------------------


def evaluate_v1(gold: GoldSource, predictions: Mapping[str, str]) -> dict[str, float]:
    """Score predictions with the SQuAD v1.1 metric, as ``evaluate-v1.1.py`` does.

    Every question must have a gold answer (v1.1 has no unanswerable questions; the script would crash on
    one). A question without a prediction scores 0, as in the script. Returns ``{"exact_match", "f1"}`` in
    percent.

    Raises:
        DataError: malformed input, or a question without any gold answer (named by id).
    """
    gold_set = load_gold(gold)
    predictions = _check_predictions(predictions, "predictions")
    unanswerable = [question.id for question in gold_set.questions if not question.has_answer]
    if unanswerable:
        raise DataError(
            f"{gold_set.source}: question {unanswerable[0]!r} ({len(unanswerable)} in all) has no gold "
            "answer; SQuAD v1.1 scoring needs one per question (score SQuAD 2.0 data with evaluate())"
        )
    _warn_missing(gold_set, gold_set.missing_ids(predictions))
    # ``+=`` in data order, as the script accumulates (not ``sum``, which compensates from Python 3.12).
    exact_total: float = 0
    f1_total: float = 0
    for question in gold_set.questions:
        prediction = predictions.get(question.id)
        if prediction is None:
            continue
        exact_total += max(exact_match(prediction, answer) for answer in question.answers)
        f1_total += max(_f1_v1(prediction, answer) for answer in question.answers)
    total = len(gold_set)
    return {"exact_match": 100.0 * exact_total / total, "f1": 100.0 * f1_total / total}
