"""`remedy suggest --apply FILE`: the expert's yes's become `also_matches`, the no's `must_not_match`.

All or nothing, under the folder lock (`files/folder_lock.py`):

1. every judged row must still fit the folder: its id names an answer or guidance there, its query is
   not already one of the entry's texts or `must_not_match`, and the file does not say yes and no of one
   query for one entry; otherwise InputError naming the file, line and field (exit 2);
2. the edits are made in memory (`files/editing.with_list_items`: comments and every other byte kept);
3. the edited folder must break no rule that it did not break before — the rules `validate` and the
   pull-request gate run (a yes that another entry wins, M002; a question that now matches another
   entry, M001; a no that still matches, M003) — and no example of `remedy test` may newly fail (what
   the gate's G003 refuses); otherwise RefusedError (exit 1);
4. only then is each file written atomically.

Adding to the lists of an answer that users were served is allowed: the gate protects its question and
answer (G001, G002), the record of what was served; which paraphrases lead to it is what an expert
refines (docs/decisions.md). It lives beside `lifecycle.py`, above `files/` and `rules/`, because it runs the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from remedy.config import Config
from remedy.errors import InputError, RefusedError
from remedy.files.atomic import write_atomically
from remedy.files.editing import with_list_items
from remedy.files.folder import Folder, display_path, load_folder
from remedy.files.folder_lock import folder_lock
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import Document, parse_document
from remedy.matching.suggestion_labels import NO, YES, SuggestionLabel, read_suggestion_labels
from remedy.normalize import normalize_question
from remedy.problems import Problem
from remedy.validation import check_folder


@dataclass(frozen=True)
class AppliedEntry:
    id: str
    file: str
    also_matches: tuple[str, ...]  # added
    must_not_match: tuple[str, ...]  # added


@dataclass(frozen=True)
class AppliedLabels:
    """What `suggest --apply` did: the counts of the file's rows, and what each entry got."""

    file: str
    yes: int
    no: int
    skipped: int
    unanswered: int
    entries: tuple[AppliedEntry, ...]


def apply_labels(config: Config, labels_path: Path, *, semantic: bool = True) -> AppliedLabels:
    """Apply a filled-in suggestion labels file to the folder (all or nothing; see the module)."""
    rows = read_suggestion_labels(labels_path)
    with folder_lock(config.remediations_dir):
        folder = load_folder(config.remediations_dir)
        additions = plan_additions(folder, rows, str(labels_path))
        edited: dict[Path, str] = {}
        applied = []
        for entry_id, (yes, no) in additions.items():
            entry = folder.by_id()[entry_id]
            if entry.document is None:  # pragma: no cover - every loaded remediation has its document
                raise RefusedError(f"{display_path(entry.path)}: cannot be edited")
            edited[entry.path] = with_list_items(entry.document, {"also_matches": yes, "must_not_match": no},
                                                 anchors=("also_matches", "answer", "guidance", "question"))
            applied.append(AppliedEntry(entry_id, display_path(entry.path), tuple(yes), tuple(no)))
        if edited:
            refuse_what_the_gate_refuses(folder, config, edited, semantic=semantic)
            for path, text in edited.items():
                write_atomically(path, text)
    judged = [r for r in rows if r.label is not None]
    return AppliedLabels(file=str(labels_path), yes=sum(r.label == YES for r in rows),
                         no=sum(r.label == NO for r in rows),
                         skipped=sum(1 for r in judged if r.label not in (YES, NO)),
                         unanswered=len(rows) - len(judged), entries=tuple(applied))


