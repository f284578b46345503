"""What a change did to each remediation, by id: added, removed, modified, renamed (moved) or unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from remedy.files.folder import Folder
from remedy.files.remediation import Remediation

COMPARED = ("kind", "status", "question", "text", "verdict", "note", "also_matches", "must_not_match",
            "threshold", "tags", "owners", "review_by", "activated", "source_logs",
            "replaces")


@dataclass(frozen=True)
class Change:
    id: str
    what: str  # added | removed | modified | unchanged
    fields: tuple[str, ...]  # the compared fields that differ ("text" is the answer / guidance / response)
    base: Remediation | None
    current: Remediation | None

    @property
    def moved(self) -> bool:
        """Same id, another path: a rename, never a deletion."""
        return bool(self.base and self.current and self.base.path.resolve() != self.current.path.resolve())


def compare(base: Folder, current: Folder) -> list[Change]:
    before, after = base.by_id(), current.by_id()
    changes = []
    for remediation_id in sorted(before.keys() | after.keys()):
        old, new = before.get(remediation_id), after.get(remediation_id)
        if old is None:
            changes.append(Change(remediation_id, "added", (), None, new))
        elif new is None:
            changes.append(Change(remediation_id, "removed", (), old, None))
        else:
            fields = tuple(name for name in COMPARED if getattr(old, name) != getattr(new, name))
            changes.append(Change(remediation_id, "modified" if fields else "unchanged", fields, old, new))
    return changes

