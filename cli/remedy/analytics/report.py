"""`remedy report`: everything the analytics page shows, aggregated once into frozen dataclasses.

The logs are read once (up to `--until`) and attributed once; the attribution step adds partials
per time slice (`remedy.analytics.report_slices`), so the period (`--since` to `--until`, default
the whole export) and the previous period of the same length are filters of those partials, on the
local engine and on Ray (`--engine ray`) alike. Every number of the period comes from the same core
functions as `remedy coverage` and `remedy issues` (`coverage_report`, `rank_issues`,
`draft_for_issue`), so the page and the commands agree. What needs log rows reads failure logs
(root causes, the queue, near misses: both engines have them on the driver), except the queue's
drafts, which count every spelling of their queries: the Ray engine fetches those rows in a second,
filtering pass. Only aggregates leave DuckDB, and long lists are cut here (the page
says how many more there are and which command lists them all), so a million log rows and a
thousand remediations make a page of a few hundred kilobytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from remedy.analytics.analysis import Analysis, analyse, attribute
from remedy.analytics.coverage import CoverageReport, coverage_report
from remedy.analytics.drafts import draft_for_issue
from remedy.analytics.github_links import check_repo_url, github_new_file_url, web_repo_url
from remedy.analytics.issue_queue import Trend, addressed_sql, issue_queue, scaffold_drafts, spellings
from remedy.analytics.report_slices import (
    log_span,
    preventions_sql,
    slice_microseconds,
    slice_partials,
    window_analysis,
)
from remedy.analytics.tables import create_table, one_row
from remedy.config import Config
from remedy.files.folder import load_folder
from remedy.files.git_history import folder_history
from remedy.files.scaffold import draft_file, taken_ids
from remedy.git import git_output, repository_root
from remedy.json_fields import OMIT_NONE
from remedy.logs.project import read_project_logs
from remedy.matching.settings_origin import settings_origin

# How many rows the page shows before an "N more" line.
MAX_REMEDIATIONS = 100
MAX_TOP = 10
MAX_NEVER_MATCHED = 50
MAX_NEAR_MISSES = 20
SAMPLE_QUERIES = 5
SAMPLE_RESPONSES = 3
# A near miss: an unaddressed failure whose best answer is at most this far below that answer's threshold.
NEAR_MISS_BAND = 0.05
NEAR_MISS_BLOCK = 1024
# Buckets of the over-time chart: days up to this many days, weeks up to the next, months beyond.
DAY_BUCKETS_UP_TO = 62
WEEK_BUCKETS_UP_TO = 730


@dataclass(frozen=True)
class Window:
    since: dt.datetime | None  # inclusive; None: no logs
    until: dt.datetime | None  # exclusive


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    value: float | int | None
    previous: float | int | None  # the previous period of the same length; None when there is none
    is_share: bool = False
    # Which way is good news: "up" (preventions, addressed share), "down" (failures, bad responses served),
    # or None (queries: more traffic is neither). The page colours a change by this, not by its sign.
    better: str | None = None
    change: float | None = field(init=False)  # value - previous; derived, kept as data for the JSON

    def __post_init__(self) -> None:
        change = None if self.value is None or self.previous is None else round(self.value - self.previous, 4)
        object.__setattr__(self, "change", change)


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime
    queries: int
    failures: int
    prevented: int
    addressed_failures: int
    addressed_share: float | None = field(init=False)

    def __post_init__(self) -> None:
        share = round(self.addressed_failures / self.failures, 4) if self.failures else None
        object.__setattr__(self, "addressed_share", share)


@dataclass(frozen=True)
class RootCause:
    primary_issue: str
    failures: int
    addressed: int
    unaddressed: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unaddressed", self.failures - self.addressed)


@dataclass(frozen=True)
class RemediationRow:
    id: str
    kind: str
    status: str
    file: str
    owners: tuple[str, ...]
    covered_failures: int
    covered_logs: int
    preventions: int
    last_prevention: dt.datetime | None
    created: dt.datetime | None
    updated: dt.datetime | None
    updated_by: str | None
    created_by: str | None
    edited_by: tuple[str, ...]  # authors of later commits (git)
    preventions_by_bucket: tuple[int, ...]  # aligned with Report.over_time


@dataclass(frozen=True)
class Contribution:
    author: str
    created: int
    edited: int
    preventions: int  # preventions of the answers this author created


@dataclass(frozen=True)
class Sample:
    log_id: str
    timestamp: dt.datetime
    severity: float
    query: str
    response: str | None


@dataclass(frozen=True)
class QueueItem:
    rank: int
    id: str
    size: int
    mean_severity: float
    impact: float
    primary_issue: str
    representative_query: str
    trend: str  # failures in the last 7 days against the 7 before, in words
    failures_by_bucket: tuple[int, ...]
    queries: tuple[str, ...]
    samples: tuple[Sample, ...]
    draft_path: str  # relative to the repository root (or the project root outside git)
    draft_yaml: str  # exactly what `remedy new answer --from-issue ID --logs …` writes
    github_url: str | None
    # The triage state and dates `remedy issues` gives; in JSON only when known.
    state: str = "open"
    assignee: str | None = field(default=None, metadata={OMIT_NONE: True})
    first_seen: dt.datetime | None = field(default=None, metadata={OMIT_NONE: True})
    last_seen: dt.datetime | None = field(default=None, metadata={OMIT_NONE: True})
    # The expert's topic files that split, merged or moved queries of it (issue 33), with their notes.
    regrouped_by: str | None = field(default=None, metadata={OMIT_NONE: True})

    @property
    def extra(self) -> tuple[tuple[str, Any], ...]:
        """The known ones of assignee, first_seen, last_seen, state, regrouped_by, as (name, value)."""
        return tuple((key, getattr(self, key)) for key in ("assignee", "first_seen", "last_seen", "state",
                                                           "regrouped_by")
                     if getattr(self, key) is not None)


@dataclass(frozen=True)
class NearMiss:
    query: str
    failures: int
    nearest_id: str
    similarity: float
    threshold: float


@dataclass(frozen=True)
class MatchingHealth:
    model: str
    fingerprint: str
    threshold: float
    margin: float
    settings_source: str
    entry_thresholds: int  # entries with their own threshold
    near_misses: tuple[NearMiss, ...]  # the MAX_NEAR_MISSES most frequent


@dataclass(frozen=True)
class Report:
    logs: tuple[str, ...]
    log_options: tuple[str, ...]  # --logs/--since/--until as given: the page's commands reuse them
    period: Window
    previous: Window | None
    bucket: str  # day | week | month
    preventions_source: str
    skipped_lines: int
    first_skipped: tuple[str, ...]
    headline: tuple[Metric, ...]
    over_time: tuple[Bucket, ...]
    root_causes: tuple[RootCause, ...]
    remediations_total: int
    remediations: tuple[RemediationRow, ...]  # the first MAX_REMEDIATIONS, most preventions and coverage first
    top_by_preventions: tuple[str, ...]
    top_by_coverage: tuple[str, ...]
    never_matched: tuple[str, ...]
    never_matched_total: int
    in_git: bool
    contributions: tuple[Contribution, ...]
    issues_total: int
    queue: tuple[QueueItem, ...]
    repo_url: str | None
    branch: str | None
    matching: MatchingHealth


def build_report(config: Config, log_paths: Sequence[str], *, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, top: int = 10, repo_url: str | None = None,
                 strict: bool = False, progress: Any = None, engine: str = "local",
                 ray_address: str | None = None) -> Report:
    """Read and attribute the logs once (on `engine`: local or ray), then aggregate every section of the page."""

    if engine == "ray":  # one Ray session for both passes (the attribution and the queue's rows)
        from remedy.analytics.ray_engine import session

        with session(ray_address):
            return _build_report(config, log_paths, since=since, until=until, top=top, repo_url=repo_url,
                                 strict=strict, progress=progress, engine=engine, ray_address=ray_address)
    return _build_report(config, log_paths, since=since, until=until, top=top, repo_url=repo_url, strict=strict,
                         progress=progress, engine=engine, ray_address=ray_address)


def _build_report(config: Config, log_paths: Sequence[str], *, since: dt.datetime | None, until: dt.datetime | None,
                  top: int, repo_url: str | None, strict: bool, progress: Any, engine: str,
                  ray_address: str | None) -> Report:
    folder = load_folder(config.remediations_dir)
    partials = slice_partials(slice_microseconds(since, until))
    if engine == "local":
        logs = read_project_logs(config, log_paths, strict=strict, until=until)
        whole = attribute(config, logs, folder.remediations, progress=progress, partials=partials)
    else:  # the driver holds the partials and the failure logs
        whole = analyse(config, log_paths, until=until, strict=strict, remediations=folder.remediations,
                        failure_logs=True, engine=engine, ray_address=ray_address, partials=partials)
    period, previous = _windows(whole, since, until)
    current = window_analysis(whole, period.since, period.until, "report_period")
    coverage = coverage_report(current)
    before = window_analysis(whole, previous.since, previous.until, "report_previous") if previous else None
    earlier = coverage_report(before) if before else None
    served = current.has_served_field()
    current.con.execute(f"CREATE OR REPLACE TABLE report_preventions AS {preventions_sql(current, served)}")
    bucket = _bucket_size(period)
    starts = _bucket_starts(period, bucket)
    history = folder_history(config.remediations_dir)
    rows = _remediation_rows(current, coverage, history, bucket, starts, config)
    queue = issue_queue(current, top=top)  # counts every open issue; describes only the queue's
    issues = queue.issues
    repo = check_repo_url(repo_url) if repo_url else _origin_url(config.remediations_dir)
    branch = _default_branch(config.remediations_dir)
    ranked = sorted(rows, key=lambda r: (-r.preventions, -r.covered_failures, -r.covered_logs, r.kind, r.id))
    never = sorted(r.id for r in rows if r.covered_logs == 0 and r.preventions == 0)
    return Report(
        logs=tuple(str(p) for p in log_paths),
        log_options=_log_options(log_paths, since, until),
        period=period, previous=previous, bucket=bucket,
        preventions_source=coverage.preventions_source, skipped_lines=coverage.logs.skipped_lines,
        first_skipped=tuple(str(line) for line in whole.logs.first_skipped),
        headline=_headline(current, coverage, before, earlier, served),
        over_time=_over_time(current, bucket, starts),
        root_causes=_root_causes(current),
        remediations_total=len(rows),
        remediations=tuple(ranked[:MAX_REMEDIATIONS]),
        top_by_preventions=tuple(r.id for r in ranked if r.preventions > 0)[:MAX_TOP],
        top_by_coverage=tuple(r.id for r in sorted(rows, key=lambda r: (-r.covered_failures, r.kind, r.id))
                              if r.covered_failures > 0)[:MAX_TOP],
        never_matched=tuple(never[:MAX_NEVER_MATCHED]), never_matched_total=len(never),
        in_git=bool(history),
        contributions=_contributions(rows),
        issues_total=queue.total,
        queue=_queue(config, current, issues, bucket, starts, repo, branch,
                     _queue_logs(log_paths, period, engine, ray_address, config)),
        repo_url=repo, branch=branch if repo else None,
        matching=_matching_health(config, current),
    )


def _log_options(log_paths: Sequence[str], since: dt.datetime | None, until: dt.datetime | None) -> tuple[str, ...]:
    options = [item for path in log_paths for item in ("--logs", str(path))]
    for name, value in (("--since", since), ("--until", until)):
        if value is not None:
            options += [name, value.isoformat() + "Z"]
    return tuple(options)


# -- periods and buckets ---------------------------------------------------------------------------

def _windows(analysis: Analysis, since: dt.datetime | None, until: dt.datetime | None) -> tuple[Window, Window | None]:
    oldest, newest = log_span(analysis)
    start = since or (dt.datetime(oldest.year, oldest.month, oldest.day) if oldest else None)
    # Without --until the period ends at the midnight after the newest log: whole days, readable bounds.
    end = until or (_midnight_after(newest) if newest else None)
    if start is None or end is None or end <= start:
        return Window(start, end), None
    if since is None:  # the whole export: there is no earlier period to compare with
        return Window(start, end), None
    if start - dt.datetime.min < end - start:  # no earlier period of that length before year 1
        return Window(start, end), None
    return Window(start, end), Window(start - (end - start), start)


def _midnight_after(moment: dt.datetime) -> dt.datetime:
    """The midnight after `moment`; the last moment Python can hold after a log of 9999-12-31."""
    midnight = dt.datetime(moment.year, moment.month, moment.day)
    return midnight + dt.timedelta(days=1) if midnight.date() < dt.date.max else dt.datetime.max


def _bucket_size(period: Window) -> str:
    if period.since is None or period.until is None:
        return "day"
    days = (period.until - period.since).total_seconds() / 86400
    return "day" if days <= DAY_BUCKETS_UP_TO else "week" if days <= WEEK_BUCKETS_UP_TO else "month"


def _bucket_start(moment: dt.datetime, bucket: str) -> dt.datetime:
    day = dt.datetime(moment.year, moment.month, moment.day)
    if bucket == "week":  # ISO weeks start on Monday, as DuckDB's date_trunc('week', …)
        return day - dt.timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _bucket_starts(period: Window, bucket: str) -> tuple[dt.datetime, ...]:
    """Every bucket of the period, empty ones included, so charts show gaps as zeros."""
    if period.since is None or period.until is None:
        return ()
    starts, moment = [], _bucket_start(period.since, bucket)
    step = dt.timedelta(days=32 if bucket == "month" else 7 if bucket == "week" else 1)
    while moment < period.until:
        starts.append(moment)
        if dt.datetime.max - moment < step:  # the last bucket of Python's calendar (a log of 9999-12-31)
            break
        moment = (moment + step).replace(day=1) if bucket == "month" else moment + step
    return tuple(starts)


def _series(pairs: Sequence[tuple[Any, Any]], starts: Sequence[dt.datetime]) -> tuple[int, ...]:
    counts = dict(pairs)
    return tuple(int(counts.get(start, 0)) for start in starts)


# -- sections --------------------------------------------------------------------------------------

def _addressed_sql(analysis: Analysis) -> str:
    """The log is addressed as `coverage` counts it: a scaffold draft (still TODO) addresses nothing."""
    return addressed_sql(analysis.attributions, scaffold_drafts(analysis))


def _headline(analysis: Analysis, coverage: CoverageReport, previous: Analysis | None, earlier: CoverageReport | None,
              served: bool) -> tuple[Metric, ...]:
    """The period's key numbers beside the previous period's; `served`: the period's source of preventions
    (the previous period counts its prevented failures the same way)."""
    def numbers(report: CoverageReport, window: Analysis) -> dict[str, Any]:
        prevented = sum(row.preventions for row in report.remediations)
        return {"queries": report.logs.total, "failures": report.logs.failures,
                "prevented": prevented,
                "bad_responses_served": report.logs.failures - _prevented_failures(window, served),
                "addressed_share_active": report.by_status.active.share,
                "addressed_share": report.addressed_share,
                # beside the addressed share: failures no remediation covers that a triage decision took away
                "triaged_away": report.triaged.total if report.triaged is not None else None}

    now = numbers(coverage, analysis)
    before = numbers(earlier, previous) if earlier is not None and previous is not None else None
    labels = {"queries": "Queries", "failures": "Failures detected", "prevented": "Answers served",
              "bad_responses_served": "Bad responses served (no remediation caught them)",
              "addressed_share_active": "Addressed share (active)",
              "addressed_share": "Addressed share (active + draft)",
              "triaged_away": "Failures triaged away (addressed, no action, won't fix; no remediation)"}
    better = {"queries": None, "failures": "down", "prevented": "up", "bad_responses_served": "down",
              "addressed_share_active": "up", "addressed_share": "up", "triaged_away": None}
    return tuple(Metric(key, label, now[key], before[key] if before else None, key.startswith("addressed_share"),
                        better[key]) for key, label in labels.items())


def _prevented_failures(analysis: Analysis, served: bool) -> int:
    """Failure logs where an answer was served anyway (served, yet judged bad): not 'no remediation caught'."""
    return int(one_row(analysis.con, f"SELECT coalesce(sum(prevented_failures), 0) "
                                     f"FROM ({preventions_sql(analysis, served)})")[0])


def _over_time(analysis: Analysis, bucket: str, starts: Sequence[dt.datetime]) -> tuple[Bucket, ...]:
    """Logs, failures, addressed failures and preventions per bucket: sums of the window's slices."""
    con = analysis.con
    counts = {row[0]: row[1:] for row in con.execute(f"""
        SELECT date_trunc('{bucket}', slice), sum(logs), sum(failures), sum(addressed_failures)
        FROM {analysis.attributions}__by_day GROUP BY ALL""").fetchall()}
    prevented = dict(con.execute(f"SELECT date_trunc('{bucket}', slice), sum(preventions) FROM report_preventions "
                                 "GROUP BY ALL").fetchall())
    buckets = []
    for start in starts:
        queries, failures, addressed = counts.get(start, (0, 0, 0))
        buckets.append(Bucket(start, queries=int(queries), failures=int(failures),
                              prevented=int(prevented.get(start, 0)), addressed_failures=int(addressed)))
    return tuple(buckets)


