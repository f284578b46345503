"""The file cannot be read as text.

A remediation file must be a UTF-8 text file of at most 1 MB. Directories named like a file
(`refunds.yaml/`), symlink loops, unreadable permissions and binary files are reported here.

Bad: a file saved as UTF-16 or Latin-1 by a desktop editor, or a 10 MB export pasted by mistake.

Good: a small UTF-8 file, one remediation per file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy.problems import Problem

# The file reader (files/yaml_source.py, files/triage.py) imports this module for CODE: no runtime
# import of the reading code here, or the two would import each other.
if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = "F001"
NAME = "file.unreadable"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
