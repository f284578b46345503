"""An answer that users were served (DESIGN: that has prevented failures) was deleted (`remedy check`).

Users were served that exact answer; the record of what was served must stay readable in the
repository. Whether it was served is known from the logs when `remedy check` gets `--logs` (at least
one serve; the message says how many, as "served N times", which counts serves, not failures
prevented); without logs, remedy assumes it was once it was ever active (its base version is active
or paused, or carries `activated`). A rename is not a deletion.

Bad: `git rm remediations/answers/wifi-on-board.yaml` for an answer that was active.

Good: set `status: paused` (`remedy pause wifi-on-board`) and add a new answer if one is needed.
"""

from __future__ import annotations

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.gate.forbidden_edits import protected, why_protected
from remedy.problems import Problem, as_severity
from remedy.rules.context import GateContext

CODE = "G001"
NAME = "gate.answer-deleted"
SEVERITY = "error"


def check(context: GateContext) -> Iterator[Problem]:
    for change in context.changes:
        old = change.base
        if change.what == "removed" and old is not None and protected(old, context.preventions):
            yield Problem(display_path(old.path), 1, 1, CODE, as_severity(SEVERITY),
                          f"answer '{old.id}' was deleted but {why_protected(old, context.preventions)}; restore "
                          "it, set `status: paused` (remedy pause) and add a new answer instead")
