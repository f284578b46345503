"""One analysis run: the logs read into DuckDB, the folder's matcher, and the attributions between them.

Every analytics command (coverage, issues, issue, preview, new --from-issue, check --logs) starts
here, so they all read, filter and attribute logs the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from remedy.analytics.attribution import ATTRIBUTIONS, AttributionStats, Progress, attribute_logs
from remedy.analytics.tables import one_row
from remedy.config import Config
from remedy.files.folder import load_folder
from remedy.files.remediation import Remediation
from remedy.logs.reading import LogTable, read_logs
from remedy.logs.settings import log_settings
from remedy.matching.folder_index import FolderIndex, build_folder_index


@dataclass
class Analysis:
    logs: LogTable
    folder: FolderIndex
    stats: AttributionStats
    attributions: str = ATTRIBUTIONS  # the DuckDB table holding this analysis' decisions
    config: Config | None = None  # the project's settings (the issue queue reads triage and half-life)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.logs.connection

    def has_served_field(self) -> bool:
        """True when the export records which answer was served (any non-null served_remediation)."""
        sql = f"SELECT count(*) FROM {self.logs.table} WHERE served_remediation IS NOT NULL"
        return bool(one_row(self.con, sql)[0])


def analyse(config: Config, log_paths: Sequence[str], *, since: datetime.datetime | None = None,
            until: datetime.datetime | None = None, strict: bool = False,
            remediations: Sequence[Remediation] | None = None, progress: Progress | None = None) -> Analysis:
    """Read the logs, build the matcher for `remediations` (default: the folder's) and attribute every log."""
    if remediations is None:
        remediations = load_folder(config.remediations).remediations
    logs = read_logs(list(log_paths), log_settings(config), strict=strict, since=since, until=until,
                     connection=duckdb.connect(":memory:"), cache_dir=config.cache_dir,
                     refuse_unreadable=True)
    return attribute(config, logs, remediations, progress=progress)


def attribute(config: Config, logs: LogTable, remediations: Sequence[Remediation], *,
              table: str = ATTRIBUTIONS, progress: Progress | None = None) -> Analysis:
    """An analysis of already-read logs against `remediations` (the gate runs this for base and head)."""
    folder = build_folder_index(remediations, config)
    stats = attribute_logs(logs, folder, table=table, progress=progress)
    return Analysis(logs=logs, folder=folder, stats=stats, attributions=table, config=config)
