"""The engines behind one interface: each runs the attribution step (`remedy.analytics.step`) over the
logs its way and returns an `Analysis`; `analysis.analyse` picks one by name.

An engine is a module with `analyse_request(request) -> Analysis`, imported by name only when asked
for, so the local engine never loads Ray, and `analysis` and the engines do not import each other.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from remedy.errors import UsageError

if TYPE_CHECKING:
    from remedy.analytics.analysis_result import Analysis
    from remedy.config import Config
    from remedy.files.remediation import Remediation
    from remedy.logs.settings import LogSettings

# engine name -> the module that implements it
ENGINES = {"local": "remedy.analytics.local_engine", "ray": "remedy.analytics.ray_engine"}


@dataclass(frozen=True)
class AnalysisRequest:
    """One analysis to run: the logs, the entries, the period and what to keep (see `analysis.analyse`)."""

    config: Config
    log_paths: Sequence[str]
    remediations: Sequence[Remediation]
    settings: LogSettings
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    strict: bool = False
    rows: bool = False  # one row per attributed log (`--attributions`)
    failure_logs: bool = False  # the Ray engine keeps the failure logs only when asked (the issue queue)
    partials: dict[str, str] = field(default_factory=dict)  # extra partial aggregates (`AttributionStep`)
    address: str | None = None  # a Ray cluster; the local engine takes none
    progress: object | None = None  # the local engine's progress callback (`attribution.Progress`)


class Engine(Protocol):
    def analyse_request(self, request: AnalysisRequest) -> Analysis: ...


def engine(name: str) -> Engine:
    """The engine called `name`; UsageError for an unknown one."""
    module = ENGINES.get(name)
    if module is None:
        raise UsageError(f"--engine must be {' or '.join(ENGINES)}, not {name!r}")
    found: Engine = importlib.import_module(module)  # type: ignore[assignment]
    return found
