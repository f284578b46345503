"""The file cannot be read as text.

A remediation file must be a UTF-8 text file of at most 1 MB. Directories named like a file
(`refunds.yaml/`), symlink loops, unreadable permissions and binary files are reported here.

Bad: a file saved as UTF-16 or Latin-1 by a desktop editor, or a 10 MB export pasted by mistake.

Good: a small UTF-8 file, one remediation per file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.FILE_UNREADABLE  # F001 (files/ reports it too)
NAME = "file.unreadable"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