def plan_additions(folder: Folder, rows: list[SuggestionLabel], name: str) -> dict[str, tuple[list[str], list[str]]]:
    """entry id -> (texts to add to also_matches, to must_not_match), in the file's order; InputError
    (file, line, field) for the first row that no longer fits the folder."""
    by_id = folder.by_id()
    plan: dict[str, tuple[list[str], list[str]]] = {}
    said: dict[tuple[str, str], SuggestionLabel] = {}
    for row in rows:
        if row.label not in (YES, NO):
            continue
        entry = by_id.get(row.id)
        if entry is None:
            raise InputError(f"{name}:{row.id_line}: field 'id': no remediation '{row.id}' in "
                             f"{display_path(folder.root)} (the labels file no longer fits the folder: renamed "
                             "or deleted? run `remedy suggest --out` again)")
        if entry.kind == "review":
            raise InputError(f"{name}:{row.id_line}: field 'id': '{row.id}' is a review; suggestions are for "
                             "answers and guidance")
        key = normalize_question(row.query)
        where = _already(entry, key)
        if where:
            raise InputError(f"{name}:{row.query_line}: field 'query': {row.query!r} is already {where} of "
                             f"'{row.id}' ({display_path(entry.path)}); the labels file no longer fits the folder "
                             "(applied before?): delete the row or run `remedy suggest --out` again")
        earlier = said.get((row.id, key))
        if earlier is not None:
            if earlier.label != row.label:
                raise InputError(f"{name}:{row.label_line}: field 'label': {row.query!r} is labelled {row.label} "
                                 f"here and {earlier.label} at line {earlier.line} for '{row.id}'; settle it in one "
                                 "row")
            continue
        said[(row.id, key)] = row
        yes, no = plan.setdefault(row.id, ([], []))
        (yes if row.label == YES else no).append(row.query)
    return plan


def _already(entry: Remediation, normalized: str) -> str | None:
    if normalized == entry.normalized_question:
        return "the question"
    if normalized in {normalize_question(t) for t in entry.also_matches}:
        return "in also_matches"
    if normalized in {normalize_question(t) for t in entry.must_not_match}:
        return "in must_not_match"
    return None


def refuse_what_the_gate_refuses(folder: Folder, config: Config, edited: dict[Path, str], *,
                                 semantic: bool = True) -> None:
    """RefusedError when the edited folder breaks a rule it did not break before, or fails a `remedy test`
    example that passed (the checks `validate` and the gate run on a pull request)."""
    after = _with_documents(folder, edited)
    before_errors = {_key(p) for p in check_folder(folder, config, semantic=semantic) if p.severity == "error"}
    new = [p for p in check_folder(after, config, semantic=semantic)
           if p.severity == "error" and _key(p) not in before_errors]
    reasons = [f"{p.file}:{p.line}: {p.code} {p.message}" for p in new]
    if semantic:
        reasons += _new_test_failures(folder, after, config)
    if reasons:
        raise RefusedError("refused to apply the labels, nothing written: the folder would break a rule the "
                           "gate enforces: " + "; ".join(dict.fromkeys(reasons)))


def _new_test_failures(before: Folder, after: Folder, config: Config) -> list[str]:
    from remedy.matching.matcher import build_matcher
    from remedy.matching.self_test import run_self_tests

    old = run_self_tests(build_matcher(before.remediations, config), before.remediations)
    now = run_self_tests(build_matcher(after.remediations, config), after.remediations)
    failed = {(f.id, f.field, f.text) for f in old.failures}
    return [f"{f.file}:{f.line}: `remedy test` would fail: {f.field} {f.text!r} of '{f.id}' "
            + (f"goes to '{f.winner}'" if f.winner and f.field == "also_matches"
               else "matches it" if f.field == "must_not_match" else "matches nothing")
            + f" (similarity {f.similarity:.2f})"
            for f in now.failures if (f.id, f.field, f.text) not in failed]


def _with_documents(folder: Folder, edited: dict[Path, str]) -> Folder:
    documents: list[Document] = [parse_document(d.path, edited[d.path]) if d.path in edited else d
                                 for d in folder.documents]
    remediations = [r for r in (Remediation.from_document(d) for d in documents) if r is not None]
    return replace(folder, documents=documents, remediations=remediations)


def _key(problem: Problem) -> tuple[str, str, str]:
    return problem.file, problem.code, problem.message
