"""What the workspace's pages show and do, over the core functions the commands call (never a copy of them).

The queue is `issue_queue`, an issue `issue_detail`, Yes / No `review_issue`, Skip / assign / note
`triage_issue`, an answer draft `draft_for_issue` + `write_draft` (what `new answer --from-issue` writes),
activate / pause `change_status`, the try box `explain_query`, counts `coverage_report`. Each save runs inside
`Repository.save`, so it is one commit on the expert's branch or nothing at all.

One analysis of the logs is kept while the remediation and triage files stay as they are (their names, sizes
and modification times): a page reads it instead of reading the logs again; a save changes the files and the
next page analyses afresh (warm: the caches in .remedy/ make that about half a second on the demo).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remedy.analytics.analysis import Analysis, analyse
from remedy.analytics.coverage import (
    CoverageReport,
    coverage_partials,
    coverage_report,
    failures_prevented,
    uses_served_field,
)
from remedy.analytics.drafts import draft_for_issue
from remedy.analytics.issue_queue import Issue, IssueDetail, issue_detail, issue_queue
from remedy.analytics.triage_decisions import Decision, Written, review_issue, triage_issue
from remedy.config import Config
from remedy.errors import RemedyError, UsageError
from remedy.files.folder import display_path, load_folder
from remedy.files.scaffold import Draft, write_draft
from remedy.files.triage import OPEN_STATES, STATES, triage_path
from remedy.lifecycle import StatusChange, change_status
from remedy.workspace.repository import Repository, Saved

PAGE_SIZE = 25
ABSENT = "absent"  # the content hash of a file that does not exist


@dataclass(frozen=True)
class Filters:
    """The Issues view's filters, as in its URL (a view can be bookmarked and shared)."""

    state: str = "open,assigned"
    status: str = "unaddressed"
    primary_issue: str = ""
    assignee: str = ""
    q: str = ""
    page: int = 1

    def queue_options(self) -> dict[str, Any]:
        from remedy.analytics.issue_queue import parse_states

        return {"status": self.status, "primary_issue": self.primary_issue or None,
                "states": parse_states(self.state), "assignee": self.assignee or None}

    def query(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {**self.__dict__, **changes}
        defaults = Filters().__dict__
        return urlencode({k: v for k, v in values.items() if v != defaults[k]})


@dataclass(frozen=True)
class Counts:
    failures: int
    unaddressed: int
    addressed_share: float | None
    total_logs: int


@dataclass(frozen=True)
class QueuePage:
    issues: list[Issue]
    total: int  # after the filters and the search, before paging
    page: int
    pages: int
    counts: Counts
    primary_issues: list[str]


@dataclass(frozen=True)
class IssuePage:
    detail: IssueDetail
    previous: str | None  # issue ids around this one in the same view (j / k)
    next: str | None
    triage_hash: str
    suggestions: list[str]


@dataclass
class DraftForm:
    """What the expert typed on the No page."""

    explanation: str = ""
    question: str = ""
    answer: str = ""
    also_matches: list[str] = field(default_factory=list)
    must_not_match: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)  # the paraphrases offered, as the page showed them


def content_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        return ABSENT


# How many paraphrases an issue page offers to tick or refuse (about ten clicks per answer doubled what
# is served in the simulations: docs/matching.md).
MAX_SUGGESTIONS = 12


