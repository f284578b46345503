"""A triage file that cannot be read as a YAML mapping.

Triage files (`triage/<issue-id>.yaml`, written by `remedy triage`) are YAML mappings like
remediations; a syntax error, an empty file or a list instead of a mapping makes remedy ignore
the decision, so the issue would come back to the queue.

Bad:

    state: wont_fix
    queries: [do i need a visa

Good:

    state: wont_fix
    queries: [do i need a visa]
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext, triage_problems

CODE = "T001"
NAME = "triage.unreadable"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return triage_problems(context, CODE, SEVERITY)
