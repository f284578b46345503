"""An answer or guidance longer than the configured limit.

Long verbatim answers are hard to review and rarely read to the end. The limit is
`max_answer_length` in the config (1,200 characters by default).

Bad: a whole policy page pasted into `answer:`.

Good: two to five sentences and a link to the full policy.
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "W004"
NAME = "lint.too-long"
SEVERITY = "warning"


def check(context: RuleContext) -> Iterator[Problem]:
    limit = context.config.max_answer_length
    for remediation in context.folder.remediations:
        if remediation.kind != "review" and len(remediation.text.strip()) > limit:
            yield context.problem(remediation, remediation.position(remediation.kind), CODE, SEVERITY,
                                  f"{remediation.kind} is {len(remediation.text.strip()):,} characters; "
                                  f"keep it under {limit:,} (max_answer_length) and link to the full text")