def _root_causes(analysis: Analysis) -> tuple[RootCause, ...]:
    rows = analysis.con.execute(f"""
        SELECT coalesce(primary_issue, 'other'), count(*), count(*) FILTER (WHERE {_addressed_sql(analysis)})
        FROM {analysis.logs.table} WHERE is_failure GROUP BY ALL ORDER BY 2 DESC, 1""").fetchall()
    return tuple(RootCause(name, int(failures), int(addressed)) for name, failures, addressed in rows)


def _remediation_rows(analysis: Analysis, coverage: CoverageReport, history: dict[Path, Any], bucket: str,
                      starts: Sequence[dt.datetime], config: Config) -> list[RemediationRow]:
    from remedy.owners.resolve import owners_by_id

    ownership = owners_by_id(config, analysis.matcher.by_id.values())
    series: dict[str, list[tuple[Any, Any]]] = {}
    for remediation_id, start, count in analysis.con.execute(
            f"SELECT remediation_id, date_trunc('{bucket}', slice), sum(preventions) FROM report_preventions "
            "GROUP BY ALL"
            ).fetchall():
        series.setdefault(remediation_id, []).append((start, count))
    rows = []
    for row in coverage.remediations:
        remediation = analysis.matcher.by_id[row.id]
        known = history.get(remediation.path.resolve())
        rows.append(RemediationRow(
            id=row.id, kind=row.kind, status=row.status, file=_display(remediation.path),
            owners=ownership[row.id].owners,  # its own `owners:` key, else the [owners] glob default
            covered_failures=row.covered_failures, covered_logs=row.covered_logs,
            preventions=row.preventions, last_prevention=row.last_prevention,
            created=known.created if known else remediation.created,
            updated=known.updated if known else remediation.updated,
            updated_by=known.updated_by if known else remediation.updated_by,
            created_by=known.author if known else None,  # who wrote its content: not init's example, not a TODO
            edited_by=known.editors if known else (),
            preventions_by_bucket=_series(series.get(row.id, []), starts),
        ))
    return rows


