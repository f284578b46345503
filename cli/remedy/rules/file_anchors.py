"""The file uses YAML anchors or aliases.

Anchors (`&name`) and aliases (`*name`) make a file hard to review and can expand into huge
values (a "YAML bomb"). Remediations are short: write each value out.

Bad:

    question: &q Can I get a refund?
    also_matches: [*q]

Good:

    question: Can I get a refund?
    also_matches: [can I have my money back]
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "F004"
NAME = "file.anchors"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    yield from (problem for problem in context.folder.file_problems if problem.code == CODE)
