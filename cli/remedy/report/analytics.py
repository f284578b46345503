"""How the analytics results show as tables, Markdown and text: their columns and headline totals."""

from __future__ import annotations

import json
from typing import Any

from remedy.analytics.coverage import CoverageReport, CoverageRow
from remedy.analytics.issue_queue import IssueDetail, IssueList, IssueSummary
from remedy.analytics.preview import Preview
from remedy.matching.settings_origin import settings_text
from remedy.report.markdown_text import markdown_lines
from remedy.report.tables import View, iso_z


def coverage_summary(report: CoverageReport) -> str:
    logs = report.logs
    share = report.addressed_share
    share_text = f"{100 * share:.1f}%" if share is not None else "n/a"
    active = report.by_status.active.addressed_failures
    return (f"{logs.total:,} logs, {logs.failures:,} failures: {logs.addressed_failures:,} addressed by remediations "
            f"({share_text}; {active:,} by active entries), {logs.unaddressed_failures:,} not"
            + (f" ({triaged_text(report)})" if report.triaged is not None else "")
            + f"; answers served from {report.preventions_source}; failures prevented: the serves where the log "
            "is a failure or the same query failed where no answer was served"
            + (f"; {logs.skipped_lines:,} malformed lines skipped" if logs.skipped_lines else ""))


def triaged_text(report: CoverageReport) -> str:
    """The triaged-away failures beside the addressed share: decisions count, but not as remediations."""
    triaged = report.triaged
    assert triaged is not None
    if not triaged.total:
        return "none triaged away"
    share = f", {100 * triaged.total / report.logs.failures:.1f}%" if report.logs.failures else ""
    left = report.logs.unaddressed_failures - triaged.total
    return (f"{triaged.total:,} of them triaged away{share}: {triaged.addressed:,} addressed, "
            f"{triaged.no_action_needed:,} no action needed, {triaged.wont_fix:,} won't fix; {left:,} left for the "
            "queue")


def coverage_cells(row: CoverageRow) -> dict[str, Any]:
    """Tables name each number for what it counts: serves, and the failures among them prevented."""
    return {"id": row.id, "kind": row.kind, "status": row.status, "covered_failures": row.covered_failures,
            "covered_logs": row.covered_logs, "answers_served": row.answers_served,
            "failures_prevented": row.failures_prevented, "last_served": row.last_prevention}


COVERAGE = View(rows="remediations", columns=("id", "kind", "status", "covered_failures", "covered_logs",
                                              "answers_served", "failures_prevented", "last_served"),
                headline=coverage_summary, cells=coverage_cells)


def preview_summary(report: Preview) -> str:
    return (f"{report.id} would capture {report.captured_logs:,} past logs "
            f"({report.captured_failures:,} failures, {report.captured_non_failures:,} non-failures, "
            f"{report.taken_over:,} now going to another entry) at {settings_text(report.threshold, report.margin)}"
            "; check the top rows (least certain) for false matches; judge the "
            f"near misses and paraphrases just below it with remedy suggest {report.id} --logs … --served --out "
            "labels.yaml, then remedy suggest --apply labels.yaml")


PREVIEW = View(rows="logs", columns=("similarity", "margin", "failure", "currently", "log_id", "timestamp", "query"),
               headline=preview_summary)


def issue_text(issue: IssueDetail, fmt: str) -> str:
    """`remedy issue N` for a person (table) or a pull request or ticket (markdown)."""
    heading = "## " if fmt == "markdown" else ""
    # In a ticket or a pull request, texts from the logs are text, never Markdown (report/markdown_text.py).
    t = markdown_lines if fmt == "markdown" else str
    lines = [f"{heading}issue {issue.rank} ({issue.id}): {t(issue.representative_query)}",
             f"{issue.size} failures, mean severity {issue.mean_severity:.2f}, impact "
             f"{issue.impact:.2f}, primary issue {t(issue.primary_issue)}",
             f"state {issue.state}" + (f", assignee {t(issue.assignee)}" if issue.assignee else "")
             + f"; first seen {_iso(issue.first_seen)}, last seen {_iso(issue.last_seen)}; last 7 days "
             f"{issue.trend.last_7_days} vs {issue.trend.previous_7_days} the 7 before"
             + (f"\nnote: {t(issue.note)}" if issue.note else "")
             + "".join(f"\ndraft in progress: {t(draft)} (still a scaffold: write its text; until then the issue "
                       "stays listed)" for draft in issue.drafts_in_progress)
             + "".join(f"\nregrouped by an expert: {t(name)}" for name in issue.regrouped_by), "",
             f"{heading}queries ({_queries_shown(len(issue.queries))}):"]
    lines += [f"  - {t(query)}" for query in issue.queries[:QUERIES_SHOWN]]
    lines += ["", f"{heading}logs (most severe first):"]
    for row in issue.logs:
        lines += [f"  {t(row.log_id)}  {iso_z(row.timestamp)}  severity {row.severity or 0.0:.2f}  "
                  f"{t(row.primary_issue)}",
                  _labelled("query", t(row.query)), _labelled("response", t(row.response or ""))]
        if row.context:
            lines.append(_labelled("context", t(row.context)))
        if row.scores:
            lines.append(f"    scores:   {t(json.dumps(row.scores, default=str))}")
        if row.metadata:
            lines.append(f"    metadata: {t(json.dumps(row.metadata, ensure_ascii=False, default=str))}")
    lines += ["", f"remediate: {issue.remediate}",
              f"or decide: remedy triage {issue.id} --logs … --addressed | --no-action | --wont-fix | "
              "--assign HANDLE; or judge the response: remedy review " + issue.id + " --logs … --good | --bad",
              "once the answer exists: remedy suggest ID --logs … --out labels.yaml (the log's paraphrases to judge "
              "yes / no), then remedy suggest --apply labels.yaml"]
    return "\n".join(lines) + "\n"