def _contributions(rows: Sequence[RemediationRow]) -> tuple[Contribution, ...]:
    """Per git author: remediations created, remediations edited after creation, preventions of their answers."""
    tally: dict[str, list[int]] = {}
    for row in rows:
        if row.created_by:
            created = tally.setdefault(row.created_by, [0, 0, 0])
            created[0] += 1
            created[2] += row.preventions
        for editor in row.edited_by:
            tally.setdefault(editor, [0, 0, 0])[1] += 1
    return tuple(Contribution(author, *counts) for author, counts in
                 sorted(tally.items(), key=lambda item: (-item[1][0], -item[1][1], -item[1][2], item[0])))


QueueLogs = Callable[[Analysis, str], None]


def _queue_logs(log_paths: Sequence[str], period: Window, engine: str, ray_address: str | None,
                config: Config) -> QueueLogs:
    """How to fill `report_queue_logs` (every log of the period whose query is one of table `queries`'):
    from the log table locally; on Ray, whose driver holds failure logs only, by a second pass."""
    def local(analysis: Analysis, queries: str) -> None:
        analysis.con.execute(f"""CREATE OR REPLACE TABLE report_queue_logs AS SELECT * FROM {analysis.logs.table}
            WHERE normalized_query IN (SELECT normalized_query FROM {queries})""")

    def ray(analysis: Analysis, queries: str) -> None:
        from remedy.analytics.ray_engine import select_logs
        from remedy.logs.settings import log_settings

        wanted = [row[0] for row in analysis.con.execute(f"SELECT DISTINCT normalized_query FROM {queries}").fetchall()]
        rows = select_logs(log_paths, wanted, settings=log_settings(config), address=ray_address,
                           since=period.since, until=period.until)
        analysis.con.register("remedy_queue_rows", rows)
        try:
            analysis.con.execute("CREATE OR REPLACE TABLE report_queue_logs AS SELECT * FROM remedy_queue_rows")
        finally:
            analysis.con.unregister("remedy_queue_rows")

    return local if engine == "local" else ray


