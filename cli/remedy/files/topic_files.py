"""Topic files: an expert's correction of how failures group into issues, one small YAML file per issue.

`topics/<issue-id>.yaml`, in a folder beside the triage folder (`triage/`'s sibling):

    # split: these queries are another question (a new issue id, `remedy topic split`)
    split_from: 5b57524401fe
    queries:
      - can i get a refund for a cancelled flight
    ---
    # merge: these issues are one with this one (`remedy topic merge THIS OTHER`)
    merge: [4f856b205fdb]
    ---
    # move: this query belongs to this issue (`remedy topic move QUERY --to THIS`)
    queries: [will my phone work in malaga]

The three are one format: `queries` are normalized failure queries that belong to the file's issue
whatever the clustering says; `merge` names issues whose failures join it (the file's issue keeps
its id and representative); `split_from` records where split-off queries came from (a split's id is
new, made by `remedy topic split`, and stays the file's name). Optional `note`. Every later run of
`remedy issues`, `issue`, `triage` and the report applies them (`remedy.analytics.topic_corrections`).
A query belongs to at most one file, and an issue is merged into at most one other.
History (who regrouped what, when) is the file's git history.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from remedy.errors import UsageError
from remedy.file_codes import TOPIC_SCHEMA, TOPIC_UNREADABLE
from remedy.files.atomic import write_atomically
from remedy.files.scaffold import scalar_text
from remedy.files.triage import ISSUE_ID
from remedy.files.yaml_source import Document, Position, SourceError, read_document
from remedy.normalize import normalize_question

FOLDER = "topics"
KEYS = ("split_from", "merge", "queries", "note")


@dataclass
class TopicFile:
    id: str  # the issue id: the file's stem
    queries: list[str] = field(default_factory=list)  # normalized
    merge: list[str] = field(default_factory=list)
    split_from: str | None = None
    note: str | None = None
    path: Path | None = None

    @property
    def empty(self) -> bool:
        return not self.queries and not self.merge


@dataclass(frozen=True)
class TopicProblem:
    path: Path
    position: Position
    code: str  # TOPIC_UNREADABLE (the file) or TOPIC_SCHEMA (its fields), rules T003/T004
    message: str


@dataclass
class TopicFolder:
    root: Path
    files: dict[str, TopicFile] = field(default_factory=dict)
    problems: list[TopicProblem] = field(default_factory=list)


def topics_dir(triage_dir: Path) -> Path:
    """The topic files' folder: beside the triage folder."""
    return triage_dir.parent / FOLDER


def load_topic_files(root: Path) -> TopicFolder:
    """Every topic file under `root` (missing folder: none); a bad file becomes problems and is not applied,
    and a query or merge that another (earlier by name) file already claims is a problem of the later one."""
    folder = TopicFolder(root=root)
    if not root.is_dir():
        return folder
    claimed: dict[str, Path] = {}
    merged: dict[str, Path] = {}
    paths = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))
    for path in paths:
        try:
            document = read_document(path)
        except SourceError as error:
            folder.problems.append(TopicProblem(path, error.position, TOPIC_UNREADABLE, error.message))
            continue
        problems = list(_schema_problems(document))
        values = document.values
        queries = [normalize_question(q) for q in values.get("queries") or [] if isinstance(q, str)]
        merge = [m for m in values.get("merge") or [] if isinstance(m, str)] if not problems else []
        for number, query in enumerate(queries if not problems else []):
            if query in claimed:
                problems.append(TopicProblem(path, _item(document, "queries", number), TOPIC_SCHEMA,
                                             f"query {query!r} already belongs to {claimed[query].name}: "
                                             "a query belongs to one issue (`remedy topic move` moves it)"))
        for number, other in enumerate(merge):
            if other in merged:
                problems.append(TopicProblem(path, _item(document, "merge", number), TOPIC_SCHEMA,
                                             f"issue {other} is already merged by {merged[other].name}"))
        folder.problems.extend(problems)
        if problems:
            continue
        for query in queries:
            claimed.setdefault(query, path)
        for other in merge:
            merged.setdefault(other, path)
        folder.files[path.stem] = TopicFile(id=path.stem, queries=list(dict.fromkeys(queries)), merge=merge,
                                            split_from=values.get("split_from"), note=values.get("note"), path=path)
    # a merge into an issue that is itself merged elsewhere would chain: the later file's problem
    for topic in list(folder.files.values()):
        if topic.id in merged and topic.merge and topic.path is not None:
            document = read_document(topic.path)
            folder.problems.append(TopicProblem(topic.path, document.value_positions.get("merge", Position(1, 1)),
                                                TOPIC_SCHEMA, f"issue {topic.id} merges others but is itself merged "
                                                f"by {merged[topic.id].name}: merge into one issue only"))
            del folder.files[topic.id]
    return folder


