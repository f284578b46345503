"""`remedy new`: a draft remediation file written from flags, that `validate` accepts as is."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from remedy.errors import UsageError
from remedy.files.atomic import write_atomically
from remedy.files.folder import find_files
from remedy.files.schema import MAX_ID_LENGTH, SLUG, TEXT_FIELD_BY_KIND, VERDICTS

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


def write_draft(folder: Path, draft: Draft) -> Path:
    """Write `draft` under `folder/<answers|guidance|reviews>/<id>.yaml`; never overwrites a file."""
    _check(draft)
    existing = {path.stem for path in find_files(folder)} if folder.is_dir() else set()
    if draft.id is not None:
        if not SLUG.match(draft.id) or len(draft.id) > MAX_ID_LENGTH:
            raise UsageError(f"--id '{draft.id}' is not a slug (a-z, 0-9 and '-', at most {MAX_ID_LENGTH})")
        if draft.id in existing:
            raise UsageError(f"id '{draft.id}' is already used in {folder}")
        remediation_id = draft.id
    else:
        remediation_id = unique_slug(draft.question, existing, fallback=draft.kind)
    path = folder / FOLDER_BY_KIND[draft.kind] / f"{remediation_id}.yaml"
    write_atomically(path, render_draft(draft, remediation_id))
    return path


def render_draft(draft: Draft, remediation_id: str) -> str:
    lines = [f"kind: {draft.kind}", f"id: {_scalar(remediation_id)}", "status: draft",
             f"question: {_scalar(draft.question)}"]
    if draft.kind == "review":
        lines.append(f"verdict: {draft.verdict}")
    lines += _block(TEXT_FIELD_BY_KIND[draft.kind], draft.text)
    if draft.note:
        lines += _block("note", draft.note)
    for key, items in (("also_matches", draft.also_matches), ("must_not_match", draft.must_not_match)):
        if items or (key == "also_matches" and draft.candidate_also_matches):
            lines.append(f"{key}:")
            lines += [f"  - {_scalar(item)}" for item in items]
            if key == "also_matches" and draft.candidate_also_matches:
                lines.append("  # Similar queries from the logs: uncomment the ones that ask the same thing.")
                lines += [f"  # - {_scalar(item)}" for item in draft.candidate_also_matches]
    if draft.tags:
        lines.append(f"tags: [{', '.join(_scalar(tag) for tag in draft.tags)}]")
    if draft.source_logs:
        lines.append(f"source_logs: [{', '.join(_scalar(log_id) for log_id in draft.source_logs)}]")
    text = "\n".join(lines) + "\n"
    loaded = yaml.safe_load(text)
    assert loaded["question"] == draft.question and loaded["id"] == remediation_id, "scaffold must round-trip"
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


def _scalar(text: str) -> str:
    """Plain YAML where that reads back identically, else a JSON string (valid YAML double quotes)."""
    if "\n" not in text and text == text.strip() and re.fullmatch(r"[\w][\w ,.?!'()/&+-]*", text):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _block(key: str, text: str) -> list[str]:
    text = text.strip("\n")
    if "\n" in text and not text.startswith(" "):
        return [f"{key}: |", *(f"  {line}".rstrip() for line in text.split("\n"))]
    return [f"{key}: {_scalar(text)}"]
