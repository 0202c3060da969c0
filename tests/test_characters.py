"""spanqa.characters: the padding rule (whitespace and format characters) matches unicodedata."""

from __future__ import annotations

import sys
import unicodedata

import numpy as np

from spanqa.characters import FORMAT_CHARACTERS, PADDING, WHITESPACE, is_padding_table, strip_padding


def test_whitespace_is_every_isspace_character() -> None:
    assert {c for c in WHITESPACE} == {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}


def test_format_characters_are_this_pythons_category_cf_and_later_additions_only() -> None:
    cf = {chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}
    spelled = set(FORMAT_CHARACTERS)
    assert cf <= spelled
    # Characters that became Cf in a later Unicode version than this Python's are unassigned here.
    assert {unicodedata.category(c) for c in spelled - cf} <= {"Cn"}


def test_table_and_strip_agree_with_the_definition() -> None:
    codes = np.arange(sys.maxunicode + 1, dtype=np.uint32)
    expected = np.array([chr(code) in set(PADDING) for code in range(sys.maxunicode + 1)])
    np.testing.assert_array_equal(is_padding_table(codes), expected)
    assert strip_padding("\u200b Denver\ufeff\u2060 ") == (2, "Denver")
    assert strip_padding("Denver") == (0, "Denver")
    assert strip_padding("\u200b \u200d") == (3, "")
