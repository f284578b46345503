"""`remedy issues` / `remedy issue N`: unaddressed failures grouped into topics, ranked by impact.

impact = sum over the issue's failure logs of severity x 2^(-age / half_life), where age is measured
from the newest log of the input (not the wall clock, so a run is reproducible); half_life = inf gives
frequency x mean severity. An issue is a topic: the failures one answer with its also_matches could
cover (`remedy.logs.clustering`).

Triage (`remedy.files.triage`): a failure that the decision rule matches to a triage file's queries
belongs to that file's issue, whatever the clustering says, so a decision keeps applying to new
failures; the rest are clustered. Failures covered by an active or draft remediation of any kind
(answers, guidance, reviews) are addressed and never reach the queue, except a draft that is still a
scaffold (its text holds a placeholder, like the TODO `new answer --from-issue` writes): its issue stays
listed, marked "draft in progress", so an abandoned draft cannot empty the top of the queue unseen.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from remedy.analytics.analysis import Analysis
from remedy.analytics.step import is_scaffold_draft
from remedy.analytics.tables import create_table, insert_columns
from remedy.analytics.topic_corrections import Corrections, claim_queries, merge_issues
from remedy.config import DEFAULT_HALF_LIFE
from remedy.durations import parse_duration
from remedy.errors import UsageError
from remedy.files.topic_files import TopicFile, load_topic_files, topics_dir
from remedy.files.triage import OPEN_STATES, STATES, Triage, load_triage
from remedy.logs.clustering import (
    DEFAULT_MAX_LEADERS,
    DEFAULT_NEIGHBOURS,
    ID_LENGTH,
    Cluster,
    TopicClustering,
    cluster_id,
)
from remedy.logs.topic_cache import cached_topics, topic_key
from remedy.logs.topic_settings import VERIFIER
from remedy.owner_handles import normalize_owner
from remedy.sql import sql_string

STATUSES = ("unaddressed", "addressed", "all")
# DESIGN 1 and 2.3's primary issues; an export may add its own (check_primary_issue accepts those it holds).
PRIMARY_ISSUES = ("hallucination", "search_failure", "unhelpful", "difficult_query", "other")
STATE_CHOICES = (*STATES, "all")
TRIAGE_MATCHES = "triage_matches"
TREND_DAYS = 7
_BATCH = 10_000
# The verifier embeds every distinct failing query it groups (about 700 texts a second on 2 cores, cold):
# above this many, a cold queue would cost minutes, so the static model groups them instead and stderr
# says so. The figure keeps a cold run within a few minutes; warm runs read the topic cache either way.
VERIFIER_TOPIC_QUERIES = 50_000
_WARNED: set[str] = set()


@dataclass(frozen=True)
class Trend:
    last_7_days: int
    previous_7_days: int


@dataclass(frozen=True)
class IssueSummary:
    """One issue as `remedy issues` reports it (DESIGN 3.1), plus its triage note and trend."""

    rank: int
    id: str
    size: int
    mean_severity: float
    impact: float
    primary_issue: str
    representative_query: str
    state: str
    assignee: str | None
    note: str | None
    first_seen: datetime.datetime | None
    last_seen: datetime.datetime | None
    trend: Trend
    distinct_queries: int
    log_ids: tuple[str, ...]
    drafts_in_progress: tuple[str, ...]  # scaffold drafts (still TODO) that match the issue's failures
    regrouped_by: tuple[str, ...]  # the expert's topic files that split, merged or moved queries of it


@dataclass(frozen=True)
class Issue:
    rank: int
    cluster: Cluster
    primary_issue: str
    representative_query: str
    log_ids: list[str]
    state: str = "open"
    assignee: str | None = None
    note: str | None = None
    first_seen: datetime.datetime | None = None
    last_seen: datetime.datetime | None = None
    last_7_days: int = 0
    previous_7_days: int = 0
    drafts_in_progress: tuple[str, ...] = ()
    regrouped_by: tuple[str, ...] = ()

    def summary(self) -> IssueSummary:
        return IssueSummary(rank=self.rank, id=self.cluster.id, size=self.cluster.size,
                            mean_severity=round(self.cluster.mean_severity, 4),
                            impact=round(self.cluster.impact, 4), primary_issue=self.primary_issue,
                            representative_query=self.representative_query, state=self.state,
                            assignee=self.assignee, note=self.note, first_seen=self.first_seen,
                            last_seen=self.last_seen, trend=Trend(self.last_7_days, self.previous_7_days),
                            distinct_queries=len(self.cluster.members), log_ids=tuple(self.log_ids),
                            drafts_in_progress=self.drafts_in_progress, regrouped_by=self.regrouped_by)


@dataclass(frozen=True)
class Queue:
    """The ranked issues after filtering, and what the filters left out (for the footnote)."""

    issues: list[Issue]
    newest_log: datetime.datetime | None
    half_life_seconds: float
    hidden_by_state: int
    total: int  # issues these filters show before --top cuts the list
    warnings: tuple[str, ...] = ()  # topic files that no longer fit these logs (remedy.analytics.topic_corrections)

    def report(self) -> IssueList:
        return IssueList(issues=tuple(issue.summary() for issue in self.issues), total=self.total,
                         hidden_by_state=self.hidden_by_state, newest_log=self.newest_log, warnings=self.warnings,
                         half_life_days=None if math.isinf(self.half_life_seconds)
                         else round(self.half_life_seconds / 86_400, 6))


@dataclass(frozen=True)
class IssueList:
    """`remedy issues`: the ranked issues and the numbers behind the ranking."""

    issues: tuple[IssueSummary, ...]
    total: int  # issues these filters show before --top cuts the list
    hidden_by_state: int  # triaged issues the --state filter hides
    newest_log: datetime.datetime | None  # impact's ages count from here
    half_life_days: float | None  # None: no decay (impact = failures x mean severity)
    warnings: tuple[str, ...] = ()  # topic files that no longer fit these logs


@dataclass(frozen=True)
class IssueLog:
    """One failure log of an issue in full (`remedy issue N`)."""

    log_id: str
    timestamp: datetime.datetime
    query: str
    response: str | None
    context: str | None
    scores: dict[str, float] | None
    primary_issue: str | None
    severity: float | None
    served_remediation: str | None
    metadata: dict[str, Any] | None  # the log's own object, kept nested
    source_file: str
    line_number: int | None


@dataclass(frozen=True)
class IssueDetail(IssueSummary):
    """`remedy issue N`: the issue's summary, its distinct queries, its logs and the command to remediate it."""

    queries: tuple[str, ...]
    logs: tuple[IssueLog, ...]
    remediate: str


