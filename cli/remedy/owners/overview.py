"""`remedy owners`: every remediation's owners and where they come from, and the state of CODEOWNERS."""

from __future__ import annotations

from typing import Any

from remedy.config import Config
from remedy.files.folder import display_path, load_folder
from remedy.owners.codeowners import WriteResult, codeowners_status, write_codeowners
from remedy.owners.resolve import owners_by_id

COLUMNS = ("id", "kind", "status", "owners", "from", "file")


def owners_overview(config: Config) -> dict[str, Any]:
    folder = load_folder(config.remediations)
    ownership = owners_by_id(config, folder.remediations)
    rows = []
    for remediation in sorted(folder.remediations, key=lambda r: (r.kind, r.id)):
        found = ownership[remediation.id]
        rows.append({"id": remediation.id, "kind": remediation.kind, "status": remediation.status,
                     "owners": list(found.owners), "source": found.source, "pattern": found.pattern,
                     "from": found.origin, "file": display_path(remediation.path)})
    status = codeowners_status(config, folder.remediations)
    totals = {"remediations": len(rows),
              "from_file": sum(1 for row in rows if row["source"] == "file" and row["owners"]),
              "from_config": sum(1 for row in rows if row["source"] == "config" and row["owners"]),
              "without_owners": sum(1 for row in rows if not row["owners"])}
    return {"totals": totals, "remediations": rows,
            "codeowners": None if status is None else {"file": display_path(status.path), "state": status.state,
                                                       "message": status.message}}


def write_owners(config: Config) -> WriteResult:
    folder = load_folder(config.remediations)
    return write_codeowners(config, folder.remediations)