def _queue(config: Config, analysis: Analysis, issues: Sequence[Any], bucket: str, starts: Sequence[dt.datetime],
           repo: str | None, branch: str | None, queue_logs: QueueLogs) -> tuple[QueueItem, ...]:
    """The queue's items. Their logs are copied once into a small table, so the per-issue queries
    (`draft_for_issue`, `issue_logs`: the same code as `new --from-issue` and `issue N`) scan only
    those rows instead of the whole period each time: a million rows, ten issues."""
    if not issues:
        return ()
    create_table(analysis.con, "report_queue_queries", {"normalized_query": "VARCHAR", "issue": "VARCHAR"},
                 {"normalized_query": [q for issue in issues for q in issue.cluster.queries],
                  "issue": [issue.cluster.id for issue in issues for _ in issue.cluster.queries]})
    queue_logs(analysis, "report_queue_queries")
    small = dataclasses.replace(analysis, logs=dataclasses.replace(analysis.logs, table="report_queue_logs"))
    series: dict[str, list[tuple[Any, Any]]] = {}
    for issue_id, start, count in analysis.con.execute(f"""
            SELECT q.issue, date_trunc('{bucket}', l.ts), count(*)
            FROM report_queue_logs l JOIN report_queue_queries q USING (normalized_query)
            WHERE l.is_failure GROUP BY ALL""").fetchall():
        series.setdefault(issue_id, []).append((start, count))
    taken = taken_ids(config.remediations_dir, analysis.matcher.by_id.values())
    top = repository_root(config.remediations_dir if config.remediations_dir.is_dir() else config.root)
    root = top.resolve() if top else config.root.resolve()
    # each issue's shown spelling, counted over all the period's logs of its representative query (as
    # `issues` does locally); a Ray driver's issue queue saw the failure logs only
    spelling = spellings(analysis.con, "report_queue_logs", [issue.cluster.representative for issue in issues])
    issues = [dataclasses.replace(issue, representative_query=spelling.get(issue.cluster.representative,
                                                                           issue.representative_query))
              for issue in issues]
    return tuple(_queue_item(config, small, issue, _series(series.get(issue.cluster.id, []), starts), repo, branch,
                             taken, root) for issue in issues)


