"""What one analysis run gives, whichever engine made it: the logs in DuckDB, the folder's matcher, and
the tables of attributions between them (the coverage report and the issue queue read these)."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

import duckdb

from remedy.analytics.attribution import ATTRIBUTIONS, AttributionStats
from remedy.analytics.log_clock import reference_time
from remedy.analytics.tables import one_row
from remedy.config import Config
from remedy.logs.reading import LogTable
from remedy.matching.matcher import Matcher


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

    @functools.cached_property
    def now(self) -> datetime.datetime | None:
        """The moment ages, trends and the report's period count from (`log_clock`): the newest plausible log,
        from the step's partials (a Ray driver holds the failure logs only). Computed once: once on stderr."""
        return reference_time(self.con, f"{self.attributions}__by_day", self.logs.table)

    def has_served_field(self) -> bool:
        """True when the export records which answer was served (any non-null served_remediation)."""
        return bool(one_row(self.con, f"SELECT count(*) FROM {self.attributions}__by_served")[0])
