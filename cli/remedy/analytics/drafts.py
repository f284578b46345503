"""`remedy new … --from-log ID / --from-issue N`: a draft prefilled from the logs."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from remedy.analytics.analysis import Analysis, analyse
from remedy.analytics.issue_queue import Issue, find_issue
from remedy.analytics.tables import one_row
from remedy.config import Config
from remedy.errors import UsageError
from remedy.files.scaffold import Draft
from remedy.logs.project import read_project_logs

MAX_SOURCE_LOGS = 20
MAX_CANDIDATES = 25
# The SME writes the real text; `validate` flags this placeholder (W003) and `activate` refuses it.
PLACEHOLDER = {"answer": "TODO: write the answer the assistant must give, with a link to the policy page.",
               "guidance": "TODO: write the advice the assistant should follow for questions like this."}


def draft_from_log(config: Config, kind: str, log_id: str, log_paths: Sequence[str], *, text: str | None,
                   verdict: str | None = None, note: str | None = None) -> Draft:

    logs = read_project_logs(config, log_paths)
    row = logs.connection.execute(f"SELECT query, response FROM {logs.table} WHERE log_id = $id LIMIT 1",
                                  {"id": log_id}).fetchone()
    if row is None:
        raise UsageError(f"no log with id '{log_id}' in {', '.join(log_paths)}")
    query, response = row
    if kind == "review":
        return Draft(kind, query, text or response or "", verdict=verdict, note=note, source_logs=[log_id])
    return Draft(kind, query, text or PLACEHOLDER[kind], source_logs=[log_id])


def draft_from_issue(config: Config, kind: str, key: str, log_paths: Sequence[str], *, text: str | None,
                     verdict: str | None = None, note: str | None = None, since: datetime.datetime | None = None,
                     until: datetime.datetime | None = None, **filters: Any) -> Draft:
    analysis = analyse(config, log_paths, since=since, until=until)
    issue = find_issue(analysis, key, command=f"remedy new {kind} --from-issue", **filters)
    return draft_for_issue(analysis, issue, kind, text=text, verdict=verdict, note=note)


def draft_for_issue(analysis: Analysis, issue: Issue, kind: str, *, text: str | None = None,
                    verdict: str | None = None, note: str | None = None) -> Draft:
    """The draft `new KIND --from-issue` writes for `issue`: its question, source logs and candidate paraphrases."""
    question = issue.representative_query
    # Each phrasing's most frequent spelling, most frequent phrasing first; ties in text order (deterministic).
    raw = analysis.con.execute(f"""
        SELECT first(query ORDER BY n DESC, query) FROM (
            SELECT normalized_query, query, count(*) AS n FROM {analysis.logs.table}
            WHERE normalized_query IN (SELECT unnest($queries)) GROUP BY ALL)
        GROUP BY normalized_query ORDER BY sum(n) DESC, normalized_query""",
                               {"queries": list(issue.cluster.queries)}).fetchall()
    candidates = [q for (q,) in raw if q and q.strip() and q != question][:MAX_CANDIDATES]
    source = issue.log_ids[:MAX_SOURCE_LOGS]
    if kind == "review":
        response = one_row(analysis.con, f"SELECT any_value(response) FROM {analysis.logs.table} WHERE log_id = $id",
                           {"id": source[0]})[0]
        return Draft(kind, question, text or response or "", verdict=verdict, note=note, source_logs=source,
                     candidate_also_matches=candidates)
    return Draft(kind, question, text or PLACEHOLDER[kind], source_logs=source, candidate_also_matches=candidates)
