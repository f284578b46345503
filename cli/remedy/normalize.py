"""Question normalization: the one definition of "the same question" (DESIGN 2.1)."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# The ASCII characters `_strip_trailing_punctuation` drops from the end: punctuation (P*) and white space.
_ASCII_TRAILING = "".join(c for c in map(chr, range(128)) if unicodedata.category(c).startswith("P") or c.isspace())


def normalize_question(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed, trailing punctuation dropped.

    Idempotent: normalize_question(normalize_question(x)) == normalize_question(x).
    """
    if text.isascii():  # NFKC and case folding change no ASCII character but upper case: the same result, faster
        text = text.lower()
        # printable ASCII has no white space but " ": without a double space there is nothing to collapse
        if not text.isprintable() or "  " in text:
            text = _WHITESPACE.sub(" ", text)
        return text.strip().rstrip(_ASCII_TRAILING)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _WHITESPACE.sub(" ", text).strip()
    text = _strip_trailing_punctuation(text)
    # casefold after NFKC can produce non-NFKC text in rare cases (e.g. "ǰ"); repeat until stable.
    again = unicodedata.normalize("NFKC", text).casefold()
    return text if again == text else normalize_question(again)


def _strip_trailing_punctuation(text: str) -> str:
    # Trailing punctuation carries no meaning for identity: "Refund?" and "refund" are one question.
    end = len(text)
    while end and (unicodedata.category(text[end - 1]).startswith("P") or text[end - 1].isspace()):
        end -= 1
    return text[:end]


_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """`text` with lone UTF-16 surrogates (from `json.loads('"\\ud800"')` or undecodable command-line
    bytes) replaced by U+FFFD, so it can be encoded as UTF-8 and tokenized; other text is returned as is."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
