"""Which characters never start or end an answer: whitespace and invisible format characters.

A reader cannot see where an answer padded with a space, a zero-width space (U+200B), a zero-width joiner
(U+200D), a word joiner (U+2060) or a byte-order mark (U+FEFF) begins, and tokenizers give such characters
no token of their own or fold them into a neighbour. So one rule holds everywhere spanqa decides where an
answer's text begins and ends:

* the Aligner compares a gold answer with its label without the padding at the answer's edges
  (:mod:`spanqa.examples_reader`), so ``"\\u200bDenver"`` is labelled exactly as ``"Denver"`` is;
* token offsets are trimmed of it (:func:`spanqa.windows.normalise_offsets`), so a decoded answer never
  starts or ends with it;
* an answer with nothing but padding has no text to label, and the data layer drops it (``empty-text``).

Padding is :data:`WHITESPACE` (every character for which ``str.isspace()`` is true) plus
:data:`FORMAT_CHARACTERS` (Unicode general category Cf). Both are spelled out rather than computed, so
importing costs nothing; a test checks them against :mod:`unicodedata`. Gold texts themselves are never
changed for format characters: the official SQuAD scripts score ``"\\u200bDenver"`` and ``"Denver"`` as
different answers, and :mod:`spanqa.metrics` scores as they do.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FORMAT_CHARACTERS", "PADDING", "WHITESPACE", "is_padding_table", "strip_padding"]

#: Every character for which ``str.isspace()`` is true.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

#: Inclusive code point ranges of Unicode's format characters (category Cf) as of Unicode 15.1
#: (Python 3.13); U+13439-U+1343F became Cf in 15.0 and are unassigned in older tables.
_FORMAT_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
#: Every format character (category Cf): zero-width spaces and joiners, direction marks, the byte-order
#: mark, soft hyphens, tag characters.
FORMAT_CHARACTERS = "".join(chr(code) for low, high in _FORMAT_RANGES for code in range(low, high + 1))
#: What is trimmed from answer edges and token offsets.
PADDING = WHITESPACE + FORMAT_CHARACTERS

_LAST_CODE = max(map(ord, PADDING)) + 1
_TABLE = np.zeros(_LAST_CODE + 1, dtype=bool)
_TABLE[[ord(char) for char in PADDING]] = True
_TABLE.flags.writeable = False


def is_padding_table(codes: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """For an array of code points, whether each is padding (one table lookup, no Python loop)."""
    padding: npt.NDArray[np.bool_] = _TABLE[np.minimum(codes, _LAST_CODE)]
    return padding


def strip_padding(text: str) -> tuple[int, str]:
    """``(leading padding characters, text without padding at either edge)``."""
    stripped = text.strip(PADDING)
    return (len(text) - len(text.lstrip(PADDING)) if stripped else len(text)), stripped
