"""The report's partial aggregates per time slice: its periods are cut after one scan, on either engine.

`remedy report` compares a period with the previous one of the same length, and charts days, weeks
or months. Its numbers used to come from SQL over the whole log table, which the Ray engine's driver
does not hold. Instead the attribution step (on every batch, locally or on a Ray worker) adds three
partials keyed by **slice**, a stretch of time short enough that every window's bounds fall on slice
boundaries: a day, unless `--since`/`--until` have a time of day, then the largest step that divides
both times and the day (12:00 gives half days, 06:30 half hours). The bounds are `since`, `until`
(or the midnight after the newest log) and `since - (until - since)`: all multiples of that step
after midnight, so any of the report's windows and buckets is a union of whole slices.

The slice partials have the columns of the step's `by_day`, `by_remediation` and `by_served`
(plus `slice` and the prevented failures), so a window's tables are a filter of them, and
`coverage_report` and the issue queue read them as they read the whole export's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from remedy.analytics.analysis import Analysis
from remedy.analytics.step import ADDRESSED_QUERIES_SQL
from remedy.analytics.tables import one_row

DAY_MICROSECONDS = 86_400_000_000
# name of the step's output -> the name of the partial it stands in for within a window
WINDOW_TABLES = {"slices": "by_day", "slice_remediations": "by_remediation", "slice_served": "by_served"}
_ADDRESSED = "role IN ('active', 'draft')"
_INFERRED = "d.role = 'ever_active' AND r.activated IS NOT NULL AND b.ts >= r.activated"


def slice_microseconds(*moments: dt.datetime | None) -> int:
    """The longest slice (a divisor of a day, in microseconds) on whose boundaries every window bound falls."""
    grain = DAY_MICROSECONDS
    for moment in moments:
        if moment is not None:
            grain = math.gcd(grain, (moment - moment.replace(hour=0, minute=0, second=0, microsecond=0))
                             // dt.timedelta(microseconds=1))
    return grain


def slice_partials(grain: int) -> dict[str, str]:
    """The step's extra partials (AttributionStep's `partials`): per slice of `grain` microseconds."""
    start = f"make_timestamp(epoch_us(b.ts) // {int(grain)} * {int(grain)})"
    return {
        "slices": f"""
            WITH q AS ({ADDRESSED_QUERIES_SQL})
            SELECT {start} AS slice, count(*) AS logs, count(*) FILTER (WHERE b.is_failure) AS failures,
                   count(*) FILTER (WHERE b.is_failure AND q.addressed) AS addressed_failures,
                   count(*) FILTER (WHERE b.is_failure AND q.addressed_active) AS addressed_active_failures,
                   max(b.ts) AS newest
            FROM batch b LEFT JOIN q USING (normalized_query) GROUP BY ALL""",
        "slice_remediations": f"""
            SELECT {start} AS slice, d.remediation_id,
                   count(*) FILTER (WHERE d.{_ADDRESSED} AND b.is_failure) AS covered_failures,
                   count(*) FILTER (WHERE d.{_ADDRESSED}) AS covered_logs,
                   count(*) FILTER (WHERE {_INFERRED}) AS inferred_preventions,
                   count(*) FILTER (WHERE {_INFERRED} AND b.is_failure) AS inferred_prevented_failures,
                   max(b.ts) FILTER (WHERE {_INFERRED}) AS last_inferred
            FROM batch b JOIN decided d USING (normalized_query) JOIN remediations r ON r.id = d.remediation_id
            GROUP BY ALL""",
        "slice_served": f"""
            SELECT {start} AS slice, served_remediation, count(*) AS preventions,
                   count(*) FILTER (WHERE is_failure) AS prevented_failures, max(ts) AS last_prevention
            FROM batch b WHERE served_remediation IS NOT NULL GROUP BY ALL""",
    }


def window_analysis(analysis: Analysis, since: dt.datetime | None, until: dt.datetime | None,
                    name: str) -> Analysis:
    """`analysis` restricted to [since, until): a view of its log table and the window's partials.

    Its attributions table `{name}_attributions` is a view of the decisions (they do not depend on
    time) and `{name}_attributions__by_day` / `__by_remediation` / `__by_served` are the slices inside
    the window, so every reader of the whole export's partials reads the window's the same way."""
    con, source = analysis.con, analysis.attributions
    bounds = " AND ".join(f"{{column}} {operator} TIMESTAMP '{moment.isoformat()}'"
                          for operator, moment in ((">=", since), ("<", until)) if moment is not None) or "true"
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {analysis.logs.table} "
                f"WHERE {bounds.format(column='ts')}")
    prefix = f"{name}_attributions"
    con.execute(f"CREATE OR REPLACE VIEW {prefix} AS SELECT * FROM {source}")
    for output, stands_for in WINDOW_TABLES.items():
        con.execute(f"CREATE OR REPLACE TABLE {prefix}__{stands_for} AS SELECT * FROM {source}__{output} "
                    f"WHERE {bounds.format(column='slice')}")
    rows = one_row(con, f"SELECT coalesce(sum(logs), 0) FROM {prefix}__by_day")[0]
    return dataclasses.replace(analysis, logs=dataclasses.replace(analysis.logs, table=name, rows=int(rows)),
                               attributions=prefix)


def preventions_sql(analysis: Analysis, served: bool) -> str:
    """SQL: the answers' preventions per slice (remediation_id, slice, preventions, prevented_failures) in
    `analysis`' window: from `served_remediation` when `served`, else inferred (as `coverage`)."""
    prefix = analysis.attributions
    if served:
        source = f"""SELECT served_remediation AS remediation_id, slice, preventions, prevented_failures
                     FROM {prefix}__by_served"""
    else:
        source = f"""SELECT remediation_id, slice, inferred_preventions AS preventions,
                            inferred_prevented_failures AS prevented_failures
                     FROM {prefix}__by_remediation WHERE inferred_preventions > 0"""
    return f"""SELECT * FROM ({source}) WHERE remediation_id IN (SELECT id FROM remediations WHERE kind = 'answer')"""


def log_span(analysis: Analysis) -> tuple[dt.date | None, dt.datetime | None]:
    """The day of the oldest log and the newest plausible log (`Analysis.now`), from the step's partials (no
    log table needed)."""
    oldest = one_row(analysis.con, f"SELECT min(day) FROM {analysis.attributions}__by_day")[0]
    return oldest, analysis.now