def scaffold_drafts(analysis: Analysis) -> tuple[str, ...]:
    """The drafts that are no more than a scaffold: their text still holds a placeholder (rule W003's)."""
    return tuple(sorted(r.id for r in analysis.matcher.by_id.values() if is_scaffold_draft(r)))


def addressed_sql(attributions: str, scaffolds: Sequence[str] = ()) -> str:
    """SQL on the log table: the log's query is addressed, by an active or draft remediation of any kind that
    is not one of the `scaffolds` drafts (scaffold_drafts), as the step's addressed totals count it."""
    written = f" AND remediation_id NOT IN ({', '.join(sql_string(i) for i in scaffolds)})" if scaffolds else ""
    return (f"normalized_query IN (SELECT normalized_query FROM {attributions} "
            f"WHERE role IN ('active', 'draft'){written})")


def failure_filter(attributions: str, status: str, primary_issue: str | None,
                   scaffolds: Sequence[str] = ()) -> str | None:
    """SQL on the log table for the failures of the queue; a `scaffolds` draft covers nothing (scaffold_drafts)."""
    if status not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not '{status}'")
    attributed = addressed_sql(attributions, scaffolds)
    conditions = {"unaddressed": [f"NOT ({attributed})"], "addressed": [attributed], "all": []}[status]
    if primary_issue:  # a failure without one shows as `other` (_describe): the filter reads it the same way
        conditions.append(f"coalesce(primary_issue, 'other') = {sql_string(primary_issue)}")
    return " AND ".join(conditions) or None


