"""`remedy triage` and `remedy review`: an expert's decision about an issue, written as files.

`triage` writes `triage/<issue-id>.yaml` (remedy.files.triage). A new decision needs the logs, to
find the issue (by rank or id, as `remedy issues` shows it) and record its member queries; a file
that already exists is updated without them (and with them, gains the queries the issue has now).

`review` writes an Expert Review draft from the issue's representative failure (its query and
response), optionally a guidance draft from the explanation, and marks what it judged addressed in
the issue's triage file: the reviewed query (and the failures the decision rule matches to it). The
rest of the topic is not judged by it and stays in the queue, open (issue 33: a judgement applies to
the failures it covers or names; a topic may mix questions the review never read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remedy.analytics.analysis import analyse
from remedy.analytics.issue_queue import Issue, find_issue
from remedy.config import Config
from remedy.errors import InputError, UsageError
from remedy.files.folder import display_path
from remedy.files.scaffold import Draft, write_draft
from remedy.files.triage import ISSUE_ID, Triage, load_triage, write_triage
from remedy.owner_handles import owner_problem


@dataclass(frozen=True)
class Decision:
    """What `remedy triage` was asked to change; None leaves a field as it is."""

    state: str | None = None
    assignee: str | None = None
    note: str | None = None
    reopen: bool = False


@dataclass
class Written:
    triage: Triage
    path: Path
    created: bool
    drafts: list[Path] = field(default_factory=list)
    rest: Path | None = None  # the topic file keeping the part a review did not judge open


def triage_issue(config: Config, key: str, decision: Decision, log_paths: Sequence[str] = (),
                 **filters: Any) -> Written:
    """Create or update the triage file of issue `key` (rank or id)."""
    if decision.assignee is not None and owner_problem(decision.assignee):  # before reading any log
        raise UsageError(f"--assign: {owner_problem(decision.assignee)}")
    existing = load_triage(config.triage_dir).triages
    current = existing.get(key) if ISSUE_ID.fullmatch(key) and not key.isdigit() else None
    issue = None
    if log_paths:
        issue = _find(config, key, log_paths, filters, triaged=current is not None)
        current = existing.get(issue.cluster.id, current)
    elif current is None:
        what = f"rank {key} needs" if key.isdigit() else f"issue {key!r} has no triage file in {config.triage_dir} yet:"
        raise UsageError(f"{what} --logs PATH, so remedy can find the issue (rank or id as `remedy issues` shows "
                         "it) and record its queries")
    return _apply(config, current, issue, decision)


def review_issue(config: Config, key: str, verdict: str, log_paths: Sequence[str], *, explanation: str | None,
                 guidance: bool, **filters: Any) -> Written:
    """A review draft (and a guidance draft) from the issue's representative failure; the issue is addressed."""
    if guidance and not (explanation and explanation.strip()):
        raise UsageError("--guidance writes the explanation as guidance: give --explanation TEXT")
    analysis = analyse(config, log_paths)
    issue = find_issue(analysis, key, command="remedy review", **filters)
    row = analysis.con.execute(f"""
        SELECT log_id, query, response FROM {analysis.logs.table}
        WHERE is_failure AND normalized_query = $q AND response IS NOT NULL AND trim(response) <> ''
        ORDER BY severity DESC, ts DESC, log_id LIMIT 1""", {"q": issue.cluster.representative}).fetchone()
    if row is None:
        raise UsageError(f"issue {issue.cluster.id}: its representative failure has no response to review "
                         f"({issue.representative_query!r})")
    log_id, query, response = row
    drafts = [write_draft(config.remediations_dir, Draft("review", query, response, verdict=verdict, note=explanation,
                                                     source_logs=[str(log_id)]))]
    if guidance:
        drafts.append(write_draft(config.remediations_dir, Draft("guidance", query, explanation or "",
                                                             source_logs=[str(log_id)])))
    current = load_triage(config.triage_dir).triages.get(issue.cluster.id)
    note = f"Expert Review {drafts[0].stem} ({verdict})" + (f": {explanation}" if explanation else "")
    judged = issue.cluster.representative
    written = _apply(config, current, issue, Decision(state="addressed", note=note), only=[judged])
    written.drafts = drafts
    rest = [q for q in issue.cluster.queries if q != judged]
    if rest:  # the rest of the topic stays one open issue, labelled as the part no judgement covers
        written.rest = _keep_rest_open(config, issue.cluster.id, rest, f"the rest of issue {issue.cluster.id}: "
                                       f"the review {drafts[0].stem} judged {judged!r} only")
    return written


