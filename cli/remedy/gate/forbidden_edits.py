"""Which answers are protected: an answer that has prevented failures may not be deleted (G001), nor
have its question or answer rewritten (G002); the rules are rules/gate_answer_*.py.

Users were served that exact text for that question; the record of what was served must stay
readable. Pause it and add a new answer instead. Whether an answer "has prevented failures" is
known from the logs when `--logs` is given (at least one prevention); without logs, remedy assumes
it has once it was ever active (its base version is active or paused, or carries `activated`).
"""

from __future__ import annotations

from remedy.files.remediation import Remediation


def protected(old: Remediation, preventions: dict[str, int] | None) -> bool:
    """Whether the base version of an entry is an answer that may not be deleted or rewritten."""
    if old.kind != "answer":
        return False
    if preventions is not None:
        return preventions.get(old.id, 0) > 0
    return ever_active(old)


def ever_active(remediation: Remediation) -> bool:
    return remediation.status in ("active", "paused") or remediation.activated is not None


def why_protected(old: Remediation, preventions: dict[str, int] | None) -> str:
    if preventions is not None:
        count = preventions.get(old.id, 0)
        return f"it was served {count} time{'s' if count != 1 else ''} in the logs (users were given it)"
    return "it has been active (without --logs, remedy assumes it prevented failures)"
