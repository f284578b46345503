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

from remedy.problems import Problem

# The file reader (files/yaml_source.py, files/triage.py) imports this module for CODE: no runtime
# import of the reading code here, or the two would import each other.
if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = "F002"
NAME = "file.yaml-syntax"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