def _keep_rest_open(config: Config, issue_id: str, rest: list[str], note: str) -> Path | None:
    """A topic file `<issue-id>-rest` holding the queries a judgement did not cover (remedy.files.topic_files);
    queries another topic file already places stay where the expert put them."""
    from remedy.files.topic_files import TopicFile, load_topic_files, topic_path, topics_dir, write_topic

    root = topics_dir(config.triage_dir)
    folder = load_topic_files(root)
    rest_id = f"{issue_id}-rest"
    if folder.problems or not ISSUE_ID.fullmatch(rest_id) or rest_id in folder.files:
        return None
    # queries an expert moved into this issue go with the rest (the judgement did not read them); queries
    # another file places stay where the expert put them
    own = folder.files.get(issue_id)
    placed = {q for topic in folder.files.values() if topic is not own for q in topic.queries}
    free = [q for q in rest if q not in placed]
    if not free:
        return None
    if own is not None and own.queries:
        own.queries = [q for q in own.queries if q not in set(free)]
        if own.empty:
            topic_path(root, issue_id).unlink(missing_ok=True)
        else:
            write_topic(root, own)
    return write_topic(root, TopicFile(id=rest_id, queries=free, split_from=issue_id, note=note))


def _find(config: Config, key: str, log_paths: Sequence[str], filters: dict[str, Any], *, triaged: bool) -> Issue:
    from remedy.files.triage import STATES

    analysis = analyse(config, log_paths)
    if triaged:  # an id with a file: find it whatever its state
        filters = {**filters, "states": STATES}
    return find_issue(analysis, key, command="remedy triage", **filters)


def _apply(config: Config, current: Triage | None, issue: Issue | None, decision: Decision,
           only: list[str] | None = None) -> Written:
    """Write the decision; `only`: the issue's queries it applies to (default: all of them, as named)."""
    if current is None and issue is None:  # pragma: no cover - triage_issue checks
        raise UsageError("nothing to triage")
    target = current.id if current else issue.cluster.id  # type: ignore[union-attr]
    broken = [p for p in load_triage(config.triage_dir).problems if p.path.stem == target]
    if current is None and broken:  # a file that does not parse is the expert's: never replace it unread
        first = broken[0]
        raise InputError(f"{display_path(first.path)}:{first.position.line}:{first.position.column}: {first.code} "
                         f"{first.message}; fix the file (remedy validate shows every problem), then triage again")
    queries = list(current.queries) if current else []
    if issue is not None:
        queries += [q for q in (issue.cluster.queries if only is None else only) if q not in set(queries)]
    triage = Triage(id=current.id if current else issue.cluster.id,  # type: ignore[union-attr]
                    state=current.state if current else "open", queries=queries,
                    assignee=current.assignee if current else None, note=current.note if current else None,
                    representative=(current.representative if current and current.representative
                                    else issue.cluster.representative if issue else None))
    if decision.reopen:
        triage.state, triage.assignee = "open", None
    if decision.assignee is not None:
        triage.state, triage.assignee = "assigned", decision.assignee
    if decision.state is not None:
        triage.state = decision.state
    if decision.note is not None:
        triage.note = decision.note or None
    path = write_triage(config.triage_dir, triage)
    return Written(triage=triage, path=path, created=current is None)

