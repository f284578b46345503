"""Triage files: an expert's decision about an issue, one small YAML file per issue (DESIGN 2.4).

`triage/<issue-id>.yaml` beside the remediations folder (config key `triage`):

    state: assigned            # open | assigned | addressed | no_action_needed | wont_fix
    assignee: "@alice"         # who is on it (required for `assigned`)
    note: waiting for the visa policy page
    representative: do i need a visa for a layover in dubai
    queries:                   # the normalized member queries the decision applies to
      - do i need a visa for a layover in dubai
      - transit visa for doha connection

One file per issue, so two pull requests that triage different issues never touch the same file.
The decision keeps applying to new failures that the decision rule matches to `queries`.
History (who decided what, when) is the file's git history: `git log -p triage/<id>.yaml`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remedy.errors import UsageError
from remedy.file_codes import TRIAGE_SCHEMA, TRIAGE_UNREADABLE
from remedy.files.atomic import write_atomically
from remedy.files.scaffold import scalar_text
from remedy.files.yaml_source import Document, Position, SourceError, read_document
from remedy.owner_handles import owner_problem

STATES = ("open", "assigned", "addressed", "no_action_needed", "wont_fix")
OPEN_STATES = ("open", "assigned")  # what `remedy issues` shows by default
KEYS = ("state", "assignee", "note", "representative", "queries")
ISSUE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# A topic can hold thousands of distinct queries; the file keeps the most frequent ones.
MAX_QUERIES = 500


@dataclass
class Triage:
    id: str  # the issue id, the file's stem
    state: str
    queries: list[str]
    assignee: str | None = None
    note: str | None = None
    representative: str | None = None
    path: Path | None = None


@dataclass(frozen=True)
class TriageProblem:
    path: Path
    position: Position
    code: str  # TRIAGE_UNREADABLE (the file) or TRIAGE_SCHEMA (its fields), rules T001/T002
    message: str


@dataclass
class TriageFolder:
    root: Path
    triages: dict[str, Triage] = field(default_factory=dict)
    problems: list[TriageProblem] = field(default_factory=list)


def triage_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_triage(root: Path) -> TriageFolder:
    """Every triage file under `root` (missing folder: none); bad files become problems, not triages."""
    folder = TriageFolder(root=root)
    for path in triage_files(root):
        try:
            document = read_document(path)
        except SourceError as error:
            folder.problems.append(TriageProblem(path, error.position, TRIAGE_UNREADABLE, error.message))
            continue
        problems = list(_schema_problems(document))
        folder.problems.extend(problems)
        if not problems:
            values = document.values
            folder.triages[path.stem] = Triage(
                id=path.stem, state=values["state"], queries=list(values["queries"]), assignee=values.get("assignee"),
                note=values.get("note"), representative=values.get("representative"), path=path)
    return folder


def _schema_problems(document: Document) -> Iterator[TriageProblem]:
    values, path = document.values, document.path

    def at(key: str, message: str, *, value: bool = True) -> TriageProblem:
        where = (document.value_positions if value else document.key_positions).get(key, Position(1, 1))
        return TriageProblem(path, where, TRIAGE_SCHEMA, message)

    if not ISSUE_ID.fullmatch(path.stem):
        yield TriageProblem(path, Position(1, 1), TRIAGE_SCHEMA,
                            f"file name '{path.name}' is not an issue id (a-z, 0-9 and '-'): name it <issue-id>.yaml")
    for key in values:
        if key not in KEYS:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            yield at(key, f"unknown key '{key}' in a triage file" + (f" (did you mean '{hint[0]}'?)" if hint else ""),
                     value=False)
    for key, position in document.duplicate_keys:
        yield TriageProblem(path, position, TRIAGE_SCHEMA, f"key '{key}' appears twice")
    state = values.get("state")
    if "state" not in values:
        yield TriageProblem(path, Position(1, 1), TRIAGE_SCHEMA, f"missing 'state' (one of {', '.join(STATES)})")
    elif state not in STATES:
        yield at("state", f"state must be one of {', '.join(STATES)}, not {state!r}")
    for key in ("assignee", "note", "representative"):
        if key in values and values[key] is not None and (not isinstance(values[key], str) or not values[key].strip()):
            yield at(key, f"'{key}' must be non-empty text, not {values[key]!r}")
    assignee = values.get("assignee")
    if isinstance(assignee, str) and assignee.strip() and owner_problem(assignee):  # a handle, as owners are
        yield at("assignee", f"assignee {owner_problem(assignee)}")
    if state == "assigned" and not values.get("assignee"):
        yield at("state", "state 'assigned' needs an 'assignee'")
    queries = values.get("queries")
    if "queries" not in values:
        yield TriageProblem(path, Position(1, 1), TRIAGE_SCHEMA,
                            "missing 'queries' (the member queries the decision applies to)")
    elif not isinstance(queries, list) or not queries:
        yield at("queries", "'queries' must be a non-empty list of query texts")
    else:
        items = document.item_positions.get("queries", [])
        for number, query in enumerate(queries):
            if not isinstance(query, str) or not query.strip():
                where = items[number] if number < len(items) else document.value_positions["queries"]
                yield TriageProblem(path, where, TRIAGE_SCHEMA,
                                    f"queries[{number}] must be non-empty text, not {query!r}")


def triage_path(root: Path, issue_id: str) -> Path:
    if not ISSUE_ID.fullmatch(issue_id):
        raise UsageError(f"'{issue_id}' is not an issue id")
    return root / f"{issue_id}.yaml"


def render_triage(triage: Triage) -> str:
    lines = [f"# Triage of issue {triage.id} (`remedy triage`); its history: git log -p on this file.",
             f"state: {triage.state}"]
    for key in ("assignee", "note", "representative"):
        value: Any = getattr(triage, key)
        if value:
            lines.append(f"{key}: {scalar_text(value)}")
    lines.append("queries:")
    lines += [f"  - {scalar_text(query)}" for query in triage.queries[:MAX_QUERIES]]
    return "\n".join(lines) + "\n"


def write_triage(root: Path, triage: Triage) -> Path:
    """Write (or replace) the issue's triage file atomically."""
    path = triage_path(root, triage.id)
    write_atomically(path, render_triage(triage))
    return path
