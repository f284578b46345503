"""The question or answer of an answer that users were served was rewritten (`remedy check`).

Users asked that question and were served that text; changing either in place would make the
record say something was served that never was. The same protection as G001 applies (from
`--logs`, else: the answer was ever active). Editing other fields (status, `also_matches`, tags,
owners, a review date) is allowed, and so is turning a typo fix into a new answer.

Bad (in an answer that was active):

    answer: Cabin bags may be up to 56 x 45 x 25 cm.   # was 55 x 40 x 20 cm

Good: keep the old answer as it was and make the new text a new answer: `remedy new answer --from ID`
copies it as a draft (`replaces: ID`) to edit; pause the old one and activate the new one.

What proves an in-place edit safe: logs that cover the time the answer was active and show it was never
served (`remedy check --logs …`; in the workflow `remedy init` writes, the REMEDY_LOGS repository
variable). Without logs remedy cannot know, and assumes it was served.
"""

from __future__ import annotations

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.gate.forbidden_edits import protected, why_protected
from remedy.problems import Problem, as_severity
from remedy.rules.context import GateContext

CODE = "G002"
NAME = "gate.answer-rewritten"
SEVERITY = "error"


def check(context: GateContext) -> Iterator[Problem]:
    severity = as_severity(SEVERITY)
    for change in context.changes:
        old, new = change.base, change.current
        if change.what != "modified" or old is None or new is None or not protected(old, context.preventions):
            continue
        why = why_protected(old, context.preventions)
        instead = (f"keep it as it was and make the new text a new answer: `remedy new answer --from {old.id}` "
                   f"copies it as a draft to edit, then pause '{old.id}'")
        proof = ("" if context.preventions is not None else
                 "; to prove this edit safe instead, give the gate logs covering the time it was active that show "
                 "it was never served (`remedy check --logs …`, or the REMEDY_LOGS repository variable in the "
                 "workflow `remedy init` writes)")
        for field, key in (("question", "question"), ("text", "answer")):
            if field in change.fields:
                position = new.position(key)
                yield Problem(display_path(new.path), position.line, position.column, CODE, severity,
                              f"the {key} of answer '{old.id}' was changed but {why}; {instead}{proof}")
        if new.kind != old.kind:
            yield Problem(display_path(new.path), 1, 1, CODE, severity,
                          f"answer '{old.id}' became a {new.kind} but {why}")
