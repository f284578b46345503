"""A key appears twice in one file.

YAML keeps only the last of two equal keys, so the first value is silently lost. Usually a paste
gone wrong.

Bad:

    question: Can I get a refund?
    question: Can I get my money back?

Good:

    question: Can I get a refund?
    also_matches:
      - Can I get my money back?
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "F005"
NAME = "file.duplicate-key"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        for key, position in document.duplicate_keys:
            first = document.key_positions[key]
            yield context.problem(document, position, CODE, SEVERITY,
                                  f"duplicate key '{key}' (first at line {first.line}); YAML keeps only one")
