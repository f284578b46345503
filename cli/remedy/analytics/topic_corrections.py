"""The expert's topic files applied to a run's topics (`remedy.files.topic_files`).

Two steps, so a correction made on one run keeps its meaning on later runs and with new logs:

1. `claim_queries`, on the clustered (untriaged) topics: a query a file names leaves whatever topic the
   clustering put it in and joins the file's issue (a split makes a new issue under the file's id; a move
   adds it to an existing one). A topic left without queries is gone; one that lost its representative
   takes its most frequent remaining query (its id stays).
2. `merge_issues`, on every issue (triaged ones too): the issues a file's `merge` names join the file's
   issue, which keeps its id and representative.

A file that no longer fits the logs is reported, never applied silently: a split or move none of whose
queries fails in these logs, a merge whose issue (either side) is not among these logs' issues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from remedy.files.folder import display_path
from remedy.files.topic_files import TopicFile
from remedy.logs.clustering import Cluster


@dataclass
class Corrections:
    """What the topic files changed: issue id -> the files that regrouped it, and the warnings to show."""

    regrouped: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def mark(self, issue: str, topic: TopicFile) -> None:
        name = display_path(topic.path) if topic.path else f"{topic.id}.yaml"
        if topic.note:
            name += f" ({topic.note})"
        if name not in self.regrouped.setdefault(issue, []):
            self.regrouped[issue].append(name)


def _name(topic: TopicFile) -> str:
    return display_path(topic.path) if topic.path else f"{topic.id}.yaml"


def claim_queries(clusters: list[Cluster], files: dict[str, TopicFile], queries: Sequence[str],
                  weights: Sequence[int], severity_sums: Sequence[float], impacts: Sequence[float],
                  corrections: Corrections, failing: set[str] | frozenset[str] = frozenset()) -> list[Cluster]:
    """`clusters` (members: indices into `queries`, in frequency order) with the files' queries moved out to
    their files' issues. `failing`: the files' queries that are failures of these logs at all (addressed or
    triaged ones too): a file none of whose queries is there no longer fits the logs."""
    position = {query: index for index, query in enumerate(queries)}
    owner: dict[int, TopicFile] = {}
    for topic in files.values():
        found = [position[q] for q in topic.queries if q in position]
        for index in found:
            owner[index] = topic
        if topic.queries and not found and not failing.intersection(topic.queries):
            what = f"split out of {topic.split_from}" if topic.split_from else "moved to it"
            corrections.warnings.append(
                f"{_name(topic)}: none of the {len(topic.queries)} queries {what} is a failure in these logs: "
                "nothing regrouped (delete the file when the question is gone)")
    if not owner:
        return clusters

    def built(issue: str, members: list[int], representative: str | None = None) -> Cluster:
        members = sorted(members)  # frequency order: the inputs' order
        size = sum(weights[m] for m in members)
        severity = sum(severity_sums[m] for m in members)
        return Cluster(id=issue, representative=representative or queries[members[0]], members=tuple(members),
                       queries=tuple(queries[m] for m in members), size=size,
                       mean_severity=severity / size if size else 0.0, impact=sum(impacts[m] for m in members))

    result: list[Cluster] = []
    for cluster in clusters:
        kept = [m for m in cluster.members if m not in owner]
        if len(kept) == len(cluster.members):
            result.append(cluster)
        elif kept:
            representative = cluster.representative if position.get(cluster.representative) in kept else None
            result.append(built(cluster.id, kept, representative))
            for m in cluster.members:
                if m in owner:
                    corrections.mark(cluster.id, owner[m])
    claimed: dict[str, list[int]] = {}
    for index, topic in owner.items():
        claimed.setdefault(topic.id, []).append(index)
    by_id = {cluster.id: number for number, cluster in enumerate(result)}
    for issue, members in claimed.items():
        topic = files[issue]
        corrections.mark(issue, topic)
        if issue in by_id:  # a move into an issue the clustering formed: it grows, keeping its representative
            current = result[by_id[issue]]
            result[by_id[issue]] = built(issue, [*current.members, *members], current.representative)
        else:
            if not topic.split_from:
                corrections.warnings.append(
                    f"{_name(topic)}: issue {issue} is not among these logs' issues any more; the queries moved to "
                    "it form an issue of their own under its id")
            result.append(built(issue, members))
    return result


def merge_issues(clusters: list[Cluster], files: dict[str, TopicFile], corrections: Corrections) -> list[Cluster]:
    """`clusters` with each file's `merge` issues joined into the file's issue (its id and representative)."""
    by_id = {cluster.id: cluster for cluster in clusters}
    gone: set[str] = set()
    for topic in files.values():
        if not topic.merge:
            continue
        target = by_id.get(topic.id)
        present = [other for other in topic.merge if other in by_id and other not in gone]
        missing = [other for other in topic.merge if other not in by_id]
        if target is None:
            corrections.warnings.append(
                f"{_name(topic)}: issue {topic.id} is not among these logs' issues (its topic moved, or it has no "
                f"failures here): {', '.join(topic.merge)} not merged into it")
            continue
        if missing:
            corrections.warnings.append(
                f"{_name(topic)}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not among these logs' "
                f"issues (the topic moved, or no failures here): not merged into {topic.id}")
        if not present:
            continue
        group = [target, *(by_id[other] for other in present)]
        size = sum(c.size for c in group)
        by_id[topic.id] = Cluster(
            id=target.id, representative=target.representative,
            members=tuple(m for c in group for m in c.members), queries=tuple(q for c in group for q in c.queries),
            size=size, mean_severity=sum(c.mean_severity * c.size for c in group) / size if size else 0.0,
            impact=sum(c.impact for c in group))
        gone.update(present)
        corrections.mark(topic.id, topic)
    return [by_id[c.id] for c in clusters if c.id not in gone]
