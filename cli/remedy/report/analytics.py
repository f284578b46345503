"""Summaries of analytics results for a person reading a terminal or a PR comment."""

from __future__ import annotations

import json
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
             f"{document['impact']:.2f}, primary issue {document['primary_issue']}", "",
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
    lines += ["", f"remediate: {document['remediate']}"]
    return "\n".join(lines) + "\n"
