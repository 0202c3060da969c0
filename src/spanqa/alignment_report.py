"""The :class:`AlignmentReport`: what the Aligner's self-check found, counted per gold answer.

A result type of its own module because it outlives the alignment: it travels with
:class:`~spanqa.features.TrainFeatures`, the fine-tuner logs it, ``spanqa align-report`` prints it, and none
of them needs the tokenizer machinery of :mod:`spanqa.align` to read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

__all__ = ["AlignmentReport"]

#: How many ids each id list of the text report prints.
_MAX_LISTED_IDS = 20


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"AlignmentReport.{attribute.name} must be >= 0, got {value}")


def _str_tuple(value: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(item) for item in value)


def _count() -> Any:
    return attrs.field(default=0, validator=_non_negative)


@attrs.frozen
class AlignmentReport:
    """The outcome of aligning every gold answer, with the ids of every answer that did not align.

    Counting rules. ``answers`` counts *every* gold answer of every answerable example (SQuAD dev sets give
    up to three per question, often identical), and each is checked on its own: it is ``outside_window`` when
    no window holds its whole character span; otherwise its minimal token span in the first window that holds
    it is decoded back to characters and it is ``exact`` (the decoded text equals the gold text, whose
    surrounding whitespace, if any, is ignored),
    ``covered`` (a token crosses the answer's boundary, so the decoded text is wider but contains the gold
    text) or ``failed`` (the decoded text does not contain the gold text, for example when the answer
    consists of characters the tokenizer drops). So ``exact + covered + outside_window + failed == answers``.
    Training labels follow the same check: a window is labelled with the first gold answer (in record order)
    that it holds and that aligns; a window holding none is labelled with its CLS index.

    Attributes:
        answers: gold answers checked (all answers of all answerable examples).
        exact: answers whose label decodes to exactly the gold text.
        covered: answers whose label decodes to a wider text containing the gold text.
        outside_window: answers that no window holds entirely (lost to ``max_length``/``stride``).
        failed: answers inside a window whose label does not decode to a text containing them.
        repaired: answers the data layer repaired (from its ``DataReport``; 0 when none was given).
        dropped: answers and records the data layer dropped (likewise).
        features: windows produced.
        seconds: wall-clock time of the alignment.
        examples: examples (records) aligned.
        unanswerable: examples without an answer (SQuAD 2.0), labelled with CLS in every window.
        truncated_questions: questions cut to ``max_question_tokens`` tokens.
        failed_ids: ids of the examples with a failed answer (each id once, in input order).
        outside_window_ids: ids of the examples with an answer outside every window.
        truncated_question_ids: ids of the examples whose question was truncated.
    """

    answers: int = _count()
    exact: int = _count()
    covered: int = _count()
    outside_window: int = _count()
    failed: int = _count()
    repaired: int = _count()
    dropped: int = _count()
    features: int = _count()
    seconds: float = attrs.field(default=0.0, validator=_non_negative)
    examples: int = _count()
    unanswerable: int = _count()
    truncated_questions: int = _count()
    failed_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    outside_window_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    truncated_question_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    def __attrs_post_init__(self) -> None:
        checked = self.exact + self.covered + self.outside_window + self.failed
        if checked != self.answers:
            raise ValueError(
                f"AlignmentReport counts do not add up: exact {self.exact} + covered {self.covered} + "
                f"outside_window {self.outside_window} + failed {self.failed} != answers {self.answers}"
            )

    @property
    def ok(self) -> bool:
        """True when no answer failed (answers outside every window are a setting, not an error)."""
        return self.failed == 0

    @property
    def aligned(self) -> int:
        """Answers that a window labels correctly (``exact + covered``)."""
        return self.exact + self.covered

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts (``answers`` ... ``seconds`` first), then the extra counts and id lists."""
        payload = attrs.asdict(self)
        for name in ("failed_ids", "outside_window_ids", "truncated_question_ids"):
            payload[name] = list(payload[name])
        return payload

    def format(self, *, max_ids: int | None = _MAX_LISTED_IDS) -> str:
        """A readable multi-line report; ``max_ids`` caps each id list (None prints every id)."""

        def share(count: int) -> str:
            return f" ({100.0 * count / self.answers:.1f}%)" if self.answers else ""

        lines = [
            f"examples:            {self.examples:,} ({self.unanswerable:,} unanswerable) -> "
            f"{self.features:,} windows in {self.seconds:.2f} s",
            f"answers:             {self.answers:,}",
            f"  exact:             {self.exact:,}{share(self.exact)}",
            f"  covered:           {self.covered:,}{share(self.covered)}",
            f"  outside window:    {self.outside_window:,}{share(self.outside_window)}",
            f"  failed:            {self.failed:,}{share(self.failed)}",
            f"data layer:          {self.repaired:,} repaired, {self.dropped:,} dropped",
            f"truncated questions: {self.truncated_questions:,}",
        ]
        for title, ids in (
            ("failed", self.failed_ids),
            ("outside every window", self.outside_window_ids),
            ("truncated questions", self.truncated_question_ids),
        ):
            if ids:
                shown = ids if max_ids is None else ids[:max_ids]
                more = f" ... and {len(ids) - len(shown):,} more" if len(shown) < len(ids) else ""
                lines.append(f"ids ({title}): {', '.join(shown)}{more}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()
