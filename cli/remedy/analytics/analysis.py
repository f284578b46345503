"""One analysis run: the logs read into DuckDB, the folder's matcher, and the attributions between them.

Every analytics command (coverage, issues, issue, preview, new --from-issue, check --logs) starts
here, so they all read, filter and attribute logs the same way, on the engine asked for
(`remedy.analytics.engines`: local or Ray, both running the same attribution step).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from remedy.analytics import engines
from remedy.analytics.analysis_result import Analysis
from remedy.analytics.attribution import Progress
from remedy.analytics.local_engine import attribute
from remedy.config import Config
from remedy.files.folder import load_folder
from remedy.files.remediation import Remediation
from remedy.logs.settings import log_settings

__all__ = ["Analysis", "analyse", "attribute"]


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
    chosen = engines.engine(engine)  # an unknown name is refused before any work
    if remediations is None:
        remediations = load_folder(config.remediations_dir).remediations
    request = engines.AnalysisRequest(config=config, log_paths=list(log_paths), remediations=list(remediations),
                                      settings=log_settings(config), since=since, until=until, strict=strict,
                                      rows=rows, failure_logs=failure_logs, partials=dict(partials or {}),
                                      address=ray_address, progress=progress)
    return chosen.analyse_request(request)
