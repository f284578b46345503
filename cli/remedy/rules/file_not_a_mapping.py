"""The file is not a mapping of fields.

A remediation is a YAML mapping (`kind: …`, `id: …`). An empty file, a list, or a single value is
refused.

Bad:

    - kind: answer
    - id: refund-policy

Good:

    kind: answer
    id: refund-policy
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "F003"
NAME = "file.not-a-mapping"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    yield from (problem for problem in context.folder.file_problems if problem.code == CODE)
