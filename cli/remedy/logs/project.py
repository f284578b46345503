"""The project's logs, read the way every command reads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from remedy.config import Config
from remedy.logs.reading import LogTable, read_logs
from remedy.logs.settings import log_settings

if TYPE_CHECKING:
    import duckdb


def read_project_logs(config: Config, log_paths: Sequence[str], *, strict: bool = False,
                      since: dt.datetime | dt.date | None = None, until: dt.datetime | dt.date | None = None,
                      refuse_unreadable: bool = True, connection: duckdb.DuckDBPyConnection | None = None,
                      table: str = "logs", cached: bool = True) -> LogTable:
    """`read_logs` with the project's settings: its `[logs]` mapping and failure cutoffs, its log cache
    under `.remedy/` (`cached=False`: none), and a new in-memory DuckDB connection unless one is given.

    `refuse_unreadable` (the default for commands): a file of which not one line can be read is the
    wrong export or the wrong mapping, and says which mapping would fit.
    """
    import duckdb

    return read_logs(list(log_paths), log_settings(config), strict=strict, since=since, until=until,
                     connection=connection if connection is not None else duckdb.connect(":memory:"),
                     table=table, cache_dir=config.cache_dir if cached else None,
                     refuse_unreadable=refuse_unreadable)
