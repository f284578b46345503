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

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "F002"
NAME = "file.yaml-syntax"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    yield from (problem for problem in context.folder.file_problems if problem.code == CODE)
