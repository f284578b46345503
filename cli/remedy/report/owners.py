"""`remedy owners` results for a person: the headline totals, and what `--write` did."""

from __future__ import annotations

from remedy.files.folder import display_path
from remedy.owners.codeowners import WriteResult
from remedy.owners.overview import COLUMNS, OwnersOverview
from remedy.report.tables import View, json_document


def owners_summary(report: OwnersOverview) -> str:
    totals, codeowners = report.totals, report.codeowners
    summary = (f"{totals.remediations} remediations: {totals.from_file} with their own owners, "
               f"{totals.from_config} from [owners], {totals.without_owners} without")
    return summary + (f"; {codeowners.file}: {codeowners.message}" if codeowners else "")


OWNERS = View(rows="remediations", columns=COLUMNS, headline=owners_summary)


def write_result(result: WriteResult, fmt: str) -> str:
    if fmt == "json":
        return json_document({"file": display_path(result.path), "result": result.outcome,
                              "entries": result.entries})
    if result.outcome == "nothing":
        return "no owners declared: nothing to write to CODEOWNERS\n"
    return f"{result.outcome} {display_path(result.path)} ({result.entries} line(s) in the remedy block)\n"
