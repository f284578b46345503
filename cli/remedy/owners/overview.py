"""`remedy owners`: every remediation's owners and where they come from, and the state of CODEOWNERS."""

from __future__ import annotations

from dataclasses import dataclass, field

from remedy.config import Config
from remedy.files.folder import display_path, load_folder
from remedy.json_fields import JSON_NAME
from remedy.owners.codeowners import WriteResult, codeowners_status, write_codeowners
from remedy.owners.resolve import owners_by_id

COLUMNS = ("id", "kind", "status", "owners", "from", "file")


@dataclass(frozen=True)
class OwnerRow:
    id: str
    kind: str
    status: str
    owners: tuple[str, ...]
    source: str | None  # "file", "config" or None (no owners anywhere)
    pattern: str | None  # the [owners] glob that decided, when source is "config"
    from_: str = field(metadata={JSON_NAME: "from"})  # where the owners come from, in words
    file: str = ""


@dataclass(frozen=True)
class OwnerTotals:
    remediations: int
    from_file: int
    from_config: int
    without_owners: int


@dataclass(frozen=True)
class CodeownersState:
    file: str
    state: str
    message: str


@dataclass(frozen=True)
class OwnersOverview:
    """`remedy owners`: the totals, every remediation's owners, and the state of CODEOWNERS (None: no owners)."""

    totals: OwnerTotals
    codeowners: CodeownersState | None
    remediations: tuple[OwnerRow, ...]


def owners_overview(config: Config) -> OwnersOverview:
    folder = load_folder(config.remediations_dir)
    ownership = owners_by_id(config, folder.remediations)
    rows = []
    for remediation in sorted(folder.remediations, key=lambda r: (r.kind, r.id)):
        found = ownership[remediation.id]
        rows.append(OwnerRow(id=remediation.id, kind=remediation.kind, status=remediation.status,
                             owners=tuple(found.owners), source=found.source, pattern=found.pattern,
                             from_=found.origin, file=display_path(remediation.path)))
    status = codeowners_status(config, folder.remediations)
    totals = OwnerTotals(remediations=len(rows),
                         from_file=sum(1 for row in rows if row.source == "file" and row.owners),
                         from_config=sum(1 for row in rows if row.source == "config" and row.owners),
                         without_owners=sum(1 for row in rows if not row.owners))
    codeowners = None if status is None else CodeownersState(display_path(status.path), status.state, status.message)
    return OwnersOverview(totals=totals, codeowners=codeowners, remediations=tuple(rows))


def write_owners(config: Config) -> WriteResult:
    folder = load_folder(config.remediations_dir)
    return write_codeowners(config, folder.remediations)
