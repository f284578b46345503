"""The analyst's API: coverage, attributions and issues as polars DataFrames, for notebooks.

Each frame is one DuckDB query read as Arrow and handed to polars (`polars.from_arrow`), so a
million-row export never becomes Python objects row by row. The numbers are the CLI's: the same
analysis (`remedy.analytics.analysis.analyse`), the same SQL (`coverage_counts_sql`), the same issue
queue. Read the logs once with `load` and pass the result to every frame, or pass log paths and let
each function read them:

    from remedy.analytics import coverage_frame, issues_frame, load
    analysis = load("fixtures/logs.jsonl")
    coverage_frame(analysis).sort("covered_failures", descending=True).head()

docs/analytics.md shows a session on the demo.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedy.analytics.analysis import Analysis, analyse
from remedy.analytics.coverage import coverage_counts_sql, coverage_partials, register_remediations, uses_served_field
from remedy.analytics.tables import create_table
from remedy.config import load_config
from remedy.durations import parse_moment

if TYPE_CHECKING:
    import polars

LogSource = Analysis | str | Path | Sequence[str | Path]


def load(logs: str | Path | Sequence[str | Path], *, config: str | Path | None = None,
         remediations: str | Path | None = None, since: datetime.datetime | str | None = None,
         until: datetime.datetime | str | None = None, strict: bool = False) -> Analysis:
    """Read `logs` (paths or globs) and attribute them to the project's remediations, once.

    `config` is a remedy.toml (default: found from the working directory, as the CLI does),
    `remediations` overrides its folder; `since` / `until` as `--since` / `--until` (ISO 8601 text or
    a naive UTC datetime). The result feeds every `*_frame` function.
    """
    paths = [str(logs)] if isinstance(logs, (str, Path)) else [str(path) for path in logs]
    project = load_config(Path(config) if config is not None else None,
                          Path(remediations) if remediations is not None else None)
    since, until = (parse_moment(value) if isinstance(value, str) else value for value in (since, until))
    return analyse(project, paths, since=since, until=until, strict=strict, rows=True, partials=coverage_partials())


def coverage_frame(source: LogSource, *, status: str | None = None, kind: str | None = None) -> polars.DataFrame:
    """One row per remediation, as `remedy coverage`: id, kind, status, covered_failures, covered_logs,
    preventions, last_prevention, answers_served, failures_prevented (timestamps in every frame are UTC)."""
    analysis = _analysis(source)
    register_remediations(analysis)
    sql = coverage_counts_sql(analysis, uses_served_field(analysis), status=status, kind=kind)
    parameters = {name: value for name, value in (("status", status), ("kind", kind)) if value}
    return _frame(analysis, sql, parameters)


def attributions_frame(source: LogSource) -> polars.DataFrame:
    """One row per (log, attributed remediation), as `remedy coverage --attributions`, with the log's
    timestamp, query, failure flag, severity and primary issue beside it, in the export's order."""
    analysis = _analysis(source)
    rows = f"{analysis.attributions}__rows"
    if not _has_table(analysis, rows):
        raise ValueError("these attributions were computed without rows: use remedy.analytics.load(...)")
    return _frame(analysis, f"""
        SELECT a.log_id, l.ts AS timestamp, l.query, l.is_failure, l.severity, l.primary_issue,
               a.remediation_id, a.kind, a.status, a.similarity
        FROM {rows} a
        JOIN {analysis.logs.table} l USING (source_file, line_number)
        ORDER BY a.source_file, a.line_number, a.kind, a.status""")


def issues_frame(source: LogSource, *, status: str = "unaddressed", primary_issue: str | None = None,
                 states: Sequence[str] | str | None = None, assignee: str | None = None,
                 half_life: float | str | None = None, top: int | None = None) -> polars.DataFrame:
    """One row per issue, ranked by impact, as `remedy issues` (every issue unless `top`): rank, id, size,
    mean_severity, impact, primary_issue, representative_query, state, assignee, note, first_seen,
    last_seen, last_7_days, previous_7_days, distinct_queries, log_ids (a list).

    Filters as the command's options: `states` e.g. "open,assigned" or "all", `half_life` in seconds
    or as text ("14d", "inf").
    """
    from remedy.analytics.issue_queue import issue_queue, parse_states
    from remedy.durations import parse_duration

    analysis = _analysis(source)
    state_list = parse_states(states if isinstance(states, str) or states is None else ",".join(states))
    seconds = parse_duration(half_life) if isinstance(half_life, str) else half_life
    queue = issue_queue(analysis, status=status, primary_issue=primary_issue, top=top, states=state_list,
                        assignee=assignee, half_life=seconds).report()
    issues = queue.issues
    # The ranked list is small (one row per topic): it goes to DuckDB column-wise and comes back as Arrow,
    # with the same column types as the other frames.
    create_table(analysis.con, "issues_frame", ISSUE_COLUMNS, {
        "rank": [i.rank for i in issues], "id": [i.id for i in issues], "size": [i.size for i in issues],
        "mean_severity": [i.mean_severity for i in issues], "impact": [i.impact for i in issues],
        "primary_issue": [i.primary_issue for i in issues],
        "representative_query": [i.representative_query for i in issues], "state": [i.state for i in issues],
        "assignee": [i.assignee for i in issues], "note": [i.note for i in issues],
        "first_seen": [i.first_seen for i in issues], "last_seen": [i.last_seen for i in issues],
        "last_7_days": [i.trend.last_7_days for i in issues],
        "previous_7_days": [i.trend.previous_7_days for i in issues],
        "distinct_queries": [i.distinct_queries for i in issues], "log_ids": [list(i.log_ids) for i in issues]})
    return _frame(analysis, "SELECT * FROM issues_frame ORDER BY rank")


ISSUE_COLUMNS = {"rank": "INTEGER", "id": "VARCHAR", "size": "BIGINT", "mean_severity": "DOUBLE",
                 "impact": "DOUBLE", "primary_issue": "VARCHAR", "representative_query": "VARCHAR",
                 "state": "VARCHAR", "assignee": "VARCHAR", "note": "VARCHAR", "first_seen": "TIMESTAMP",
                 "last_seen": "TIMESTAMP", "last_7_days": "BIGINT", "previous_7_days": "BIGINT",
                 "distinct_queries": "BIGINT", "log_ids": "VARCHAR[]"}


def _analysis(source: LogSource) -> Analysis:
    return source if isinstance(source, Analysis) else load(source)


def _frame(analysis: Analysis, sql: str, parameters: dict[str, Any] | None = None) -> polars.DataFrame:
    """A DuckDB query's result as a polars DataFrame through Arrow (no Python row objects)."""
    import polars

    # A cursor of its own: the analysis' connection may hold a result the caller has not finished reading.
    cursor = analysis.con.cursor()
    try:
        frame = polars.from_arrow(cursor.sql(sql, params=parameters or None).arrow())
    finally:
        cursor.close()
    assert isinstance(frame, polars.DataFrame)
    # DuckDB holds timestamps as naive UTC: say so, so they compare and convert correctly.
    return frame.with_columns(polars.col(polars.Datetime).dt.replace_time_zone("UTC"))


def _has_table(analysis: Analysis, name: str) -> bool:
    found = analysis.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $name",
                                 {"name": name}).fetchone()
    return bool(found and found[0])

