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

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.TRIAGE_SCHEMA  # T002 (files/ reports it too)
NAME = "triage.schema"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.triage_problems(CODE, SEVERITY)
