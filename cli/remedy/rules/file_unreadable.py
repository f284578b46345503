"""The file cannot be read as text.

A remediation file must be a UTF-8 text file of at most 1 MB. Directories named like a file
(`refunds.yaml/`), symlink loops, unreadable permissions and binary files are reported here.

Bad: a file saved as UTF-16 or Latin-1 by a desktop editor, or a 10 MB export pasted by mistake.

Good: a small UTF-8 file, one remediation per file.
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "F001"
NAME = "file.unreadable"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    yield from (problem for problem in context.folder.file_problems if problem.code == CODE)
