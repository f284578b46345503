"""A triage file with a missing, unknown or malformed field.

A triage file holds `state` (open, assigned, addressed, no_action_needed, wont_fix), the
`queries` the decision applies to (a non-empty list), and optionally `assignee` (required when
the state is `assigned`), `note` and `representative`. Its name is the issue id. A file with a
problem is ignored by `remedy issues`, so the issue comes back to the queue until it is fixed.

Bad:

    state: assigend
    queries: []

Good:

    state: assigned
    assignee: "@alice"
    queries: [do i need a visa for a layover in doha]
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext, triage_problems

CODE = "T002"
NAME = "triage.schema"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return triage_problems(context, CODE, SEVERITY)