def _queue_item(config: Config, analysis: Analysis, issue: Any, counts: tuple[int, ...], repo: str | None,
                branch: str | None, taken: set[str], root: Path) -> QueueItem:
    from remedy.analytics.issue_queue import issue_logs

    draft = draft_for_issue(analysis, issue, "answer")
    path, text = draft_file(config.remediations_dir, draft, existing=taken)
    try:  # the path in the repository, as GitHub's new-file page wants it
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    samples = tuple(Sample(row.log_id, row.timestamp, float(row.severity or 0.0), row.query, row.response)
                    for row in issue_logs(analysis, issue, limit=SAMPLE_RESPONSES))
    known = issue.summary()
    return QueueItem(
        rank=issue.rank, id=issue.cluster.id, size=issue.cluster.size,
        mean_severity=round(issue.cluster.mean_severity, 4), impact=round(issue.cluster.impact, 4),
        primary_issue=issue.primary_issue, representative_query=issue.representative_query,
        trend=_queue_trend(known.trend),
        failures_by_bucket=counts,
        queries=(issue.representative_query, *draft.candidate_also_matches)[:SAMPLE_QUERIES],
        samples=samples, draft_path=relative, draft_yaml=text,
        github_url=github_new_file_url(repo, branch, relative, text) if repo and branch else None,
        state=known.state, assignee=known.assignee, first_seen=known.first_seen, last_seen=known.last_seen,
        regrouped_by="; ".join(known.regrouped_by) or None,
    )


