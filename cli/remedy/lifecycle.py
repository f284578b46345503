"""`remedy activate` / `remedy pause`: change a remediation's status without breaking a rule.

The change is tried on an in-memory copy of the folder first; if it would add an error that was not
there before, it is refused and nothing is written. It lives beside `validation.py`, above `files/`
and `rules/`, because it runs the rules: the file layer itself never imports a rule.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from pathlib import Path

from remedy.config import Config
from remedy.errors import RefusedError, UsageError
from remedy.files.atomic import write_atomically
from remedy.files.editing import with_fields
from remedy.files.folder import Folder, display_path, load_folder
from remedy.files.folder_lock import folder_lock
from remedy.files.remediation import Remediation
from remedy.files.scaffold import Draft
from remedy.files.yaml_source import Document, parse_document
from remedy.problems import Problem
from remedy.rules import lint_placeholder
from remedy.validation import check_folder


@dataclass(frozen=True)
class StatusChange:
    id: str
    file: str
    old_status: str
    new_status: str
    changed: bool


def change_status(config: Config, ids: list[str], status: str, *, now: datetime.datetime | None = None,
                  semantic: bool = True) -> list[StatusChange]:
    """Set `status` on every id (all or nothing); `activate` also stamps `activated`.

    Read, check and write happen under the folder lock: two `activate`s of two drafts with the same
    question cannot both pass the one-active-per-question rule.
    """
    with folder_lock(config.remediations_dir):
        return _change_status(config, ids, status, now=now, semantic=semantic)


def _change_status(config: Config, ids: list[str], status: str, *, now: datetime.datetime | None,
                   semantic: bool) -> list[StatusChange]:
    folder = load_folder(config.remediations_dir)
    targets = [_find(folder, remediation_id) for remediation_id in dict.fromkeys(ids)]
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    edited: dict[Path, str] = {}
    changes = []
    for remediation in targets:
        changed = remediation.status != status
        file = display_path(remediation.path)
        changes.append(StatusChange(remediation.id, file, remediation.status, status, changed))
        if changed:
            updates = {"status": status, **({"activated": stamp} if status == "active" else {})}
            assert remediation.document is not None
            edited[remediation.path] = with_fields(remediation.document, updates, insert_after="status")
    if not edited:
        return changes
    before = _errors(check_folder(folder, config, semantic=semantic))
    after_folder = _with_documents(folder, edited)
    new_errors = [problem for problem in _errors(check_folder(after_folder, config, semantic=semantic))
                  if _key(problem) not in {_key(old) for old in before}]
    if status == "active":
        # A placeholder is only a warning in a draft, but it must never be served verbatim.
        targets_files = {display_path(path) for path in edited}
        new_errors += [p for p in check_folder(after_folder, config, semantic=False, rules=(lint_placeholder,))
                       if p.file in targets_files]
    if new_errors:
        reasons = "; ".join(f"{p.file}:{p.line}: {p.code} {p.message}" for p in new_errors)
        raise RefusedError(f"refused to set status {status}: it would break a rule: {reasons}")
    for path, text in edited.items():
        write_atomically(path, text)
    return changes


def _find(folder: Folder, remediation_id: str) -> Remediation:
    for remediation in folder.remediations:
        if remediation.id == remediation_id:
            return remediation
    for document in folder.documents:
        if document.values.get("id") == remediation_id or document.path.stem == remediation_id:
            raise RefusedError(f"{display_path(document.path)}: has validation errors; fix them first "
                               "(run `remedy validate`)")
    raise UsageError(f"no remediation with id '{remediation_id}' in {display_path(folder.root)}")


def _with_documents(folder: Folder, edited: dict[Path, str]) -> Folder:
    documents: list[Document] = [parse_document(d.path, edited[d.path]) if d.path in edited else d
                                 for d in folder.documents]
    remediations = [r for r in (Remediation.from_document(d) for d in documents) if r is not None]
    return replace(folder, documents=documents, remediations=remediations)


def _errors(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]


def _key(problem: Problem) -> tuple[str, str, str]:
    # Line numbers may move when `activated` is inserted; compare on what the problem says.
    return problem.file, problem.code, problem.message


def draft_problems(config: Config, drafts: list[Draft], *, semantic: bool = True) -> list[Problem]:
    """What `validate` would say about `drafts` once written (same codes and messages), without writing them:
    each draft is placed as `write_draft` would place it in an in-memory copy of the folder."""
    from remedy.files.scaffold import draft_file, taken_ids

    folder = load_folder(config.remediations_dir)
    taken = taken_ids(config.remediations_dir, folder.remediations)
    edited: dict[Path, str] = {}
    for draft in drafts:
        path, text = draft_file(config.remediations_dir, draft, existing=taken)
        taken.add(path.stem)
        edited[path] = text
    after = _with_documents(folder, edited)
    files = {display_path(path) for path in edited}
    return [problem for problem in check_folder(after, config, semantic=semantic) if problem.file in files]


def replace_remediation(config: Config, remediation_id: str, text: str, *,
                        preventions: dict[str, int] | None) -> Path:
    """Replace a remediation file's text, refused as the pull-request gate would refuse it: a protected answer
    (it prevented failures) keeps its question and answer (G002), and no new error may appear."""
    from remedy.files.yaml_source import SourceError
    from remedy.gate.forbidden_edits import protected, why_protected

    with folder_lock(config.remediations_dir):
        folder = load_folder(config.remediations_dir)
        old = _find(folder, remediation_id)
        try:
            document = parse_document(old.path, text)
        except SourceError as error:
            raise RefusedError(f"{display_path(old.path)}:{error.position.line}: {error.message}; nothing saved") \
                from None
        new = Remediation.from_document(document)
        if new is not None and protected(old, preventions) and (
                new.question != old.question or new.text != old.text):
            raise RefusedError(f"{old.id} may not have its question or answer rewritten: "
                               f"{why_protected(old, preventions)}. Pause it and start a new one from its text instead")
        before = _errors(check_folder(folder, config))
        after = _errors(check_folder(_with_documents(folder, {old.path: text}), config))
        new_errors = [p for p in after if _key(p) not in {_key(b) for b in before}]
        if new_errors:
            reasons = "; ".join(f"{p.file}:{p.line}: {p.code} {p.message}" for p in new_errors)
            raise RefusedError(f"refused: the edit would break a rule: {reasons}")
        write_atomically(old.path, text)
        return old.path
