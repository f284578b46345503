"""`remedy preview ID`: every past log an entry would capture once active, most doubtful first.

The entry is treated as active (whatever its status) among the folder's active entries of its kind;
each captured log shows its similarity and margin, whether it was a failure (a non-failure captured
is a good response that would be replaced), and which active entry it goes to today, if any.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from remedy.analytics.analysis import analyse
from remedy.analytics.attribution import Progress
from remedy.config import Config
from remedy.errors import UsageError
from remedy.files.folder import load_folder
from remedy.matching.matcher import uncalibrated_notice
from remedy.normalize import normalize_question


@dataclass(frozen=True)
class CapturedLog:
    log_id: str
    timestamp: datetime.datetime
    query: str
    similarity: float
    margin: float
    exact: bool  # the query is the entry's question or one of its also_matches
    failure: bool
    currently: str | None  # the active entry the log goes to today
    response: str | None


@dataclass(frozen=True)
class Preview:
    """`remedy preview ID`: the entry's settings, the totals, and every log it would capture."""

    id: str
    kind: str
    status: str
    threshold: float
    margin: float
    uncalibrated: str | None  # the notice when the settings are the model's defaults
    captured_logs: int
    captured_failures: int
    captured_non_failures: int
    taken_over: int
    distinct_queries: int
    logs: tuple[CapturedLog, ...]  # most doubtful first


def preview_entry(config: Config, remediation_id: str, log_paths: Sequence[str], *, strict: bool = False,
                  since: Any = None, until: Any = None, progress: Progress | None = None) -> Preview:
    folder = load_folder(config.remediations_dir)
    by_id = folder.by_id()
    if remediation_id not in by_id:
        raise UsageError(f"no remediation with id '{remediation_id}' in {config.remediations_dir}")
    return preview_remediation(config, by_id[remediation_id], folder.remediations, log_paths, strict=strict,
                               since=since, until=until, progress=progress)


def preview_remediation(config: Config, entry: Any, remediations: Sequence[Any], log_paths: Sequence[str], *,
                        strict: bool = False, since: Any = None, until: Any = None,
                        progress: Progress | None = None) -> Preview:
    """`preview_entry` for an entry that may not be in the folder yet (the workspace's draft being written):
    `entry` replaces the folder's remediation of its id, or joins `remediations`."""
    remediation_id = entry.id
    active = dataclasses.replace(entry, status="active")
    hypothetical = [active if r.id == remediation_id else r for r in remediations]
    if not any(r.id == remediation_id for r in remediations):
        hypothetical.append(active)
    analysis = analyse(config, log_paths, since=since, until=until, strict=strict, remediations=hypothetical,
                       progress=progress)
    rows = analysis.con.execute(f"""
        SELECT l.log_id, l.ts, l.query, l.normalized_query, a.similarity, a.margin, l.is_failure, l.response
        FROM {analysis.logs.table} l JOIN {analysis.attributions} a USING (normalized_query)
        WHERE a.role = 'active' AND a.remediation_id = $id
        ORDER BY a.margin, a.similarity, l.ts, l.log_id""", {"id": remediation_id}).fetchall()
    today = _current_winners(config, list(remediations), entry.kind, sorted({row[3] for row in rows}))
    own = _own_texts(entry)
    captured = [CapturedLog(log_id=row[0], timestamp=row[1], query=row[2], similarity=round(row[4], 4),
                            margin=round(row[5], 4), exact=normalize_question(row[2]) in own, failure=bool(row[6]),
                            currently=today.get(row[3]), response=row[7]) for row in rows]
    failures = sum(1 for row in captured if row.failure)
    return Preview(id=remediation_id, kind=entry.kind, status=entry.status,
                   threshold=entry.threshold if entry.threshold is not None else analysis.matcher.threshold,
                   margin=analysis.matcher.margin,
                   uncalibrated=uncalibrated_notice(config, analysis.matcher.embedder),
                   captured_logs=len(captured), captured_failures=failures,
                   captured_non_failures=len(captured) - failures,
                   taken_over=sum(1 for row in captured if row.currently),
                   distinct_queries=len(today) if today else len({row.query for row in captured}),
                   logs=tuple(captured))


def _own_texts(entry: Any) -> set[str]:
    return {normalize_question(text) for text in (entry.question, *entry.also_matches)}


def _current_winners(config: Config, remediations: list, kind: str, queries: list[str]) -> dict[str, str]:
    """Which active entry each query goes to today (only for the queries the preview captured)."""
    from remedy.matching.matcher import build_matcher

    if not queries:
        return {}
    today = build_matcher(remediations, config)
    decisions = today.index.decide(queries, kind=kind, statuses=("active",))
    return {query: decision.entry_id for query, decision in zip(queries, decisions, strict=True)
            if decision.entry_id}
