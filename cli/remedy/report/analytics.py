"""Summaries of analytics results for a person reading a terminal or a PR comment."""

from __future__ import annotations

import json
import math
from typing import Any


def coverage_summary(report: dict[str, Any]) -> str:
    logs = report["logs"]
    share = report["addressed_share"]
    share_text = f"{100 * share:.1f}%" if share is not None else "n/a"
    active = report["by_status"]["active"]["addressed_failures"]
    return (f"{logs['total']:,} logs, {logs['failures']:,} failures: {logs['addressed_failures']:,} addressed "
            f"({share_text}; {active:,} by active entries), {logs['unaddressed_failures']:,} unaddressed; "
            f"preventions from {report['preventions_source']}"
            + (f"; {logs['skipped_lines']:,} malformed lines skipped" if logs["skipped_lines"] else ""))


def preview_summary(report: dict[str, Any]) -> str:
    return (f"{report['id']} would capture {report['captured_logs']:,} past logs "
            f"({report['captured_failures']:,} failures, {report['captured_non_failures']:,} non-failures, "
            f"{report['taken_over']:,} now going to another entry) at threshold {report['threshold']:.2f}, "
            f"margin {report['margin']:.2f}; check the top rows (least certain) for false matches")


def issue_text(document: dict[str, Any], fmt: str) -> str:
    heading = "## " if fmt == "markdown" else ""
    lines = [f"{heading}issue {document['rank']} ({document['id']}): {document['representative_query']}",
             f"{document['size']} failures, mean severity {document['mean_severity']:.2f}, impact "
             f"{document['impact']:.2f}, primary issue {document['primary_issue']}",
             f"state {document['state']}" + (f", assignee {document['assignee']}" if document["assignee"] else "")
             + f"; first seen {document['first_seen']}, last seen {document['last_seen']}; last 7 days "
             f"{document['trend']['last_7_days']} vs {document['trend']['previous_7_days']} the 7 before"
             + (f"\nnote: {document['note']}" if document.get("note") else ""), "",
             f"{heading}queries ({len(document['queries'])} distinct):"]
    lines += [f"  - {query}" for query in document["queries"][:30]]
    lines += ["", f"{heading}logs (most severe first):"]
    for row in document["logs"]:
        lines += [f"  {row['log_id']}  {row['timestamp']}  severity {row['severity']:.2f}  {row['primary_issue']}",
                  f"    query:    {row['query']}", f"    response: {row['response'] or ''}"]
        if row.get("context"):
            lines.append(f"    context:  {row['context']}")
        if row.get("scores"):
            lines.append(f"    scores:   {json.dumps(row['scores'], default=str)}")
        if row.get("metadata"):
            lines.append(f"    metadata: {row['metadata']}")
    lines += ["", f"remediate: {document['remediate']}",
              f"or decide: remedy triage {document['id']} --logs … --addressed | --no-action | --wont-fix | "
              "--assign HANDLE; or judge the response: remedy review " + document["id"] + " --logs … --good | --bad"]
    return "\n".join(lines) + "\n"


ISSUE_COLUMNS = ("rank", "id", "state", "assignee", "size", "impact", "mean_severity", "first_seen", "last_seen",
                 "trend", "primary_issue", "representative_query")


def issues_rows(queue: Any, fmt: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The issue queue as rows: JSON keeps every field; tables show the trend as `last 7 days vs the 7 before`."""
    rows = [issue.as_dict() for issue in queue.issues]
    if fmt == "json":
        return rows, ISSUE_COLUMNS
    flat = []
    for row in rows:
        trend = row["trend"]
        flat.append({**row, "trend": f"{trend['last_7_days']} vs {trend['previous_7_days']}",
                     "first_seen": (row["first_seen"] or "")[:10], "last_seen": (row["last_seen"] or "")[:10],
                     "log_ids": len(row["log_ids"])})
    return flat, ISSUE_COLUMNS


def issues_footnote(queue: Any) -> str:
    half_life = "inf (impact = failures x mean severity)" if math.isinf(queue.half_life_seconds) else \
        f"{queue.half_life_seconds / 86_400:g} days"
    newest = queue.newest_log.isoformat() + "Z" if queue.newest_log else "none"
    lines = [f"{len(queue.issues)} issue(s); impact = sum of severity x 2^(-age / half-life), half-life {half_life}, "
             f"age from the newest log ({newest}); size is the raw failure count; trend: last 7 days vs the 7 before",
             "failures covered by an active or DRAFT remediation are not listed (a draft covers its issue: "
             "`remedy coverage --status draft`)"]
    if queue.hidden_by_state:
        lines.append(f"{queue.hidden_by_state} triaged issue(s) hidden by state (`--state all` shows them)")
    if queue.issues:
        lines.append("`remedy issue N --logs …` shows one in full; `remedy triage N --logs …` records a decision")
    return "\n".join(lines)