QUERIES_SHOWN = 30  # an issue's distinct queries a person reads; JSON and CSV carry them all


def _queries_shown(distinct: int) -> str:
    """Say when the list is cut: "83 distinct" over 30 lines read as if the other 53 were missing."""
    if distinct <= QUERIES_SHOWN:
        return f"{distinct} distinct"
    return f"{distinct} distinct, the first {QUERIES_SHOWN} shown; --format json lists all"


def _labelled(label: str, text: str) -> str:
    """`    label:    text`, its later lines indented under the first: a multi-line response or a context of
    several passages (joined by a blank line) stays readable as one block of this log."""
    indent = " " * 14
    first, *rest = text.split("\n")
    return f"    {label + ':':<10}{first}" + "".join(f"\n{indent}{line}" if line.strip() else "\n" for line in rest)


# CSV: the issue's logs, one a row (the text formats show them with the issue's summary).
ISSUE = View(rows="logs", columns=("log_id", "timestamp", "severity", "primary_issue", "query", "response",
                                   "served_remediation", "source_file", "line_number"), text=issue_text)


def _iso(moment: Any) -> str:
    return iso_z(moment) if moment is not None else "none"


def issue_cells(issue: IssueSummary) -> dict[str, Any]:
    """Tables show the trend as `last 7 days vs the 7 before` and the days first and last seen."""
    state = f"{issue.state}, draft in progress" if issue.drafts_in_progress else issue.state
    if issue.regrouped_by:
        state += ", regrouped"
    return {"rank": issue.rank, "id": issue.id, "state": state, "assignee": issue.assignee,
            "size": issue.size, "impact": issue.impact, "mean_severity": issue.mean_severity,
            "first_seen": issue.first_seen.date().isoformat() if issue.first_seen else None,
            "last_seen": issue.last_seen.date().isoformat() if issue.last_seen else None,
            "trend": f"{issue.trend.last_7_days} vs {issue.trend.previous_7_days}",
            "primary_issue": issue.primary_issue, "representative_query": issue.representative_query}


def issues_footnote(queue: IssueList) -> str:
    half_life = "inf (impact = failures x mean severity)" if queue.half_life_days is None else \
        f"{queue.half_life_days:g} days"
    newest = iso_z(queue.newest_log) if queue.newest_log else "none"
    shown = f"{len(queue.issues)} of {queue.total} issues" if queue.total > len(queue.issues) else \
        f"{len(queue.issues)} issue(s)"
    lines = [f"{shown}; impact = sum of severity x 2^(-age / half-life), half-life {half_life}, "
             f"age from the newest log ({newest}); size is the raw failure count; trend: last 7 days vs the 7 before",
             "failures covered by an active or DRAFT remediation are not listed (a draft covers its issue: "
             "`remedy coverage --status draft`), unless the draft is still a scaffold (TODO): then its issue "
             "stays, marked \"draft in progress\""]
    in_progress = sum(1 for issue in queue.issues if issue.drafts_in_progress)
    if in_progress:
        lines.append(f"{in_progress} listed issue(s) have a draft in progress that is still a scaffold "
                     "(`remedy issue ID` names it; `remedy validate` flags it W003)")
    if queue.hidden_by_state:
        lines.append(f"{queue.hidden_by_state} triaged issue(s) hidden by state (`--state all` shows them)")
    regrouped = sum(1 for issue in queue.issues if issue.regrouped_by)
    if regrouped:
        lines.append(f"{regrouped} listed issue(s) regrouped by the expert's topic files (state \"regrouped\"; "
                     "`remedy issue ID` names the files)")
    if queue.issues:
        first = queue.issues[0].id  # ids never move; a rank would mean this printed queue only
        lines.append(f"`remedy issue {first} --logs …` shows one in full; `remedy triage {first} --logs …` records a "
                     "decision (by id, which never changes; a rank means the queue as printed here)")
    return "\n".join(lines)


ISSUES = View(rows="issues", columns=("rank", "id", "state", "assignee", "size", "impact", "mean_severity",
                                      "first_seen", "last_seen", "trend", "primary_issue", "representative_query"),
              headline=issues_footnote, cells=issue_cells)
