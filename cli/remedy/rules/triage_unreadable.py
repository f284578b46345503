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

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.TRIAGE_UNREADABLE  # T001 (files/ reports it too)
NAME = "triage.unreadable"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.triage_problems(CODE, SEVERITY)
