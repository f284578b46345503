"""`remedy coverage`: per remediation its covered failures, covered logs and preventions; overall totals."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from remedy.analytics.analysis import Analysis
from remedy.analytics.step import merge_sql
from remedy.analytics.tables import create_table, one_row
from remedy.errors import OutputError, UsageError
from remedy.files.atomic import replaced_atomically
from remedy.files.outputs import refuse_output_over_inputs
from remedy.logs.reading import resolve_log_paths
from remedy.sql import sql_string

PREVENTIONS_SERVED = "served_remediation"
PREVENTIONS_INFERRED = "inferred: logs after `activated` that the answer matches"


def register_remediations(analysis: Analysis) -> None:
    """A small `remediations` table (id, kind, status, activated) to join against."""
    entries = list(analysis.matcher.by_id.values())
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


def uses_served_field(analysis: Analysis) -> bool:
    """Preventions come from `served_remediation` when the export records it in any row, else are inferred."""
    return one_row(analysis.con, f"SELECT count(*) FROM ({merge_sql('served', analysis.attributions)})")[0] > 0


def coverage_rows_sql(analysis: Analysis, served: bool, *, status: str | None = None,
                      kind: str | None = None) -> str:
    """SQL: one row per remediation (CoverageRow's columns), by kind and id; $status and $kind filter when given.

    Needs the `remediations` table (`register_remediations`). Only answers prevent failures: from the
    logs' `served_remediation` when `served`, else inferred (`prevention_logs_sql`).
    """
    prefix = analysis.attributions
    prevented, last = ("s.preventions", "s.last_prevention") if served else ("c.inferred", "c.last_inferred")
    where = " AND ".join(condition for condition, given in (("r.status = $status", status), ("r.kind = $kind", kind))
                         if given) or "true"
    return f"""
        SELECT r.id, r.kind, r.status,
               CAST(coalesce(c.covered_failures, 0) AS BIGINT) AS covered_failures,
               CAST(coalesce(c.covered_logs, 0) AS BIGINT) AS covered_logs,
               CAST(CASE WHEN r.kind = 'answer' THEN coalesce({prevented}, 0) ELSE 0 END AS BIGINT) AS preventions,
               CASE WHEN r.kind = 'answer' AND coalesce({prevented}, 0) > 0 THEN {last} END AS last_prevention
        FROM remediations r
        LEFT JOIN ({merge_sql("covered", prefix)})
            AS c(remediation_id, covered_failures, covered_logs, inferred, last_inferred) ON c.remediation_id = r.id
        LEFT JOIN ({merge_sql("served", prefix)})
            AS s(served_remediation, preventions, last_prevention) ON s.served_remediation = r.id
        WHERE {where}
        ORDER BY r.kind, r.id"""


def _filters(status: str | None, kind: str | None) -> dict[str, str]:
    return {name: value for name, value in (("status", status), ("kind", kind)) if value}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def coverage_report(analysis: Analysis, *, status: str | None = None, kind: str | None = None) -> CoverageReport:
    """The coverage numbers: the attribution step's partial aggregates summed with DuckDB (remedy.analytics.step)."""
    con, prefix = analysis.con, analysis.attributions
    register_remediations(analysis)  # the report joins against it too
    total, failures, addressed, addressed_active = one_row(con, merge_sql("totals", prefix))
    served = uses_served_field(analysis)
    rows = [CoverageRow(*row) for row in con.execute(coverage_rows_sql(analysis, served, status=status, kind=kind),
                                                      _filters(status, kind)).fetchall()]
    unknown_served = [row[0] for row in con.execute(f"""
        SELECT served_remediation FROM ({merge_sql("served", prefix)}) AS s(served_remediation, n, last)
        WHERE served_remediation NOT IN (SELECT id FROM remediations) ORDER BY 1""").fetchall()]
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
        with replaced_atomically(path) as temporary:
            analysis.con.execute(f"COPY ({query}) TO {sql_string(str(temporary))} ({_attribution_format(path)})")
    except (OSError, duckdb.IOException) as error:  # a full disk, a missing or read-only folder
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error).splitlines()[0]
        raise OutputError(f"--attributions {path}: cannot be written ({reason})") from None
    return one_row(analysis.con, f"SELECT count(*) FROM ({query})")[0]


def _attribution_format(path: Path) -> str | None:
    return {".jsonl": "FORMAT json", ".parquet": "FORMAT parquet"}.get(path.suffix.lower())
