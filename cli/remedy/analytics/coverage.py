"""`remedy coverage`: per remediation its covered failures, covered logs and preventions; overall totals."""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from remedy.analytics.analysis import Analysis
from remedy.analytics.step import merge_sql
from remedy.analytics.tables import create_table, one_row
from remedy.errors import OutputError, UsageError
from remedy.files.atomic import remove_stale_temporaries, temporary_beside
from remedy.files.outputs import refuse_output_over_inputs
from remedy.logs.reading import resolve_log_paths

PREVENTIONS_SERVED = "served_remediation"
PREVENTIONS_INFERRED = "inferred: logs after `activated` that the answer matches"


def register_remediations(analysis: Analysis) -> None:
    """A small `remediations` table (id, kind, status, activated) to join against."""
    entries = list(analysis.folder.remediations.values())
    create_table(analysis.con, "remediations", {"id": "VARCHAR", "kind": "VARCHAR", "status": "VARCHAR",
                                                "activated": "TIMESTAMP"},
                 {"id": [r.id for r in entries], "kind": [r.kind for r in entries],
                  "status": [r.status for r in entries],
                  "activated": [r.activated.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                                if r.activated else None for r in entries]})


def prevention_logs_sql(analysis: Analysis, served: bool) -> str:
    """SQL: one row per prevention (remediation_id, ts, is_failure, source_file, line_number).

    `served`: the export names the answer served; else inferred from the `ever_active` attributions
    after each answer's `activated` time (needs the `remediations` table: `register_remediations`).
    """
    logs = analysis.logs.table
    if served:
        return f"""SELECT served_remediation AS remediation_id, ts, is_failure, source_file, line_number
                   FROM {logs} WHERE served_remediation IS NOT NULL"""
    return f"""SELECT a.remediation_id, l.ts, l.is_failure, l.source_file, l.line_number
               FROM {logs} l JOIN {analysis.attributions} a USING (normalized_query)
               JOIN remediations r ON r.id = a.remediation_id
               WHERE a.role = 'ever_active' AND r.activated IS NOT NULL AND l.ts >= r.activated"""


@dataclass(frozen=True)
class LogTotals:
    total: int
    failures: int
    addressed_failures: int
    unaddressed_failures: int
    skipped_lines: int


@dataclass(frozen=True)
class StatusShare:
    addressed_failures: int
    share: float | None  # of all failures; None without failures


@dataclass(frozen=True)
class ByStatus:
    active: StatusShare
    draft_only: StatusShare  # failures only a draft covers


@dataclass(frozen=True)
class CoverageRow:
    id: str
    kind: str
    status: str
    covered_failures: int
    covered_logs: int
    preventions: int
    last_prevention: datetime.datetime | None


@dataclass(frozen=True)
class CoverageReport:
    """`remedy coverage` (DESIGN 3.1): the log totals, the addressed shares, one row per remediation."""

    logs: LogTotals
    addressed_share: float | None
    by_status: ByStatus
    preventions_source: str
    unknown_served_ids: tuple[str, ...]
    remediations: tuple[CoverageRow, ...]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def coverage_report(analysis: Analysis, *, status: str | None = None, kind: str | None = None) -> CoverageReport:
    """The coverage numbers: the attribution step's partial aggregates summed with DuckDB (remedy.analytics.step)."""
    con, prefix = analysis.con, analysis.attributions
    register_remediations(analysis)  # the report joins against it too
    total, failures, addressed, addressed_active = one_row(con, merge_sql("totals", prefix))
    merged = {row[0]: row[1:] for row in con.execute(merge_sql("covered", prefix)).fetchall()}
    covered = {key: (int(value[0]), int(value[1])) for key, value in merged.items()}
    served_rows = con.execute(merge_sql("served", prefix)).fetchall()
    served = bool(served_rows)
    if served:
        preventions = {row[0]: (int(row[1]), row[2]) for row in served_rows}
    else:
        preventions = {key: (int(value[2]), value[3]) for key, value in merged.items() if value[2]}
    rows = []
    for remediation in sorted(analysis.folder.remediations.values(), key=lambda r: (r.kind, r.id)):
        if (status and remediation.status != status) or (kind and remediation.kind != kind):
            continue
        covered_failures, covered_logs = covered.get(remediation.id, (0, 0))
        prevented, last = preventions.get(remediation.id, (0, None)) if remediation.kind == "answer" else (0, None)
        rows.append(CoverageRow(remediation.id, remediation.kind, remediation.status, covered_failures,
                                covered_logs, prevented, last))
    unknown_served = sorted(set(preventions) - set(analysis.folder.remediations)) if served else []
    return CoverageReport(
        logs=LogTotals(total=total, failures=failures, addressed_failures=addressed,
                       unaddressed_failures=failures - addressed, skipped_lines=analysis.logs.skipped_lines),
        addressed_share=_share(addressed, failures),
        by_status=ByStatus(active=StatusShare(addressed_active, _share(addressed_active, failures)),
                           draft_only=StatusShare(addressed - addressed_active,
                                                  _share(addressed - addressed_active, failures))),
        preventions_source=PREVENTIONS_SERVED if served else PREVENTIONS_INFERRED,
        unknown_served_ids=tuple(unknown_served),
        remediations=tuple(rows),
    )


def check_attributions_path(path: Path, log_paths: Sequence[str]) -> None:
    """Before any work: the --attributions file has a known format and is none of the log files."""
    if _attribution_format(path) is None:
        raise UsageError(f"--attributions {path}: use a .jsonl or .parquet file name")
    refuse_output_over_inputs(path, [log_file.path for log_file in resolve_log_paths(log_paths, quiet=True)],
                              option="--attributions")


def write_attributions(analysis: Analysis, path: Path) -> int:
    """One row per (log, attributed remediation), as .jsonl or .parquet, written atomically."""
    import duckdb

    check_attributions_path(path, analysis.logs.files)
    query = f"""SELECT log_id, remediation_id, kind, status, round(similarity, 4) AS similarity
                FROM {analysis.attributions}__rows
                ORDER BY source_file, line_number, log_id, kind, status"""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent)
        with temporary_beside(path) as temporary:
            target = str(temporary).replace("'", "''")
            analysis.con.execute(f"COPY ({query}) TO '{target}' ({_attribution_format(path)})")
            os.replace(temporary, path)
    except (OSError, duckdb.IOException) as error:  # a full disk, a missing or read-only folder
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error).splitlines()[0]
        raise OutputError(f"--attributions {path}: cannot be written ({reason})") from None
    return one_row(analysis.con, f"SELECT count(*) FROM ({query})")[0]


def _attribution_format(path: Path) -> str | None:
    return {".jsonl": "FORMAT json", ".parquet": "FORMAT parquet"}.get(path.suffix.lower())