def _queue_trend(trend: Trend) -> str:
    """`remedy issues`' trend in the words its table uses."""
    return f"{trend.last_7_days} in the last 7 days vs {trend.previous_7_days} the 7 before"


def _matching_health(config: Config, analysis: Analysis) -> MatchingHealth:
    matcher = analysis.matcher
    fingerprint = matcher.embedder.fingerprint
    source = settings_origin(config, matcher.embedder).text  # the words `validate` and `match` use too
    near = _near_misses(analysis)
    own = sum(1 for r in matcher.by_id.values() if r.threshold is not None)
    return MatchingHealth(model=str(getattr(matcher.embedder, "name", config.model)), fingerprint=fingerprint,
                          threshold=matcher.threshold, margin=matcher.margin, settings_source=source,
                          entry_thresholds=own, near_misses=near)


def _near_misses(analysis: Analysis) -> tuple[NearMiss, ...]:
    """The most frequent unaddressed failure queries whose best active or draft answer is just below its threshold.

    Queries go most frequent first, in blocks, and the search stops once no later query could enter
    the list: the same list as scoring every query, without a product of every failure against every text.
    A query's shown spelling (its most frequent among these failures) is looked up for the candidates
    only: grouping every failure by its raw text too cost 1 s of a warm report at 1M rows.
    """
    index, matcher = analysis.matcher.index, analysis.matcher
    failures = f"{analysis.logs.table} WHERE is_failure AND NOT ({_addressed_sql(analysis)})"
    rows = analysis.con.execute(f"""
        SELECT normalized_query, count(*) AS failures FROM {failures}
        GROUP BY normalized_query ORDER BY failures DESC, normalized_query""").fetchall()
    # (normalized query, failures, answer id, similarity, threshold), by failures then similarity; the
    # spelling breaks ties at the end, so ties with the last place are kept until then
    found: list[tuple[str, int, str, float, float]] = []
    for start in range(0, len(rows), NEAR_MISS_BLOCK):
        block = rows[start:start + NEAR_MISS_BLOCK]
        if len(found) >= MAX_NEAR_MISSES and block[0][1] < found[MAX_NEAR_MISSES - 1][1]:
            break
        ids, scores = index.scores(matcher.encode([r[0] for r in block]), kind="answer", statuses=("active", "draft"))
        if not ids:
            break
        thresholds = np.array([matcher.threshold if matcher.by_id[i].threshold is None
                               else float(matcher.by_id[i].threshold or 0) for i in ids])
        below = np.where(scores < thresholds[None, :], scores, -np.inf)  # only entries that did not accept
        best = np.argmax(below, axis=1)
        similarity = below[np.arange(len(block)), best]
        gap = thresholds[best] - similarity
        for row in np.flatnonzero(gap <= NEAR_MISS_BAND):
            column = int(best[row])
            found.append((block[row][0], int(block[row][1]), ids[column], round(float(similarity[row]), 4),
                          round(float(thresholds[column]), 4)))
        found.sort(key=lambda m: (-m[1], -m[3]))
        if len(found) > MAX_NEAR_MISSES:
            last = (found[MAX_NEAR_MISSES - 1][1], found[MAX_NEAR_MISSES - 1][3])
            found = [m for m in found if (m[1], m[3]) >= last]
    spelling = dict(analysis.con.execute(f"""
        SELECT normalized_query, first(query ORDER BY n DESC, query)
        FROM (SELECT normalized_query, query, count(*) AS n FROM {failures}
                AND normalized_query IN (SELECT unnest($queries)) GROUP BY ALL)
        GROUP BY normalized_query""", {"queries": [m[0] for m in found]}).fetchall()) if found else {}
    misses = sorted((NearMiss(spelling[query], count, entry, similarity, threshold)
                     for query, count, entry, similarity, threshold in found),
                    key=lambda m: (-m.failures, -m.similarity, m.query))
    return tuple(misses[:MAX_NEAR_MISSES])


# -- git and GitHub --------------------------------------------------------------------------------

def _origin_url(folder: Path) -> str | None:
    """The origin remote's web address; None without one, or when it is no http(s) address (a local path)."""
    url = git_output(folder if folder.is_dir() else folder.parent, "remote", "get-url", "origin")
    return web_repo_url(url) if url else None


def _default_branch(folder: Path) -> str:
    """The remote's default branch (origin/HEAD), else the checked-out branch, else `main`."""
    where = folder if folder.is_dir() else folder.parent
    head = git_output(where, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if head and "/" in head:
        return head.split("/", 1)[1]
    return git_output(where, "symbolic-ref", "--quiet", "--short", "HEAD") or "main"


def _display(path: Path) -> str:
    from remedy.files.folder import display_path

    return display_path(path)

