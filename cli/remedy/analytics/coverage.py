"""`remedy coverage`: per remediation its covered failures, covered logs and preventions; overall totals.

Each number is named for what it counts. `answers_served` (DESIGN's `preventions`, kept under that name
in JSON) counts the logs where the answer was served: 200 identical requests are 200 serves, not 200
failures prevented. `failures_prevented` counts only the serves where a failure was there to prevent:
the log itself says the response would have failed (it is a failure log: a platform that replaced a bad
response records that response's scores), or the same query failed on a log where no answer was served
(the assistant fails it). Both engines count it from the same partial sums (`coverage_partials`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from remedy.analytics.analysis import Analysis
from remedy.analytics.step import merge_sql
from remedy.analytics.tables import create_table, one_row
from remedy.config import Config
from remedy.errors import OutputError, UsageError
from remedy.files.atomic import replaced_atomically
from remedy.files.outputs import refuse_output_in_project, refuse_output_over_inputs
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
    preventions: int  # DESIGN 3.1's name for answers_served
    last_prevention: datetime.datetime | None  # the last serve
    answers_served: int = 0
    failures_prevented: int | None = None  # None: not computable here (--engine ray keeps no served logs)


@dataclass(frozen=True)
class Triaged:
    """Failures no remediation covers that a triage decision took out of the queue, by decision."""

    addressed: int
    no_action_needed: int
    wont_fix: int

    @property
    def total(self) -> int:
        return self.addressed + self.no_action_needed + self.wont_fix


@dataclass(frozen=True)
class CoverageReport:
    """`remedy coverage` (DESIGN 3.1): the log totals, the addressed shares, one row per remediation."""

    logs: LogTotals
    addressed_share: float | None
    by_status: ByStatus
    preventions_source: str
    unknown_served_ids: tuple[str, ...]
    remediations: tuple[CoverageRow, ...]
    triaged: Triaged | None = None  # beside the addressed share; None: not computable (--engine ray)


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


def coverage_counts_sql(analysis: Analysis, served: bool, *, status: str | None = None,
                        kind: str | None = None) -> str:
    """`coverage_rows_sql` with each number named for what it counts (CoverageRow's columns): the serves again
    as `answers_served`, and `failures_prevented` (NULL where not computable: `failures_prevented`)."""
    prevented = failures_prevented(analysis, served)
    create_table(analysis.con, "coverage_prevented", {"remediation_id": "VARCHAR", "n": "BIGINT"},
                 {"remediation_id": list(prevented or {}), "n": list((prevented or {}).values())})
    unknown = "true" if prevented is None else "false"
    return f"""
        SELECT c.*, c.preventions AS answers_served,
               CASE WHEN {unknown} THEN NULL WHEN c.kind = 'answer' THEN CAST(coalesce(p.n, 0) AS BIGINT) ELSE 0 END
                   AS failures_prevented
        FROM ({coverage_rows_sql(analysis, served, status=status, kind=kind)}) c
        LEFT JOIN coverage_prevented p ON p.remediation_id = c.id
        ORDER BY c.kind, c.id"""


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
    rows = [CoverageRow(*row) for row in con.execute(coverage_counts_sql(analysis, served, status=status, kind=kind),
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
        triaged=triaged_failures(analysis),
    )


SERVES_PARTIAL = "coverage_serves"


def coverage_partials() -> dict[str, str]:
    """The attribution step's extra partial for `failures_prevented` (AttributionStep's `partials`), so both
    engines count it from the same sums: serves per (answer, normalized query), and how many of them the
    log itself marks a failure; `source` says whether the export named the answer or it is inferred."""
    return {SERVES_PARTIAL: """
        SELECT served_remediation AS remediation_id, normalized_query, 'served' AS source, count(*) AS serves,
               count(*) FILTER (WHERE is_failure) AS failing
        FROM batch WHERE served_remediation IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT d.remediation_id, b.normalized_query, 'inferred' AS source, count(*) AS serves,
               count(*) FILTER (WHERE b.is_failure) AS failing
        FROM batch b JOIN decided d USING (normalized_query) JOIN remediations r ON r.id = d.remediation_id
        WHERE d.role = 'ever_active' AND r.activated IS NOT NULL AND b.ts >= r.activated GROUP BY ALL"""}


def _holds_failure_logs(analysis: Analysis) -> bool:
    """The log table holds every failure log (locally; on Ray when the driver was sent them)."""
    held = one_row(analysis.con, f"SELECT count(*) FROM {analysis.logs.table} WHERE is_failure")[0]
    return held == one_row(analysis.con, merge_sql("totals", analysis.attributions))[1]


def _has_table(analysis: Analysis, name: str) -> bool:
    return one_row(analysis.con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name", {"name": name})[0] > 0


def failures_prevented(analysis: Analysis, served: bool) -> dict[str, int] | None:
    """Per answer, the serves where a failure was there to prevent: the served log is itself a failure (the
    response it replaced would have failed), or the same normalized query failed on a log no answer was
    served on (the assistant fails it). None without the step's `coverage_partials` or the failure logs."""
    partial = f"{analysis.attributions}__{SERVES_PARTIAL}"
    if not _has_table(analysis, partial) or not _holds_failure_logs(analysis):
        return None
    return {str(k): int(v) for k, v in analysis.con.execute(f"""
        SELECT p.remediation_id, sum(CASE WHEN f.normalized_query IS NOT NULL THEN p.serves ELSE p.failing END)
        FROM (SELECT remediation_id, normalized_query, sum(serves) AS serves, sum(failing) AS failing
              FROM {partial} WHERE source = $source GROUP BY ALL) p
        LEFT JOIN (SELECT DISTINCT normalized_query FROM {analysis.logs.table}
                   WHERE is_failure AND served_remediation IS NULL) f USING (normalized_query)
        GROUP BY p.remediation_id""", {"source": "served" if served else "inferred"}).fetchall()}


def triaged_failures(analysis: Analysis) -> Triaged | None:
    """The failures no active or draft remediation covers that triage files take (as `remedy issues` assigns
    them), by the file's state: shown beside the addressed share, so decisions count somewhere."""
    from remedy.analytics.issue_queue import triaged_failure_counts

    if analysis.config is None or not _holds_failure_logs(analysis):
        return None
    counts = triaged_failure_counts(analysis)
    return Triaged(addressed=counts.get("addressed", 0), no_action_needed=counts.get("no_action_needed", 0),
                   wont_fix=counts.get("wont_fix", 0))


def check_attributions_path(path: Path, log_paths: Sequence[str], config: Config | None = None) -> None:
    """Before any work: the --attributions file has a known format, is none of the log files and is
    outside the project's own files (config, remediations, triage, caches)."""
    if _attribution_format(path) is None:
        raise UsageError(f"--attributions {path}: use a .jsonl or .parquet file name")
    refuse_output_over_inputs(path, [log_file.path for log_file in resolve_log_paths(log_paths, quiet=True)],
                              option="--attributions")
    if config is not None:
        refuse_output_in_project(path, config, option="--attributions")


def write_attributions(analysis: Analysis, path: Path) -> int:
    """One row per (log, attributed remediation), as .jsonl or .parquet, written atomically."""
    import duckdb

    check_attributions_path(path, analysis.logs.files, analysis.config)
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
