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
from remedy.errors import UsageError
from remedy.files.folder import load_folder
from remedy.files.remediation import Remediation
from remedy.logs.project import read_project_logs
from remedy.logs.reading import LogTable
from remedy.logs.settings import log_settings
from remedy.matching.matcher import Matcher, build_matcher


@dataclass
class Analysis:
    logs: LogTable
    matcher: Matcher
    stats: AttributionStats
    attributions: str = ATTRIBUTIONS  # the DuckDB table holding this analysis' decisions
    config: Config | None = None  # the project's settings (the issue queue reads triage and half-life)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.logs.connection

    def has_served_field(self) -> bool:
        """True when the export records which answer was served (any non-null served_remediation)."""
        return bool(one_row(self.con, f"SELECT count(*) FROM {self.attributions}__by_served")[0])


def analyse(config: Config, log_paths: Sequence[str], *, since: datetime.datetime | None = None,
            until: datetime.datetime | None = None, strict: bool = False,
            remediations: Sequence[Remediation] | None = None, progress: Progress | None = None,
            rows: bool = False, failure_logs: bool = False, engine: str = "local",
            ray_address: str | None = None, partials: dict[str, str] | None = None) -> Analysis:
    """Read the logs, build the matcher for `remediations` (default: the folder's) and attribute every log.

    `rows=True` also keeps one row per attributed log (`--attributions`). `engine="ray"` runs the
    same attribution step on Ray Data (remedy.analytics.ray_engine; at `ray_address`, else a local
    instance); its log table then holds the failure logs only when `failure_logs` (what the issue
    queue reads), and no log otherwise: the partial aggregates carry the counts. `partials`: extra
    partial aggregates the step computes on either engine (name -> SQL, see `AttributionStep`).
    """
    if remediations is None:
        remediations = load_folder(config.remediations_dir).remediations
    if engine == "ray":
        from remedy.analytics.ray_engine import analyse_on_ray

        return analyse_on_ray(config, log_paths, remediations, address=ray_address, since=since, until=until,
                              strict=strict, rows=rows, failures=failure_logs, partials=partials,
                              settings=log_settings(config))
    if engine != "local":
        raise UsageError(f"--engine must be local or ray, not {engine!r}")
    logs = read_project_logs(config, log_paths, strict=strict, since=since, until=until)
    return attribute(config, logs, remediations, progress=progress, rows=rows, partials=partials)


def attribute(config: Config, logs: LogTable, remediations: Sequence[Remediation], *,
              table: str = ATTRIBUTIONS, progress: Progress | None = None, rows: bool = False,
              partials: dict[str, str] | None = None) -> Analysis:
    """An analysis of already-read logs against `remediations` (the gate runs this for base and head)."""
    matcher = build_matcher(remediations, config)
    stats = attribute_logs(logs, matcher, table=table, progress=progress, cache_dir=config.cache_dir, rows=rows,
                           partials=partials)
    return Analysis(logs=logs, matcher=matcher, stats=stats, attributions=table, config=config)
