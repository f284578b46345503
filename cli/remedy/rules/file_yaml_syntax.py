"""The file is not valid YAML.

YAML syntax errors: tabs used for indentation, an unclosed quote, a bad indent, two documents in one
file. The message gives the line and column where the parser stopped.

Bad (the quote is never closed):

    question: "Can I get a refund?
    answer: Yes.

Good:

    question: "Can I get a refund?"
    answer: Yes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.FILE_YAML_SYNTAX  # F002 (files/ reports it too)
NAME = "file.yaml-syntax"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