class Workspace:
    def __init__(self, config: Config, log_paths: Sequence[str], repository: Repository) -> None:
        self.config, self.log_paths, self.repository = config, list(log_paths), repository
        self._lock = threading.RLock()  # one DuckDB connection: one page at a time reads it
        self._analysis: tuple[tuple, Analysis] | None = None
        self._suggested: dict[tuple, list[str]] = {}  # the last issue page's suggestions from the logs

    # -- reading ------------------------------------------------------------------------------------
    def analysis(self) -> Analysis:
        with self._lock:
            key = self._fingerprint()
            if self._analysis is None or self._analysis[0] != key:
                self._analysis = (key, analyse(self.config, self.log_paths, failure_logs=True,
                                               partials=coverage_partials()))
            return self._analysis[1]

    def _fingerprint(self) -> tuple:
        files = []
        for folder in (self.config.remediations_dir, self.config.triage_dir):
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.suffix in (".yaml", ".yml") and not path.name.startswith("."):
                        stat = path.stat()
                        files.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(files)

    def queue(self, filters: Filters) -> list[Issue]:
        with self._lock:
            issues = issue_queue(self.analysis(), **filters.queue_options()).issues
        if filters.q.strip():
            needle = filters.q.strip().casefold()
            issues = [issue for issue in issues if needle in issue.representative_query.casefold()
                      or any(needle in query for query in issue.cluster.queries)]
        return issues

    def counts(self) -> Counts:
        with self._lock:
            report = self.coverage()
        return Counts(failures=report.logs.failures, unaddressed=report.logs.unaddressed_failures,
                      addressed_share=report.addressed_share, total_logs=report.logs.total)

    def coverage(self) -> CoverageReport:
        with self._lock:
            return coverage_report(self.analysis())

    def preventions(self) -> dict[str, int]:
        with self._lock:
            analysis = self.analysis()
            return failures_prevented(analysis, uses_served_field(analysis)) or {}

    def queue_page(self, filters: Filters) -> QueuePage:
        with self._lock:
            issues = self.queue(filters)
            analysis = self.analysis()
            seen = [row[0] for row in analysis.con.execute(
                f"SELECT DISTINCT coalesce(primary_issue, 'other') FROM {analysis.logs.table} WHERE is_failure "
                "ORDER BY 1").fetchall()]
            counts = self.counts()
        pages = max(1, -(-len(issues) // PAGE_SIZE))
        page = min(max(filters.page, 1), pages)
        shown = issues[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        return QueuePage(shown, len(issues), page, pages, counts, seen)

    def find(self, issue_id: str, filters: Filters) -> tuple[Issue, list[Issue]]:
        issues = self.queue(filters)
        for issue in issues:
            if issue.cluster.id == issue_id:
                return issue, issues
        raise UsageError(f"no issue {issue_id!r} in this view any more: it may have been addressed or triaged "
                         "since the page was read (open the Issues view again)")

    def issue_page(self, issue_id: str, filters: Filters) -> IssuePage:
        with self._lock:
            issue, issues = self.find(issue_id, filters)
            detail = issue_detail(self.analysis(), issue, self.log_paths, limit=20)
            suggestions = self.suggestions(issue)
        at = issues.index(issue)
        return IssuePage(detail=detail, previous=issues[at - 1].cluster.id if at > 0 else None,
                         next=issues[at + 1].cluster.id if at + 1 < len(issues) else None,
                         triage_hash=content_hash(triage_path(self.config.triage_dir, issue_id)),
                         suggestions=suggestions)

    def suggestions(self, issue: Issue) -> list[str]:
        """The paraphrases offered as checkboxes: the topic's other queries (the candidates `new answer
        --from-issue` writes as comments), then what `remedy suggest` finds in the logs for an answer to the
        issue's question (the band just below its threshold), once per issue and folder state."""
        topic = list(draft_for_issue(self.analysis(), issue, "answer").candidate_also_matches)
        key = (issue.cluster.id, issue.representative_query, self._fingerprint())
        if key not in self._suggested:
            self._suggested = {key: self._suggested_by_the_logs(issue.representative_query, topic)}
        return list(dict.fromkeys(topic + self._suggested[key]))[:MAX_SUGGESTIONS]

    def _suggested_by_the_logs(self, question: str, topic: list[str]) -> list[str]:
        import dataclasses

        from remedy.matching.suggestions import suggest

        folder = load_folder(self.config.remediations_dir).remediations
        template = next((r for r in folder if r.kind == "answer"), None)
        if template is None:
            return []
        draft_id = "workspace-draft-answer"  # never written: the answer the expert is about to write
        draft = dataclasses.replace(template, id=draft_id, status="active", question=question, text="",
                                    also_matches=tuple(topic), must_not_match=(), threshold=None, document=None)
        try:
            result = suggest(self.config, self.log_paths, (draft_id,), remediations=[*folder, draft],
                             limit=MAX_SUGGESTIONS)
        except RemedyError:  # a folder or log the queue could read but suggest cannot: the topic's queries only
            return []
        return [line.query for line in result.suggestions if line.id == draft_id]

    def next_after(self, issue_id: str, issues: list[Issue]) -> str | None:
        ids = [issue.cluster.id for issue in issues]
        if issue_id not in ids:
            return None
        at = ids.index(issue_id)
        rest = ids[at + 1:] + ids[:at]
        return rest[0] if rest else None

    # -- saving -------------------------------------------------------------------------------------
    def check_unchanged(self, path: Path, seen_hash: str) -> None:
        """Refuse a save against a file that changed since the page was read, saying what it holds now."""
        now = content_hash(path)
        if seen_hash and now != seen_hash:
            last = self.repository.history(path, limit=1)
            by = f"; last commit {last[0][0]} by {last[0][2]}: {last[0][3]}" if last else ""
            state = "was deleted" if now == ABSENT else "was created" if seen_hash == ABSENT else "changed"
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            raise ConflictError(f"{display_path(path)} {state} since you opened this page{by}; nothing was "
                                f"saved. Read it again and decide anew.", current)

    def accept(self, issue_id: str, filters: Filters, seen_hash: str) -> Saved[Written]:
        """Yes: a good review (similar responses are not guardrailed); the issue is addressed."""
        self.check_unchanged(triage_path(self.config.triage_dir, issue_id), seen_hash)
        return self.repository.save(
            f"review: the response to issue {issue_id} is acceptable (good review)",
            lambda: review_issue(self.config, issue_id, "good", self.log_paths, explanation=None, guidance=False,
                                 **filters.queue_options()))

    def skip(self, issue_id: str, filters: Filters, seen_hash: str) -> Saved[Written]:
        self.check_unchanged(triage_path(self.config.triage_dir, issue_id), seen_hash)
        return self.repository.save(
            f"triage {issue_id}: skipped, marked addressed",
            lambda: triage_issue(self.config, issue_id, Decision(state="addressed"), self.log_paths,
                                 **filters.queue_options()))

    def assign(self, issue_id: str, filters: Filters, seen_hash: str, assignee: str, note: str | None) -> Saved:
        self.check_unchanged(triage_path(self.config.triage_dir, issue_id), seen_hash)
        decision = Decision(assignee=assignee or None, note=note)
        what = f"assigned to {assignee}" if assignee else "note"
        return self.repository.save(
            f"triage {issue_id}: {what}" + (f" ({note})" if note else ""),
            lambda: triage_issue(self.config, issue_id, decision, self.log_paths, **filters.queue_options()))

    def answer_draft(self, issue: Issue, form: DraftForm) -> Draft:
        """The answer draft `new answer --from-issue ID --answer … --also-match … --must-not-match …` writes;
        the candidates the expert did not judge stay as the comments that command writes."""
        draft = draft_for_issue(self.analysis(), issue, "answer", text=form.answer)
        draft.question = form.question or draft.question
        draft.also_matches = list(form.also_matches)
        draft.must_not_match = list(form.must_not_match)
        judged = {*form.also_matches, *form.must_not_match}
        draft.candidate_also_matches = [c for c in draft.candidate_also_matches if c not in judged]
        return draft

    def reject(self, issue_id: str, filters: Filters, seen_hash: str, form: DraftForm) -> Saved[list[Path]]:
        """No: a bad review, a guidance draft from the explanation, an answer draft from the verbatim answer;
        one commit, or nothing written if any part is refused."""
        self.check_unchanged(triage_path(self.config.triage_dir, issue_id), seen_hash)
        with self._lock:
            issue, _ = self.find(issue_id, filters)
            draft = self.answer_draft(issue, form) if form.answer.strip() else None
        explanation = form.explanation.strip() or None

        def write() -> list[Path]:
            written = review_issue(self.config, issue_id, "bad", self.log_paths, explanation=explanation,
                                   guidance=explanation is not None, **filters.queue_options())
            paths = list(written.drafts)
            if draft is not None:
                paths.append(write_draft(self.config.remediations_dir, draft))
            return paths

        parts = ["bad review"] + (["guidance draft"] if explanation else []) + (["answer draft"] if draft else [])
        question = draft.question if draft else issue.representative_query
        return self.repository.save(f"issue {issue_id}: {', '.join(parts)} ({question})", write)

    def set_status(self, remediation_id: str, status: str) -> Saved[list[StatusChange]]:
        verb = "activate" if status == "active" else "pause"
        return self.repository.save(f"{verb} {remediation_id}",
                                    lambda: change_status(self.config, [remediation_id], status))

    def remediation(self, remediation_id: str) -> Any:
        found = load_folder(self.config.remediations_dir).by_id().get(remediation_id)
        if found is None:
            raise UsageError(f"no remediation with id '{remediation_id}'")
        return found


    # -- while writing ------------------------------------------------------------------------------
    def check_form(self, issue_id: str, filters: Filters, form: DraftForm) -> DraftCheck:
        """`validate`'s problems for the drafts the form would write, and what the answer would capture in
        the past logs (`preview`), non-failures first."""
        from remedy.analytics.preview import preview_remediation
        from remedy.files.remediation import Remediation
        from remedy.files.scaffold import draft_file
        from remedy.files.yaml_source import parse_document
        from remedy.lifecycle import draft_problems

        with self._lock:
            issue, _ = self.find(issue_id, filters)
            drafts = []
            answer = self.answer_draft(issue, form) if form.answer.strip() else None
            if answer is not None:
                drafts.append(answer)
            if form.explanation.strip():
                drafts.append(Draft("guidance", issue.representative_query, form.explanation.strip()))
            problems = draft_problems(self.config, drafts) if drafts else []
            preview = None
            if answer is not None and not any(p.severity == "error" for p in problems):
                path, text = draft_file(self.config.remediations_dir, answer)
                entry = Remediation.from_document(parse_document(path, text))
                if entry is not None:
                    folder = load_folder(self.config.remediations_dir)
                    preview = preview_remediation(self.config, entry, folder.remediations, self.log_paths)
        return DraftCheck(problems=problems, preview=preview)

    # -- remediations -------------------------------------------------------------------------------
    def remediations_page(self) -> list[dict[str, Any]]:
        from remedy.listing import list_remediations

        listed = list_remediations(self.config)
        with self._lock:
            rows = {row.id: row for row in self.coverage().remediations}
            prevented = self.preventions()
        order = {"active": 0, "paused": 1, "draft": 2}
        return sorted(({"entry": item, "coverage": rows.get(item.id), "prevented": prevented.get(item.id, 0)}
                       for item in listed.remediations),
                      key=lambda row: (order.get(row["entry"].status, 3), row["entry"].kind, row["entry"].id))

    def remediation_page(self, remediation_id: str) -> dict[str, Any]:
        from remedy.gate.forbidden_edits import protected, why_protected

        entry = self.remediation(remediation_id)
        with self._lock:
            rows = {row.id: row for row in self.coverage().remediations}
            prevented = self.preventions()
        locked = protected(entry, prevented)
        return {"entry": entry, "text": entry.path.read_text(encoding="utf-8"), "file": display_path(entry.path),
                "file_hash": content_hash(entry.path), "history": self.repository.history(entry.path),
                "coverage": rows.get(entry.id), "prevented": prevented.get(entry.id, 0),
                "locked": why_protected(entry, prevented) if locked else None}

    def edit(self, remediation_id: str, seen_hash: str, text: str) -> Saved[Path]:
        from remedy.lifecycle import replace_remediation

        entry = self.remediation(remediation_id)
        self.check_unchanged(entry.path, seen_hash or "?")
        prevented = self.preventions()
        return self.repository.save(f"edit {remediation_id}", lambda: replace_remediation(
            self.config, remediation_id, text.replace("\r\n", "\n"), preventions=prevented))

    def start_from(self, remediation_id: str) -> Saved[Path]:
        """A new draft with the old one's text (the way to change an answer that prevented failures)."""
        old = self.remediation(remediation_id)
        draft = Draft(old.kind, old.question, old.text, verdict=getattr(old, "verdict", None),
                      note=getattr(old, "note", None), also_matches=list(old.also_matches),
                      must_not_match=list(old.must_not_match), tags=list(getattr(old, "tags", ()) or ()))
        return self.repository.save(f"{old.kind}: new draft from {remediation_id}",
                                    lambda: write_draft(self.config.remediations_dir, draft))

    def try_query(self, query: str) -> Any:
        """What `remedy match QUERY` says."""
        from remedy.matching.explain import explain_query
        from remedy.matching.matcher import build_matcher
        from remedy.normalize import encodable

        matcher = build_matcher(load_folder(self.config.remediations_dir).remediations, self.config)
        return explain_query(matcher, encodable(query))


@dataclass(frozen=True)
class DraftCheck:
    problems: list[Any]
    preview: Any  # remedy.analytics.preview.Preview, or None (no answer, or the draft has errors)


class ConflictError(UsageError):
    """A save against a file that changed since the page was read."""

    def __init__(self, message: str, current: str) -> None:
        super().__init__(message)
        self.current = current


__all__ = ["OPEN_STATES", "STATES", "ConflictError", "DraftForm", "Filters", "Workspace"]
