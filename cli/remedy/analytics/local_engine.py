"""The local engine: the logs read into DuckDB on this machine (through the parsed-log cache), then the
attribution step over them in batches ordered by query (`remedy.analytics.attribution`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from remedy.analytics.analysis_result import Analysis
from remedy.analytics.attribution import ATTRIBUTIONS, Progress, attribute_logs
from remedy.config import Config
from remedy.files.remediation import Remediation
from remedy.logs.project import read_project_logs
from remedy.logs.reading import LogTable
from remedy.matching.matcher import build_matcher

if TYPE_CHECKING:
    from remedy.analytics.engines import AnalysisRequest


def analyse_request(request: AnalysisRequest) -> Analysis:
    logs = read_project_logs(request.config, request.log_paths, strict=request.strict, since=request.since,
                             until=request.until)
    return attribute(request.config, logs, request.remediations, progress=request.progress,  # type: ignore[arg-type]
                     rows=request.rows, partials=request.partials)


def attribute(config: Config, logs: LogTable, remediations: Sequence[Remediation], *,
              table: str = ATTRIBUTIONS, progress: Progress | None = None, rows: bool = False,
              partials: dict[str, str] | None = None) -> Analysis:
    """An analysis of already-read logs against `remediations` (the gate runs this for base and head)."""
    matcher = build_matcher(remediations, config)
    stats = attribute_logs(logs, matcher, table=table, progress=progress, cache_dir=config.cache_dir, rows=rows,
                           partials=partials)
    return Analysis(logs=logs, matcher=matcher, stats=stats, attributions=table, config=config)
