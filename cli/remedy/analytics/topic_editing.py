"""`remedy topic split | merge | move`: an expert corrects the grouping, written as topic files.

Each command finds its issues in the logs (rank or id, as `remedy issues` shows them), checks that the
correction fits them, and writes `topics/<issue-id>.yaml` (remedy.files.topic_files) atomically. A query
belongs to one file: moving or splitting it removes it from any other file (a file left with nothing is
removed: the correction it held is undone).
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
from remedy.files.topic_files import TopicFile, load_topic_files, topic_path, topics_dir, write_topic
from remedy.files.triage import STATES
from remedy.logs.clustering import cluster_id
from remedy.normalize import normalize_question


@dataclass
class TopicEdit:
    """What a `remedy topic` command wrote: the file of the issue it shaped, and the other files it touched."""

    topic: TopicFile
    path: Path
    created: bool
    removed: list[Path] = field(default_factory=list)  # other files left empty by the move, deleted
    updated: list[Path] = field(default_factory=list)  # other files a query left


def split_issue(config: Config, key: str, queries: Sequence[str], log_paths: Sequence[str], note: str | None = None,
                **filters: Any) -> TopicEdit:
    """These queries of issue `key` are another question: a new issue with a new, stable id."""
    if not queries:
        raise UsageError("name the queries to split off: --query TEXT (repeatable)")
    files = _loaded(config)
    issue = _issue(config, key, log_paths, filters)
    wanted = list(dict.fromkeys(normalize_question(q) for q in queries))
    unknown = [q for q in wanted if q not in issue.cluster.queries]
    if unknown:
        raise UsageError(f"issue {issue.cluster.id} has no query {unknown[0]!r} (`remedy issue {issue.cluster.id}` "
                         "lists its queries)")
    if len(wanted) == len(issue.cluster.queries):
        raise UsageError(f"those are all the queries of issue {issue.cluster.id}: nothing would be left to split from")
    new_id = cluster_id("split\n" + wanted[0])
    if new_id in files:
        raise UsageError(f"{display_path(topic_path(_root(config), new_id))} already exists (that query was split "
                         "off before): move queries to it with `remedy topic move QUERY --to " + new_id + "`")
    topic = TopicFile(id=new_id, queries=wanted, split_from=issue.cluster.id, note=note)
    edit = _release(config, files, wanted, keep=None)
    edit.topic, edit.path, edit.created = topic, write_topic(_root(config), topic), True
    return edit


def merge_into(config: Config, key: str, other_key: str, log_paths: Sequence[str], **filters: Any) -> TopicEdit:
    """Issue `other_key` is one with issue `key`: its failures join it (`key` keeps its id)."""
    files = _loaded(config)
    analysis = analyse(config, log_paths)
    target = find_issue(analysis, key, command="remedy topic merge", **filters)
    other = find_issue(analysis, other_key, command="remedy topic merge", **filters)
    if target.cluster.id == other.cluster.id:
        raise UsageError(f"{key} and {other_key} are the same issue ({target.cluster.id})")
    for topic in files.values():
        if target.cluster.id in topic.merge:
            raise UsageError(f"issue {target.cluster.id} is merged into {topic.id} "
                             f"({display_path(topic_path(_root(config), topic.id))}): merge into {topic.id} instead")
    current = files.get(target.cluster.id)
    edit = TopicEdit(topic=current or TopicFile(id=target.cluster.id),
                     path=topic_path(_root(config), target.cluster.id), created=current is None)
    others = files.get(other.cluster.id)
    merged = [other.cluster.id]
    if others is not None and others.merge:  # no chains: what the other issue merged joins the target directly
        merged += others.merge
        others.merge = []
        _save_or_remove(config, others, edit)
    edit.topic.merge = list(dict.fromkeys([*edit.topic.merge, *merged]))
    write_topic(_root(config), edit.topic)
    return edit


def move_query(config: Config, query: str, to: str, log_paths: Sequence[str], **filters: Any) -> TopicEdit:
    """This one query belongs to issue `to`."""
    files = _loaded(config)
    analysis = analyse(config, log_paths)
    target = find_issue(analysis, to, command="remedy topic move", **filters)
    text = normalize_question(query)
    if not text:
        raise UsageError("the query to move is empty")
    from remedy.analytics.issue_queue import rank_issues

    holders = [i for i in rank_issues(analysis, **{**filters, "states": STATES}) if text in i.cluster.queries]
    if not holders:
        raise UsageError(f"no failure of these logs has the query {text!r} (give it as `remedy issue` lists it)")
    if holders[0].cluster.id == target.cluster.id:
        raise UsageError(f"{text!r} is in issue {target.cluster.id} already")
    edit = _release(config, files, [text], keep=target.cluster.id)
    current = files.get(target.cluster.id)
    edit.topic = current or TopicFile(id=target.cluster.id)
    edit.created = current is None
    edit.topic.queries = list(dict.fromkeys([*edit.topic.queries, text]))
    edit.path = write_topic(_root(config), edit.topic)
    return edit


def _root(config: Config) -> Path:
    return topics_dir(config.triage_dir)


def _loaded(config: Config) -> dict[str, TopicFile]:
    """The topic files; any bad one stops the edit (it would be rewritten or contradicted unread)."""
    folder = load_topic_files(_root(config))
    if folder.problems:
        first = folder.problems[0]
        raise InputError(f"{display_path(first.path)}:{first.position.line}:{first.position.column}: {first.code} "
                         f"{first.message}; fix the file (remedy validate shows every problem), then try again")
    return folder.files


def _issue(config: Config, key: str, log_paths: Sequence[str], filters: dict[str, Any]) -> Issue:
    if not log_paths:
        raise UsageError("--logs PATH is needed, so remedy can find the issue (rank or id as `remedy issues` shows it)")
    return find_issue(analyse(config, log_paths), key, command="remedy topic", **filters)


def _release(config: Config, files: dict[str, TopicFile], queries: Sequence[str], keep: str | None) -> TopicEdit:
    """Take `queries` out of every file but `keep`'s (a query belongs to one file)."""
    edit = TopicEdit(topic=TopicFile(id=""), path=Path(), created=False)
    for topic in files.values():
        if topic.id == keep or not set(queries) & set(topic.queries):
            continue
        topic.queries = [q for q in topic.queries if q not in set(queries)]
        if not topic.queries:
            topic.split_from = None
        _save_or_remove(config, topic, edit)
    return edit


def _save_or_remove(config: Config, topic: TopicFile, edit: TopicEdit) -> None:
    if topic.empty:
        path = topic_path(_root(config), topic.id)
        path.unlink(missing_ok=True)
        edit.removed.append(path)
    else:
        edit.updated.append(write_topic(_root(config), topic))
