"""`remedy issues` / `remedy issue N`: failures clustered by similarity and ranked by impact.

impact = frequency (failure logs in the cluster) x mean severity. No recency weighting: use
`--since` to rank only recent logs. Two failures belong together when one answer could cover both:
the clustering uses the matcher's own threshold. A cluster's id is a hash of its representative
(most frequent) query, so it is stable between runs on the same data and remediations; N in
`remedy issue N` is the rank in the list, and the id works too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from remedy.analytics.analysis import Analysis
from remedy.analytics.tables import create_table
from remedy.errors import UsageError
from remedy.logs.clustering import Cluster, cluster_failures
from remedy.logs.reading import iter_distinct_queries

STATUSES = ("unaddressed", "addressed", "all")


@dataclass(frozen=True)
class Issue:
    rank: int
    cluster: Cluster
    primary_issue: str
    representative_query: str
    log_ids: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "id": self.cluster.id, "size": self.cluster.size,
                "mean_severity": round(self.cluster.mean_severity, 4), "impact": round(self.cluster.impact, 4),
                "primary_issue": self.primary_issue, "representative_query": self.representative_query,
                "distinct_queries": len(self.cluster.members), "log_ids": self.log_ids}


def failure_filter(attributions: str, status: str, primary_issue: str | None) -> str | None:
    if status not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not '{status}'")
    attributed = f"normalized_query IN (SELECT normalized_query FROM {attributions} WHERE role IN ('active', 'draft'))"
    conditions = {"unaddressed": [f"NOT ({attributed})"], "addressed": [attributed], "all": []}[status]
    if primary_issue:
        conditions.append("primary_issue = '" + primary_issue.replace("'", "''") + "'")
    return " AND ".join(conditions) or None


def rank_issues(analysis: Analysis, *, status: str = "unaddressed", primary_issue: str | None = None,
                top: int | None = None) -> list[Issue]:
    clusters = rank_clusters(analysis, status=status, primary_issue=primary_issue)
    return describe_issues(analysis, clusters[:top] if top else clusters, status=status, primary_issue=primary_issue)


def rank_clusters(analysis: Analysis, *, status: str = "unaddressed", primary_issue: str | None = None
                  ) -> list[Cluster]:
    """Every cluster, ranked by impact; `describe_issues` turns the ones to show into issues."""
    where = failure_filter(analysis.attributions, status, primary_issue)
    keys: list[str] = []
    weights, severities, vectors = [], [], []
    for batch in iter_distinct_queries(analysis.logs, failures_only=True, where=where):
        keys.extend(batch.normalized_queries)
        weights.append(batch.failures)
        severities.append(batch.mean_severity)
        vectors.append(analysis.folder.encode(batch.normalized_queries))
    if not keys:
        return []
    return cluster_failures(np.concatenate(vectors), np.concatenate(weights), np.concatenate(severities), keys,
                            threshold=analysis.folder.threshold)


def describe_issues(analysis: Analysis, clusters: list[Cluster], *, status: str = "unaddressed",
                    primary_issue: str | None = None) -> list[Issue]:
    """Ranked clusters as issues (log ids, primary issue, the representative's spelling), ranks from 1."""
    return _describe(analysis, clusters, failure_filter(analysis.attributions, status, primary_issue))


def find_issue(analysis: Analysis, key: str, **filters: Any) -> Issue:
    """The issue ranked N (a number) or with the given cluster id."""
    issues = rank_issues(analysis, **filters)
    for issue in issues:
        if key == str(issue.rank) or key == issue.cluster.id:
            return issue
    raise UsageError(f"no issue {key!r}: there are {len(issues)} issues with these filters "
                     "(numbers are ranks from `remedy issues` with the same options; ids work too)")


def issue_logs(analysis: Analysis, issue: Issue, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The failure logs of one issue in full, most severe first."""
    con = analysis.con
    create_table(con, "issue_ids", {"log_id": "VARCHAR"}, {"log_id": issue.log_ids})
    rows = con.execute(f"""
        SELECT log_id, ts, query, response, context, scores, primary_issue, severity, served_remediation,
               metadata, source_file, line_number
        FROM {analysis.logs.table} WHERE log_id IN (SELECT log_id FROM issue_ids) AND is_failure
        ORDER BY severity DESC, ts DESC, log_id {f'LIMIT {int(limit)}' if limit else ''}""").fetchall()
    names = ("log_id", "timestamp", "query", "response", "context", "scores", "primary_issue", "severity",
             "served_remediation", "metadata", "source_file", "line_number")
    return [dict(zip(names, row, strict=True)) for row in rows]


def _describe(analysis: Analysis, clusters: list[Cluster], where: str | None) -> list[Issue]:
    con, logs = analysis.con, analysis.logs.table
    create_table(con, "cluster_members", {"normalized_query": "VARCHAR", "cluster": "VARCHAR"},
                 {"normalized_query": [q for c in clusters for q in c.queries],
                  "cluster": [c.id for c in clusters for _ in c.queries]})
    condition = f"AND {where}" if where else ""
    # Ties (two spellings as frequent, two primary issues as common) go to the first in text order:
    # DuckDB's mode() picks whichever a thread saw first, and the same input must give the same output.
    facts = con.execute(f"""
        SELECT cluster, list(log_id ORDER BY ts, log_id), first(issue ORDER BY n DESC, issue)
        FROM (SELECT m.cluster, l.log_id, l.ts, coalesce(l.primary_issue, 'other') AS issue,
                     count(*) OVER (PARTITION BY m.cluster, coalesce(l.primary_issue, 'other')) AS n
              FROM {logs} l JOIN cluster_members m USING (normalized_query)
              WHERE l.is_failure {condition})
        GROUP BY cluster""")
    by_cluster = {row[0]: row[1:] for row in facts.fetchall()}
    spelling = dict(con.execute(f"""
        SELECT normalized_query, first(query ORDER BY n DESC, query)
        FROM (SELECT normalized_query, query, count(*) AS n FROM {logs}
              WHERE normalized_query IN (SELECT unnest($reps)) GROUP BY ALL)
        GROUP BY normalized_query""", {"reps": [c.representative for c in clusters]}).fetchall())
    issues = []
    for rank, cluster in enumerate(clusters, start=1):
        log_ids, primary = by_cluster.get(cluster.id, ([], "other"))
        raw = spelling.get(cluster.representative)
        issues.append(Issue(rank, cluster, primary, raw or cluster.representative, [str(i) for i in log_ids]))
    return issues
