"""The impact of a change on past logs: failures each added or changed entry newly covers or stops covering.

The logs are read once and attributed twice, against the base and against the working tree, with the
same decision rule; the difference is the change's impact. Preventions of the base's answers come
from the same reading and decide which answers are protected from deletion or rewriting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from remedy.analytics.analysis import Analysis, attribute
from remedy.analytics.coverage import coverage_report
from remedy.config import Config
from remedy.files.folder import Folder
from remedy.gate.changes import Change
from remedy.logs.project import read_project_logs
from remedy.logs.settings import log_settings


@dataclass(frozen=True)
class EntryImpact:
    """What one added, modified or removed entry changes in the past failures covered."""

    id: str
    kind: str
    change: str
    status: str  # its status now, or "deleted"
    fields: tuple[str, ...]
    newly_covered: int
    no_longer_covered: int
    covered_failures: int


@dataclass
class Impact:
    failures: int
    addressed_before: int
    addressed_after: int
    entries: list[EntryImpact] = field(default_factory=list)  # one per added / modified / removed entry
    preventions: dict[str, int] = field(default_factory=dict)  # base answers' preventions
    preventions_source: str = ""
    skipped_lines: int = 0

    @property
    def share_before(self) -> float | None:
        return self.addressed_before / self.failures if self.failures else None

    @property
    def share_after(self) -> float | None:
        return self.addressed_after / self.failures if self.failures else None


def measure_impact(base_config: Config, config: Config, base: Folder, current: Folder, changes: list[Change],
                   log_paths: Sequence[str], *, strict: bool = False) -> Impact:
    """Each side is read and matched with its own configuration (the base's from git, see base_config.py).

    Which base answers are protected counts preventions with the base's log mapping, so a pull request
    cannot unprotect them by remapping `served_remediation`. When the mapping changed, preventions
    under the new mapping count too (a new export format the base's mapping cannot read).
    """
    connection = duckdb.connect(":memory:")
    logs = read_project_logs(config, log_paths, strict=strict, connection=connection)
    base_logs = logs
    if log_settings(base_config) != log_settings(config):
        # Uncached: the log cache keeps one entry per file, and this rare second reading must not evict
        # the entry the head side's table reads.
        base_logs = read_project_logs(base_config, log_paths, strict=strict, connection=connection,
                                      table="logs_base", cached=False, refuse_unreadable=False)
    before = attribute(base_config, base_logs, base.remediations, table="attributions_base")
    after = attribute(config, logs, current.remediations, table="attributions_head")
    base_report = coverage_report(before)
    head_report = coverage_report(after)
    preventions = {row.id: row.preventions for row in base_report.remediations}
    if base_logs is not logs:
        mapped_now = coverage_report(attribute(config, logs, base.remediations, table="attributions_base_now"))
        for row in mapped_now.remediations:
            preventions[row.id] = max(preventions.get(row.id, 0), row.preventions)
    covered_before = _covered_failures(before)
    covered_after = _covered_failures(after)
    entries = []
    for change in changes:
        if change.what == "unchanged":
            continue
        old = covered_before.get(change.id, set())
        new = covered_after.get(change.id, set())
        entry = change.current or change.base
        assert entry is not None
        entries.append(EntryImpact(id=change.id, kind=entry.kind, change=change.what,
                                   status=change.current.status if change.current else "deleted",
                                   fields=tuple(change.fields), newly_covered=len(new - old),
                                   no_longer_covered=len(old - new), covered_failures=len(new)))
    return Impact(failures=head_report.logs.failures,
                  addressed_before=base_report.logs.addressed_failures,
                  addressed_after=head_report.logs.addressed_failures, entries=entries,
                  preventions=preventions,
                  preventions_source=base_report.preventions_source, skipped_lines=logs.skipped_lines)


def _covered_failures(analysis: Analysis) -> dict[str, set[str]]:
    rows = analysis.con.execute(f"""
        SELECT a.remediation_id, list(DISTINCT l.log_id)
        FROM {analysis.logs.table} l JOIN {analysis.attributions} a USING (normalized_query)
        WHERE l.is_failure AND a.role IN ('active', 'draft') GROUP BY a.remediation_id""").fetchall()
    return {remediation_id: set(log_ids) for remediation_id, log_ids in rows}
