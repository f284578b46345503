"""An active remediation is past its `review_by` date.

Policies change; `review_by` is the SME's reminder to check the entry again. Update the text (or
confirm it) and move the date forward.

Bad (today is after the date):

    status: active
    review_by: 2024-01-31

Good:

    status: active
    review_by: 2027-06-30
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "L002"
NAME = "lifecycle.review-overdue"
SEVERITY = "warning"


def check(context: RuleContext) -> Iterator[Problem]:
    for remediation in context.folder.remediations:
        if remediation.status == "active" and remediation.review_by and remediation.review_by < context.today:
            yield context.problem(remediation, remediation.position("review_by"), CODE, SEVERITY,
                                  f"review_by {remediation.review_by.isoformat()} has passed: check the "
                                  "entry is still right and move the date forward")
