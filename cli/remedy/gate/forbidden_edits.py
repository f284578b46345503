"""An answer that has prevented failures may not be deleted, nor have its question or answer rewritten.

Users were served that exact text for that question; the record of what was served must stay
readable. Pause it and add a new answer instead. Whether an answer "has prevented failures" is
known from the logs when `--logs` is given (at least one prevention); without logs, remedy assumes
it has once it was ever active (its base version is active or paused, or carries `activated`).
"""

from __future__ import annotations

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.files.remediation import Remediation
from remedy.gate.changes import Change
from remedy.problems import Problem

DELETED = "G001"
REWRITTEN = "G002"


def forbidden_edits(changes: list[Change], preventions: dict[str, int] | None) -> Iterator[Problem]:
    """Problems for deleted or rewritten answers that are protected (see the module docstring)."""
    for change in changes:
        old = change.base
        if old is None or old.kind != "answer" or not _protected(old, preventions):
            continue
        why = _why(old, preventions)
        if change.what == "removed":
            yield Problem(display_path(old.path), 1, 1, DELETED, "error",
                          f"answer '{old.id}' was deleted but {why}; restore it, set `status: paused` "
                          "(remedy pause) and add a new answer instead")
        elif change.what == "modified" and change.current is not None:
            for field, key in (("question", "question"), ("text", "answer")):
                if field in change.fields:
                    position = change.current.position(key)
                    yield Problem(display_path(change.current.path), position.line, position.column, REWRITTEN,
                                  "error", f"the {key} of answer '{old.id}' was changed but {why}; keep it as "
                                  "it was, pause it and add a new answer with the new text")
            if change.current.kind != old.kind:
                yield Problem(display_path(change.current.path), 1, 1, REWRITTEN, "error",
                              f"answer '{old.id}' became a {change.current.kind} but {why}")


def _protected(old: Remediation, preventions: dict[str, int] | None) -> bool:
    if preventions is not None:
        return preventions.get(old.id, 0) > 0
    return ever_active(old)


def ever_active(remediation: Remediation) -> bool:
    return remediation.status in ("active", "paused") or remediation.activated is not None


def _why(old: Remediation, preventions: dict[str, int] | None) -> str:
    if preventions is not None:
        count = preventions.get(old.id, 0)
        return f"it prevented {count} failure{'s' if count != 1 else ''} in the logs"
    return "it has been active (without --logs, remedy assumes it prevented failures)"