def check_primary_issue(analysis: Analysis, primary_issue: str) -> None:
    """An unknown --primary-issue is a usage error naming the known ones (DESIGN's and those in these logs),
    not an empty queue that looks like good news."""
    import difflib

    seen = [row[0] for row in analysis.con.execute(
        f"SELECT DISTINCT coalesce(primary_issue, 'other') FROM {analysis.logs.table} WHERE is_failure").fetchall()]
    known = sorted({*PRIMARY_ISSUES, *seen})
    if primary_issue in known:
        return
    close = difflib.get_close_matches(primary_issue.casefold(), known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UsageError(f"--primary-issue must be one of {', '.join(known)}, not '{primary_issue}'{hint}")


def parse_states(value: str | None) -> tuple[str, ...]:
    """`--state`: one state, a comma-separated list, or `all`; default the open ones."""
    if not value:
        return OPEN_STATES
    states = tuple(part.strip() for part in value.split(",") if part.strip())
    for state in states:
        if state not in STATE_CHOICES:
            raise UsageError(f"--state must be one of {', '.join(STATE_CHOICES)} (comma-separated), not '{state}'")
    return STATES if "all" in states else states


def rank_issues(analysis: Analysis, **filters: Any) -> list[Issue]:
    """The issues `issue_queue` shows, ranked by impact (filters: as `issue_queue`)."""
    return issue_queue(analysis, **filters).issues


def issue_queue(analysis: Analysis, *, status: str = "unaddressed", primary_issue: str | None = None,
                top: int | None = None, states: Sequence[str] = OPEN_STATES, assignee: str | None = None,
                half_life: float | None = None) -> Queue:
    """The issues of `analysis`, ranked by decayed impact; `half_life` in seconds (default: the config's)."""
    config = analysis.config
    if half_life is None:
        half_life = config.half_life if config else parse_duration(DEFAULT_HALF_LIFE)
    if primary_issue is not None:
        check_primary_issue(analysis, primary_issue)
    scaffolds = scaffold_drafts(analysis)
    where = failure_filter(analysis.attributions, status, primary_issue, scaffolds)
    newest = analysis.now  # the newest plausible log: one dated in 2100 does not age every other (log_clock)
    triages = load_triage(config.triage_dir).triages if config else {}
    topic_files = load_topic_files(topics_dir(config.triage_dir)).files if config else {}
    corrections = Corrections()
    _match_triage(analysis, triages, where, topic_files)
    decay = "1.0" if math.isinf(half_life) or newest is None else \
        f"pow(2.0, -greatest(epoch(TIMESTAMP '{newest.isoformat()}') - epoch(ts), 0) / {half_life!r})"
    condition = f"AND {where}" if where else ""
    clusters = _cluster_untriaged(analysis, decay, condition, topic_files, corrections) \
        + _triaged_clusters(analysis, triages, decay, condition)
    clusters = merge_issues(clusters, topic_files, corrections)
    clusters.sort(key=lambda c: (-c.impact, -c.size, c.id))
    chosen, hidden = [], 0
    wanted = normalize_owner(assignee) if assignee else None  # `alice`, `@Alice`: as `list --owner` compares
    for cluster in clusters:
        triage = triages.get(cluster.id)
        state = triage.state if triage else "open"
        if state not in states or (wanted and (triage is None or not triage.assignee
                                               or normalize_owner(triage.assignee) != wanted)):
            hidden += state not in states
            continue
        chosen.append((cluster, triage))
    total = len(chosen)
    if top:
        chosen = chosen[:top]
    for warning in corrections.warnings:  # on stderr, once a process (a rank lookup builds the queue twice)
        if warning not in _WARNED:
            _WARNED.add(warning)
            logging.getLogger("remedy").warning("warning: %s", warning)
    issues = _describe(analysis, chosen, where, newest, scaffolds, corrections.regrouped)
    return Queue(issues, newest, half_life, hidden, total, tuple(corrections.warnings))


def triaged_failure_counts(analysis: Analysis) -> dict[str, int]:
    """Failure logs no active or draft remediation covers that a triage file takes, per the file's state
    (the queue's own assignment: `_match_triage`); a scaffold draft covers nothing, as in the queue."""
    config = analysis.config
    triages = load_triage(config.triage_dir).triages if config else {}
    if not triages:
        return {}
    where = failure_filter(analysis.attributions, "unaddressed", None, scaffold_drafts(analysis))
    _match_triage(analysis, triages, where)
    rows = analysis.con.execute(f"""
        SELECT t.issue, count(*) FROM {analysis.logs.table} l JOIN {TRIAGE_MATCHES} t USING (normalized_query)
        WHERE l.is_failure AND {where} GROUP BY t.issue""").fetchall()
    counts: dict[str, int] = {}
    for issue, n in rows:
        state = triages[issue].state
        counts[state] = counts.get(state, 0) + int(n)
    return counts


def find_issue(analysis: Analysis, key: str, *, command: str = "remedy issue", **filters: Any) -> Issue:
    """The issue with id `key` among those these filters show; a number is the rank `remedy issues` printed
    last, resolved against that printed queue (`remedy.analytics.printed_queue`), never against ranks the
    person has not seen. `command` names the command in messages (how to give the id instead)."""
    from remedy.analytics.printed_queue import issue_at_printed_rank

    if key.isdigit() and len(key) < ID_LENGTH:  # an id is ID_LENGTH hex digits, which may all be decimal
        return issue_at_printed_rank(analysis, int(key), command,
                                     lambda **options: issue_queue(analysis, **options).issues)
    issues = rank_issues(analysis, **filters)
    for issue in issues:
        if key == issue.cluster.id:
            return issue
    raise UsageError(f"no issue {key!r}: there are {len(issues)} issues with these filters "
                     "(ids as `remedy issues` shows them; a number is a rank of the queue it printed last)")


def issue_logs(analysis: Analysis, issue: Issue, *, limit: int | None = None) -> tuple[IssueLog, ...]:
    """The failure logs of one issue in full, most severe first."""
    con = analysis.con
    create_table(con, "issue_ids", {"log_id": "VARCHAR"}, {"log_id": issue.log_ids})
    rows = con.execute(f"""
        SELECT log_id, ts, query, response, context, scores, primary_issue, severity, served_remediation,
               metadata, source_file, line_number
        FROM {analysis.logs.table} WHERE log_id IN (SELECT log_id FROM issue_ids) AND is_failure
        ORDER BY severity DESC, ts DESC, log_id {f'LIMIT {int(limit)}' if limit else ''}""").fetchall()
    return tuple(IssueLog(log_id=str(row[0]), timestamp=row[1], query=row[2], response=row[3], context=row[4],
                          scores=row[5], primary_issue=row[6], severity=row[7], served_remediation=row[8],
                          metadata=json.loads(row[9]) if row[9] is not None else None,
                          source_file=str(row[10]), line_number=row[11]) for row in rows)


def issue_detail(analysis: Analysis, issue: Issue, log_paths: Sequence[str], *,
                 limit: int | None = None) -> IssueDetail:
    """One issue in full: `issue_logs` and the `remedy new answer --from-issue` command over `log_paths`."""
    command = "remedy new answer --from-issue " + issue.cluster.id + "".join(f" --logs '{p}'" for p in log_paths)
    summary = issue.summary()
    return IssueDetail(**{field.name: getattr(summary, field.name) for field in dataclasses.fields(summary)},
                       queries=tuple(issue.cluster.queries), logs=issue_logs(analysis, issue, limit=limit),
                       remediate=command)


def _match_triage(analysis: Analysis, triages: dict[str, Triage], where: str | None,
                  topic_files: dict[str, TopicFile] | None = None) -> None:
    """Table TRIAGE_MATCHES: each failure query the decision rule gives to a triage file's queries.

    The triage files become entries of a matcher (question = first query, also_matches = the rest)
    decided with the project's threshold, so exactly the failures an answer with those texts would
    take. No margin: being near two triaged topics still means triaged, and the best one wins. A query an
    expert's topic file gives to another issue stays with that issue (the file names it; the rule is near).
    """
    from remedy.logs.reading import iter_distinct_queries
    from remedy.matching.decision import MatchEntry, MatchIndex

    con = analysis.con
    create_table(con, TRIAGE_MATCHES, {"normalized_query": "VARCHAR", "issue": "VARCHAR"})
    if not triages:
        return
    entries = [MatchEntry(id=t.id, kind="triage", status="active", question=t.queries[0],
                          also_matches=tuple(t.queries[1:])) for t in triages.values()]
    claimed = {query: topic.id for topic in (topic_files or {}).values() for query in topic.queries}
    encode = analysis.matcher.index_encoder([text for t in triages.values() for text in t.queries])
    index = MatchIndex(entries, encode, analysis.matcher.threshold, 0.0)
    for batch in iter_distinct_queries(analysis.logs, failures_only=True, where=where):
        texts = batch.normalized_queries
        decisions = index.decide_vectors(encode(texts), texts, kind="triage", statuses=("active",))
        found = [(text, d.entry_id) for text, d in zip(texts, decisions, strict=True)
                 if d.entry_id and claimed.get(text, d.entry_id) == d.entry_id]
        insert_columns(con, TRIAGE_MATCHES, {"normalized_query": [t for t, _ in found],
                                             "issue": [i for _, i in found]})


def _per_query_sql(logs: str, decay: str, condition: str) -> str:
    # Sums in a fixed order: the same totals to the last bit whatever order the rows came in (threads, Ray
    # workers), so two issues of equal impact always rank the same way.
    return f"""SELECT normalized_query, count(*) AS failures,
                      sum(coalesce(severity, 0) ORDER BY coalesce(severity, 0)) AS severity,
                      sum(coalesce(severity, 0) * {decay} ORDER BY coalesce(severity, 0) * {decay}) AS impact
               FROM {logs} WHERE is_failure {condition}"""


def _cluster_untriaged(analysis: Analysis, decay: str, condition: str, topic_files: dict[str, TopicFile],
                       corrections: Corrections) -> list[Cluster]:
    """Topics of the failures no triage file takes, streamed in frequency order (bounded vectors); the
    clustering's result is cached (`logs/topic_cache.py`), then the topic files' queries are regrouped."""
    # Topics group on the verifier's vectors where it is in force (remedy.logs.topic_settings), else on the
    # static model's; either way every distinct failure query is embedded once (the embedding cache).
    cursor = analysis.con.cursor()
    rows = cursor.sql(_per_query_sql(analysis.logs.table, decay, condition) + f"""
        AND normalized_query NOT IN (SELECT normalized_query FROM {TRIAGE_MATCHES})
        GROUP BY normalized_query ORDER BY failures DESC, normalized_query""").to_arrow_table()
    cursor.close()
    # One row per distinct query (texts and three numbers, no vectors): small beside the clustering's own keys.
    queries = rows.column(0).to_pylist()
    topic_settings = analysis.matcher.topic_settings()
    if topic_settings.model == VERIFIER and len(queries) > VERIFIER_TOPIC_QUERIES:
        topic_settings = analysis.matcher.topic_settings(static_only=True)
        logging.getLogger("remedy").warning(
            "warning: %s distinct failing queries: topics are grouped on the static model's vectors (the verifier "
            "groups up to %s; beyond that a cold run would embed for many minutes)",
            f"{len(queries):,}", f"{VERIFIER_TOPIC_QUERIES:,}")
    leader, merge = topic_settings.leader, topic_settings.merge
    encode, fingerprint = analysis.matcher.topic_encoder(topic_settings)
    weights, severities, impacts = (rows.column(i).to_pylist() for i in (1, 2, 3))

    def fresh_topics() -> list[Cluster]:
        topics: TopicClustering | None = None
        for start in range(0, len(queries), _BATCH):
            texts = queries[start:start + _BATCH]
            vectors = encode(texts)
            if topics is None:
                topics = TopicClustering(vectors.shape[1], leader_threshold=leader, merge_threshold=merge)
            part = slice(start, start + _BATCH)
            topics.add(vectors, weights[part], severities[part], impacts[part], texts)
        return topics.clusters() if topics else []

    # A warm run (the same failures, period, triage and model) reads the clusters back (logs/topic_cache.py).
    settings = {"leader": leader, "merge": merge, "max_leaders": DEFAULT_MAX_LEADERS, "neighbours": DEFAULT_NEIGHBOURS,
                "model": fingerprint}
    key = topic_key(queries, weights, severities, impacts, settings=settings)
    clusters = cached_topics(analysis.config.cache_dir if analysis.config else None, key, queries, fresh_topics)
    named = [query for topic in topic_files.values() for query in topic.queries]
    failing = {row[0] for row in analysis.con.execute(  # a file's queries still among these logs' failures
        f"SELECT DISTINCT normalized_query FROM {analysis.logs.table} WHERE is_failure "
        "AND normalized_query IN (SELECT unnest($named))", {"named": named}).fetchall()} if named else set()
    return claim_queries(clusters, topic_files, queries, weights, severities, impacts, corrections, failing)


def _triaged_clusters(analysis: Analysis, triages: dict[str, Triage], decay: str, condition: str) -> list[Cluster]:
    """One issue per triage file that takes failures in these logs, keeping the file's id."""
    if not triages:
        return []
    rows = analysis.con.execute(f"""
        SELECT t.issue, q.normalized_query, q.failures, q.severity, q.impact
        FROM ({_per_query_sql(analysis.logs.table, decay, condition)} GROUP BY normalized_query) q
        JOIN {TRIAGE_MATCHES} t USING (normalized_query)
        ORDER BY t.issue, q.failures DESC, q.normalized_query""").fetchall()
    grouped: dict[str, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row[1:])
    clusters = []
    for issue_id, members in grouped.items():
        size = sum(m[1] for m in members)
        representative = triages[issue_id].representative or members[0][0]
        clusters.append(Cluster(id=issue_id, representative=representative, members=tuple(range(len(members))),
                                queries=tuple(m[0] for m in members), size=size,
                                mean_severity=sum(m[2] for m in members) / size if size else 0.0,
                                impact=sum(m[3] for m in members)))
    return clusters


def spellings(con: Any, logs: str, queries: Sequence[str]) -> dict[str, str]:
    """The most frequent spelling among all logs of each normalized query (ties: the first in text order)."""
    return dict(con.execute(f"""
        SELECT normalized_query, first(query ORDER BY n DESC, query)
        FROM (SELECT normalized_query, query, count(*) AS n FROM {logs}
              WHERE normalized_query IN (SELECT unnest($queries)) GROUP BY ALL)
        GROUP BY normalized_query""", {"queries": list(queries)}).fetchall())


def _describe(analysis: Analysis, chosen: list[tuple[Cluster, Triage | None]], where: str | None,
              newest: datetime.datetime | None, scaffolds: Sequence[str] = (),
              regrouped: dict[str, list[str]] | None = None) -> list[Issue]:
    con, logs = analysis.con, analysis.logs.table
    clusters = [cluster for cluster, _ in chosen]
    create_table(con, "cluster_members", {"normalized_query": "VARCHAR", "cluster": "VARCHAR"},
                 {"normalized_query": [q for c in clusters for q in c.queries],
                  "cluster": [c.id for c in clusters for _ in c.queries]})
    condition = f"AND {where}" if where else ""
    newest_sql = f"TIMESTAMP '{newest.isoformat()}'" if newest else "CAST(NULL AS TIMESTAMP)"  # no logs in the period
    # Ties (two spellings as frequent, two primary issues as common) go to the first in text order:
    # DuckDB's mode() picks whichever a thread saw first, and the same input must give the same output.
    facts = con.execute(f"""
        SELECT cluster, list(log_id ORDER BY ts, log_id), first(issue ORDER BY n DESC, issue), min(ts), max(ts),
               count(*) FILTER (WHERE ts > {newest_sql} - INTERVAL {TREND_DAYS} DAY),
               count(*) FILTER (WHERE ts <= {newest_sql} - INTERVAL {TREND_DAYS} DAY
                                  AND ts > {newest_sql} - INTERVAL {2 * TREND_DAYS} DAY)
        FROM (SELECT m.cluster, l.log_id, l.ts, coalesce(l.primary_issue, 'other') AS issue,
                     count(*) OVER (PARTITION BY m.cluster, coalesce(l.primary_issue, 'other')) AS n
              FROM {logs} l JOIN cluster_members m USING (normalized_query)
              WHERE l.is_failure {condition})
        GROUP BY cluster""")
    by_cluster = {row[0]: row[1:] for row in facts.fetchall()}
    spelling = spellings(con, logs, [c.representative for c in clusters])
    in_progress: dict[str, tuple[str, ...]] = {}
    if scaffolds:  # which scaffold drafts match each listed issue's queries: the issue says a draft is under way
        in_progress = {row[0]: tuple(row[1]) for row in con.execute(f"""
            SELECT m.cluster, list(DISTINCT a.remediation_id ORDER BY a.remediation_id)
            FROM cluster_members m JOIN {analysis.attributions} a USING (normalized_query)
            WHERE a.role = 'draft' AND a.remediation_id IN (SELECT unnest($ids)) GROUP BY m.cluster""",
                                                                     {"ids": list(scaffolds)}).fetchall()}
    issues = []
    for rank, (cluster, triage) in enumerate(chosen, start=1):
        log_ids, primary, first, last, recent, before = by_cluster.get(cluster.id, ([], "other", None, None, 0, 0))
        raw = spelling.get(cluster.representative)
        issues.append(Issue(rank, cluster, primary, raw or cluster.representative, [str(i) for i in log_ids],
                            state=triage.state if triage else "open", assignee=triage.assignee if triage else None,
                            note=triage.note if triage else None, first_seen=first, last_seen=last,
                            last_7_days=recent, previous_7_days=before,
                            drafts_in_progress=in_progress.get(cluster.id, ()),
                            regrouped_by=tuple((regrouped or {}).get(cluster.id, ()))))
    return issues


__all__ = ["Issue", "IssueDetail", "IssueList", "IssueLog", "IssueSummary", "Queue", "Trend", "cluster_id",
           "find_issue", "issue_detail", "issue_logs", "issue_queue", "parse_states", "rank_issues"]
