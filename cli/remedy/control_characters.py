"""Control characters: the one definition of what must never reach a terminal raw, nor a served text.

Log exports and remediation files are written by other people. An escape sequence in a query or an
answer (ESC [ … m, a carriage return, a bell, a C1 code) would recolour, move the cursor over, or
retitle the terminal of whoever runs `remedy issues` or `remedy validate`, and would be served to
users verbatim. Newline and tab are text; on a terminal every other C0/C1 control, DEL and a lone
surrogate (which no terminal encoding can carry) is shown as its `\\uXXXX` escape instead. In JSON
output that is the very escape JSON uses, so a JSON reader gets the original string back.
"""

from __future__ import annotations

import re
import unicodedata

# In a remediation's text: NEL (U+0085) is a line break there, like LF (YAML reads it as one).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
# On a terminal: every C0/C1 control but LF and tab, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_OR_LAYOUT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def visible(text: str, *, one_line: bool = False) -> str:
    """`text` with control characters written as `\\uXXXX` (also newline and tab when `one_line`)."""
    pattern = _UNSAFE_OR_LAYOUT if one_line else _UNSAFE
    if not pattern.search(text):
        return text
    return pattern.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def describe(character: str) -> str:
    """`U+001B (ESCAPE)`-style name of a character for messages."""
    name = unicodedata.name(character, "") or _C0_NAMES.get(ord(character), "control character")
    return f"U+{ord(character):04X} ({name})"


_C0_NAMES = {0x00: "NUL", 0x07: "BELL", 0x08: "BACKSPACE", 0x0B: "VERTICAL TAB", 0x0C: "FORM FEED",
             0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x85: "NEXT LINE", 0x9B: "CSI"}
