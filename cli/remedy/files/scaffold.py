"""`remedy new`: a draft remediation file written from flags, that `validate` accepts as is."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from remedy.control_characters import CONTROL, describe
from remedy.errors import RefusedError, UsageError
from remedy.file_codes import SCHEMA_CONTROL_CHARACTER
from remedy.files.atomic import write_atomically
from remedy.files.folder import display_path, find_files, load_folder
from remedy.files.folder_lock import folder_lock
from remedy.files.schema import MAX_ID_LENGTH, TEXT_FIELD_BY_KIND, VERDICTS, is_slug
from remedy.normalize import normalize_question

if TYPE_CHECKING:
    from remedy.files.remediation import Remediation

FOLDER_BY_KIND = {"answer": "answers", "guidance": "guidance", "review": "reviews"}


@dataclass
class Draft:
    kind: str
    question: str
    text: str  # the answer, the guidance, or the judged response
    verdict: str | None = None
    note: str | None = None
    also_matches: list[str] = field(default_factory=list)
    must_not_match: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    source_logs: list[str] = field(default_factory=list)
    # Offered to the SME as commented-out lines: keep the ones that really are the same question.
    candidate_also_matches: list[str] = field(default_factory=list)
    id: str | None = None
    replaces: str | None = None  # `new answer --from ID`: the answer this draft is a new version of


def write_draft(remediations_dir: Path, draft: Draft) -> Path:
    """Write `draft` under `folder/<answers|guidance|reviews>/<id>.yaml`; never overwrites a file.

    Refused when a draft of the same kind already asks the same question (only one may, DESIGN 2.1):
    the SME is sent to that file instead of getting a `-2` copy that `validate` would reject. The
    folder is read, checked and written under the folder lock, and the file is created exclusively,
    so two `new` commands at once cannot both take an id or a question.
    """
    _check(draft)
    if draft.id is not None and (not is_slug(draft.id) or len(draft.id) > MAX_ID_LENGTH):
        raise UsageError(f"--id {draft.id!r} is not a slug (a-z, 0-9 and '-', at most {MAX_ID_LENGTH})")
    if not remediations_dir.exists():
        remediations_dir.mkdir(parents=True)
    with folder_lock(remediations_dir):
        current = load_folder(remediations_dir)
        question = normalize_question(draft.question)
        for other in current.remediations:
            if other.kind == draft.kind and other.status == "draft" and other.normalized_question == question:
                raise RefusedError(f"a draft {draft.kind} with this question already exists: "
                                   f"{display_path(other.path)} (id {other.id}); edit it, or activate or pause "
                                   "it before starting another")
        path, text = _place(remediations_dir, draft, taken_ids(remediations_dir, current.remediations))
        try:
            write_atomically(path, text, exclusive=True)
        except FileExistsError:
            raise UsageError(f"{display_path(path)} already exists; nothing written") from None
    return path


def draft_replacing(remediations_dir: Path, answer_id: str) -> Draft:
    """`remedy new answer --from ID`: a copy of answer ID as a new draft that says it replaces it.

    Its question, answer, also_matches, must_not_match and tags are the old answer's, to be edited; the
    old answer stays as it was (what users were served), so the pull-request gate lets the change through.
    The new draft takes a new id (`ID-2`, …): an id names one text for good."""
    folder = load_folder(remediations_dir)
    found = [r for r in folder.remediations if r.id == answer_id]
    if not found:
        raise UsageError(f"--from {answer_id}: no remediation with this id in {display_path(remediations_dir)}")
    old = found[0]
    if old.kind != "answer":
        raise UsageError(f"--from {answer_id}: a {old.kind}, not an answer ({display_path(old.path)})")
    new_id = unique_slug(old.id, taken_ids(remediations_dir, folder.remediations), fallback="answer")
    return Draft("answer", old.question, old.text, also_matches=list(old.also_matches),
                 must_not_match=list(old.must_not_match), tags=list(old.tags), id=new_id, replaces=old.id)


def draft_file(remediations_dir: Path, draft: Draft, *, existing: set[str] | None = None) -> tuple[Path, str]:
    """Where `write_draft` would put `draft` and the exact text it would write (`remedy report` shows both).

    `existing`: the ids taken in the folder (`taken_ids`), when the caller has them already.
    """
    _check(draft)
    return _place(remediations_dir, draft, taken_ids(remediations_dir) if existing is None else existing)


def taken_ids(remediations_dir: Path, remediations: Iterable[Remediation] | None = None) -> set[str]:
    """Ids a new draft may not take: the folder's file stems and its remediations' ids (read unless given)."""
    if not remediations_dir.is_dir():
        return set()
    if remediations is None:
        remediations = load_folder(remediations_dir).remediations
    return {path.stem for path in find_files(remediations_dir)} | {r.id for r in remediations}


def _place(remediations_dir: Path, draft: Draft, existing: set[str]) -> tuple[Path, str]:
    if draft.id is not None:
        if draft.id in existing:
            raise UsageError(f"id '{draft.id}' is already used in {display_path(remediations_dir)}")
        remediation_id = draft.id
    else:
        remediation_id = unique_slug(draft.question, existing, fallback=draft.kind)
    return remediations_dir / FOLDER_BY_KIND[draft.kind] / f"{remediation_id}.yaml", render_draft(draft, remediation_id)


def render_draft(draft: Draft, remediation_id: str) -> str:
    lines = [f"kind: {draft.kind}", f"id: {scalar_text(remediation_id)}", "status: draft",
             f"question: {scalar_text(draft.question)}"]
    if draft.kind == "review":
        lines.append(f"verdict: {draft.verdict}")
    lines += _block(TEXT_FIELD_BY_KIND[draft.kind], draft.text)
    if draft.note:
        lines += _block("note", draft.note)
    for key, items in (("also_matches", draft.also_matches), ("must_not_match", draft.must_not_match)):
        if items or (key == "also_matches" and draft.candidate_also_matches):
            lines.append(f"{key}:")
            lines += [f"  - {scalar_text(item)}" for item in items]
            if key == "also_matches" and draft.candidate_also_matches:
                lines.append("  # Similar queries from the logs: uncomment the ones that ask the same thing.")
                lines += [f"  # - {scalar_text(item)}" for item in draft.candidate_also_matches]
    if draft.tags:
        lines.append(f"tags: [{', '.join(scalar_text(tag) for tag in draft.tags)}]")
    if draft.source_logs:
        lines.append(f"source_logs: [{', '.join(scalar_text(log_id) for log_id in draft.source_logs)}]")
    if draft.replaces:
        lines.append(f"replaces: {scalar_text(draft.replaces)}")
    text = "\n".join(lines) + "\n"
    loaded = yaml.safe_load(text)
    if loaded["question"] != draft.question or loaded["id"] != remediation_id:  # pragma: no cover - a bug
        raise RuntimeError(f"the draft does not read back as written: {loaded['question']!r}")
    return text


def unique_slug(text: str, taken: set[str], *, fallback: str) -> str:
    """A readable id from the question: ascii, lower case, dashes, at most 60 characters, not in `taken`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0]
    slug = slug or fallback
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    return candidate


