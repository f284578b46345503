"""Two active (or two draft) remediations of a kind share a question.

Only one **active** and one **draft** remediation of a kind may have the same normalized question
(Unicode NFKC, case-folded, whitespace collapsed, trailing punctuation dropped): otherwise which one
is served would be a coin toss. A draft rewrite of an active answer is fine; pause or delete one of
two actives.

Bad (two files, both active answers):

    question: Can I get a refund?
    question: can i get a refund

Good: one active, one draft with the same question.
"""

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.files.remediation import Remediation
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "L001"
NAME = "lifecycle.duplicate-question"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    first: dict[tuple[str, str, str], Remediation] = {}
    for remediation in context.folder.remediations:
        if remediation.status not in ("active", "draft"):
            continue
        key = (remediation.kind, remediation.status, remediation.normalized_question)
        if key in first:
            other = first[key]
            yield context.problem(remediation, remediation.position("question"), CODE, SEVERITY,
                                  f"{remediation.status} {remediation.kind}s '{remediation.id}' and '{other.id}' "
                                  f"({display_path(other.path)}) have the same question; only one "
                                  f"{remediation.status} {remediation.kind} per question")
        else:
            first[key] = remediation
