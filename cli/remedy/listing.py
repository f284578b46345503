"""`remedy list`: the remediations with status and dates, dates from git where the folder is in git."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from remedy.config import Config
from remedy.files.folder import display_path, load_folder
from remedy.files.git_history import folder_history

COLUMNS = ("id", "kind", "status", "file", "created", "updated", "updated_by", "owners")


@dataclass(frozen=True)
class ListedRemediation:
    id: str
    kind: str
    status: str
    file: str
    created: datetime.datetime | None  # from git where the folder is in git, else the file's own fields
    updated: datetime.datetime | None
    updated_by: str | None
    owners: tuple[str, ...]


@dataclass(frozen=True)
class RemediationList:
    """`remedy list` (DESIGN 3.1)."""

    remediations: tuple[ListedRemediation, ...]


def list_remediations(config: Config, *, status: str | None = None, kind: str | None = None,
                      owner: str | None = None) -> RemediationList:
    """`owner` keeps the entries whose owners (own key or [owners] default) include that handle."""
    from remedy.owners.resolve import owners_by_id

    folder = load_folder(config.remediations_dir)
    history = folder_history(config.remediations_dir)
    ownership = owners_by_id(config, folder.remediations)
    rows = []
    for remediation in sorted(folder.remediations, key=lambda r: (r.kind, r.id)):
        if (status and remediation.status != status) or (kind and remediation.kind != kind):
            continue
        if owner and not ownership[remediation.id].includes(owner):
            continue
        known = history.get(remediation.path.resolve())
        created = known.created if known else remediation.created
        updated = known.updated if known else remediation.updated
        rows.append(ListedRemediation(
            id=remediation.id, kind=remediation.kind, status=remediation.status,
            file=display_path(remediation.path), created=created, updated=updated,
            updated_by=known.updated_by if known else remediation.updated_by,
            owners=tuple(ownership[remediation.id].owners)))
    return RemediationList(tuple(rows))