def _check(draft: Draft) -> None:
    text_flag = {"answer": "--answer", "guidance": "--guidance", "review": "--response"}[draft.kind]
    if not draft.question or not draft.question.strip():
        raise UsageError("--question is required and may not be empty")
    if not draft.text or not draft.text.strip():
        raise UsageError(f"{text_flag} is required and may not be empty")
    if draft.kind == "review" and draft.verdict not in VERDICTS:
        raise UsageError(f"--verdict must be one of {', '.join(VERDICTS)}")
    for text in (draft.question, draft.text, draft.note or "", *draft.also_matches, *draft.must_not_match,
                 *draft.tags):
        if _SURROGATE.search(text):
            raise UsageError(f"{text!r} is not valid UTF-8 text (check the terminal's encoding)")
        control = CONTROL.search(text)
        if control:
            raise UsageError(f"{text!r} holds the control character {describe(control.group())}; `validate` "
                             f"would refuse it ({SCHEMA_CONTROL_CHARACTER})")


# Characters YAML will not take raw in a file (C1 controls, DEL) or reads as line breaks (NEL, LS, PS),
# and BOM-like code points: written as \u escapes inside double quotes. json.dumps escapes C0 itself.
_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
# Anything that a literal block (`|`) would not keep exactly: tabs, CR, the characters above.
_NOT_LITERAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def scalar_text(text: str) -> str:
    """Plain YAML where that reads back identically, else a JSON string (valid YAML double quotes)."""
    if "\n" not in text and text == text.strip() and re.fullmatch(r"[\w][\w ,.?!'()/&+-]*", text):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return _ESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", json.dumps(text, ensure_ascii=False))


def _block(key: str, text: str) -> list[str]:
    text = text.strip("\n")
    lines = text.split("\n")
    literal = (len(lines) > 1 and not text.startswith(" ") and not _NOT_LITERAL.search(text)
               and all(line == line.rstrip() for line in lines))
    if literal:
        return [f"{key}: |", *(f"  {line}".rstrip() for line in lines)]
    return [f"{key}: {scalar_text(text)}"]