def _item(document: Document, key: str, number: int) -> Position:
    items = document.item_positions.get(key, [])
    return items[number] if number < len(items) else document.value_positions.get(key, Position(1, 1))


def _schema_problems(document: Document) -> Iterator[TopicProblem]:
    values, path = document.values, document.path

    def at(key: str, message: str, *, value: bool = True) -> TopicProblem:
        where = (document.value_positions if value else document.key_positions).get(key, Position(1, 1))
        return TopicProblem(path, where, TOPIC_SCHEMA, message)

    if not ISSUE_ID.fullmatch(path.stem):
        yield TopicProblem(path, Position(1, 1), TOPIC_SCHEMA,
                           f"file name '{path.name}' is not an issue id (a-z, 0-9 and '-'): name it <issue-id>.yaml")
    for key in values:
        if key not in KEYS:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            yield at(key, f"unknown key '{key}' in a topic file" + (f" (did you mean '{hint[0]}'?)" if hint else ""),
                     value=False)
    for key, position in document.duplicate_keys:
        yield TopicProblem(path, position, TOPIC_SCHEMA, f"key '{key}' appears twice")
    for key in ("split_from", "note"):
        if key in values and (not isinstance(values[key], str) or not values[key].strip()):
            yield at(key, f"'{key}' must be non-empty text, not {values[key]!r}")
    split_from = values.get("split_from")
    if isinstance(split_from, str) and not ISSUE_ID.fullmatch(split_from):
        yield at("split_from", f"split_from must be an issue id (a-z, 0-9 and '-'), not {split_from!r}")
    for key in ("queries", "merge"):
        if key in values and (not isinstance(values[key], list) or not values[key]):
            yield at(key, f"'{key}' must be a non-empty list")
            continue
        for number, item in enumerate(values.get(key) or []):
            if not isinstance(item, str) or not item.strip():
                yield TopicProblem(path, _item(document, key, number), TOPIC_SCHEMA,
                                   f"{key}[{number}] must be non-empty text, not {item!r}")
            elif key == "merge" and (not ISSUE_ID.fullmatch(item) or item == path.stem):
                why = "this file's own issue" if item == path.stem else "not an issue id (a-z, 0-9 and '-')"
                yield TopicProblem(path, _item(document, key, number), TOPIC_SCHEMA,
                                   f"merge[{number}] {item!r} is {why}")
    if not values.get("queries") and not values.get("merge"):
        yield TopicProblem(path, Position(1, 1), TOPIC_SCHEMA,
                           "a topic file needs 'queries' (queries that belong to this issue) or 'merge' (issues "
                           "that are one with it)")
    elif "split_from" in values and not values.get("queries"):
        yield at("split_from", "a split ('split_from') needs the 'queries' split off")


def topic_path(root: Path, issue_id: str) -> Path:
    if not ISSUE_ID.fullmatch(issue_id):
        raise UsageError(f"'{issue_id}' is not an issue id")
    return root / f"{issue_id}.yaml"


def render_topic(topic: TopicFile) -> str:
    what = "split out of " + topic.split_from if topic.split_from else "regrouped"
    lines = [f"# Issue {topic.id}, {what} by an expert (`remedy topic`); its history: git log -p on this file."]
    if topic.split_from:
        lines.append(f"split_from: {topic.split_from}")
    if topic.note:
        lines.append(f"note: {scalar_text(topic.note)}")
    if topic.merge:
        lines.append("merge:")
        lines += [f"  - {other}" for other in topic.merge]
    if topic.queries:
        lines.append("queries:")
        lines += [f"  - {scalar_text(query)}" for query in topic.queries]
    return "\n".join(lines) + "\n"


def write_topic(root: Path, topic: TopicFile) -> Path:
    """Write (or replace) the issue's topic file atomically."""
    path = topic_path(root, topic.id)
    write_atomically(path, render_topic(topic))
    return path
