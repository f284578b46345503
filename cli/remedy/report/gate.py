"""`remedy check` results as text, JSON, a Markdown pull-request comment, or GitHub annotations."""

from __future__ import annotations

from typing import Any

from remedy.files.folder import display_path
from remedy.gate.changes import Change
from remedy.problems import count_errors
from remedy.pull_request_check import CheckResult
from remedy.report.markdown_text import markdown_block, markdown_code, markdown_text
from remedy.report.problems import problems_github, problems_text
from remedy.report.tables import json_document


def check_document(result: CheckResult) -> dict[str, Any]:
    errors = count_errors(result.problems)
    impact = result.impact
    return {
        "base": result.base_ref, "base_commit": result.base_commit, "passed": errors == 0,
        "judge": result.judge.as_dict() if result.judge else None,
        "errors": errors, "warnings": len(result.problems) - errors,
        "problems": [problem.as_dict() for problem in result.problems],
        "changes": [{"id": c.id, "change": c.what if c.what != "unchanged" else "renamed", "fields": list(c.fields),
                     "moved": c.moved, "file": _file(c), **result.history.get(c.id, {}),
                     **result.owners.get(c.id, {})} for c in result.changes],
        "impact": None if impact is None else {
            "failures": impact.failures, "addressed_before": impact.addressed_before,
            "addressed_after": impact.addressed_after,
            "share_before": _round(impact.share_before), "share_after": _round(impact.share_after),
            "preventions_source": impact.preventions_source, "skipped_lines": impact.skipped_lines,
            "entries": impact.entries},
    }


def check_json(result: CheckResult) -> str:
    return json_document(check_document(result))


def check_text(result: CheckResult) -> str:
    document = check_document(result)
    lines = [_summary(document), *([result.judge.describe()] if result.judge else []), ""]
    for change in document["changes"]:
        fields = f" ({', '.join(change['fields'])})" if change["fields"] else ""
        ask = ", ".join(owners_to_ask(change))
        lines.append(f"  {change['change']:<9} {change['id']}{fields}{' [moved]' if change['moved'] else ''}"
                     + (f"  owners: {ask}" if ask else ""))
    if document["impact"]:
        lines += ["", _impact_line(document["impact"])]
        lines += [f"  {e.id}: +{e.newly_covered} / -{e.no_longer_covered} failures covered"
                  for e in document["impact"]["entries"]]
    text = "\n".join(lines) + "\n"
    return text + ("\n" + problems_text(result.problems) if result.problems else "")


def check_markdown(result: CheckResult) -> str:
    """A compact PR comment: a summary line, a table of the changed entries, the problems."""
    document = check_document(result)
    impact = document["impact"]
    lines = [f"### remedy check: {'✅ passed' if document['passed'] else '❌ failed'}", "", _summary(document)]
    if result.judge:
        lines += ["", result.judge.describe()]
    everyone = list(dict.fromkeys(owner for change in document["changes"] for owner in owners_to_ask(change)))
    if everyone:
        lines += ["", f"owners to ask for review: {_handles(everyone)}"]
    if impact:
        lines += ["", _impact_line(impact)]
    if document["changes"]:
        by_id = {e.id: e for e in impact["entries"]} if impact else {}
        header = "| entry | change | fields | last edited by | owners to ask |" + (
            " failures newly covered | no longer covered |" if impact else "")
        lines += ["", header, "|---|---|---|---|---|" + ("---|---|" if impact else "")]
        for change in document["changes"]:
            row = (f"| {_code(change['id'], cell=True)} | {change['change']} | {', '.join(change['fields']) or '—'} | "
                   f"{_text(change.get('updated_by') or 'uncommitted', cell=True)} | "
                   f"{_handles(owners_to_ask(change), cell=True) or '—'} |")
            if impact:
                entry = by_id.get(change["id"])
                row += f" {entry.newly_covered if entry else 0} | {entry.no_longer_covered if entry else 0} |"
            lines.append(row)
    lines += _text_changes(result.changes)
    if result.problems:
        lines += ["", "**Problems**", ""]
        lines += [f"- {_code(f'{p.file}:{p.line}')} **{p.code}** {p.severity}: {_text(p.message)}"
                  for p in result.problems]
    return "\n".join(lines) + "\n"


def _text_changes(changes: list[Change]) -> list[str]:
    """The old and the new question / answer text of each entry whose text changed, so reviewers see the edit."""
    lines = []
    for change in changes:
        old, new = change.base, change.current
        if change.what != "modified" or old is None or new is None:
            continue
        for field, key in (("question", "question"), ("text", "answer" if new.kind == "answer" else new.kind)):
            if field in change.fields:
                before, after = (getattr(entry, field) for entry in (old, new))
                lines += ["", f"**{markdown_code(change.id)}: {key} changed**", "", "before:",
                          markdown_block(before), "after:", markdown_block(after)]
    return (["", "**Text changes**"] + lines) if lines else []


def owners_to_ask(change: dict[str, Any]) -> list[str]:
    """The owners at the base (who must agree to a change of their entry) and now, each once."""
    return list(dict.fromkeys([*(change.get("base_owners") or []), *(change.get("owners") or [])]))


def _handles(owners: list[str], *, cell: bool = False) -> str:
    # In code spans: a comment re-posted on every push must not notify the teams each time
    # (CODEOWNERS requests their review once).
    return ", ".join(_code(owner, cell=cell) for owner in owners)


# Text from the pull request (a git author, a file name, a query quoted in a message) must stay inside its
# table cell or list item and render as the characters it is: report/markdown_text.py.
def _text(text: str, *, cell: bool = False) -> str:
    return markdown_text(text)


def _code(text: str, *, cell: bool = False) -> str:
    return markdown_code(text)


def check_github(result: CheckResult) -> str:
    return problems_github(result.problems)


def _summary(document: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for change in document["changes"]:
        counts[change["change"]] = counts.get(change["change"], 0) + 1
    changed = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no remediation changes"
    return (f"against {document['base']} ({document['base_commit'][:8]}): {changed}; "
            f"{document['errors']} error(s), {document['warnings']} warning(s)")


def _impact_line(impact: dict[str, Any]) -> str:
    before, after = impact["share_before"], impact["share_after"]
    if before is None:
        return "impact: no failures in the logs"
    delta = impact["addressed_after"] - impact["addressed_before"]
    return (f"impact on {impact['failures']:,} past failures: addressed {100 * before:.1f}% → {100 * after:.1f}% "
            f"({delta:+,} failures)")


def _file(change: Change) -> str | None:
    entry = change.current or change.base
    return display_path(entry.path) if entry is not None else None


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
