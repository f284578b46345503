"""The local engine: the log table in DuckDB, fed to the attribution step batch by batch.

The rows go to `AttributionStep` (remedy.analytics.step) in Arrow batches ordered by normalized
query, so each distinct query is embedded and decided in one batch (two at a batch boundary) and the
memo stays small; a million-row log never becomes a million Python objects. A warm run whose
decision cache knows every distinct query decides nothing: its outputs are computed over all the
rows at once, in SQL on the log table's own connection (`AttributionStep.run_whole`). The step's outputs
land in DuckDB tables on the same connection: `{table}` holds one row per accepted decision
(normalized_query, remediation_id, kind, role, similarity, margin), `{table}__by_day`,
`__by_remediation`, `__by_served` the partial aggregates that `merge_sql` sums, and `{table}__rows`
one row per attributed log when asked for.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from remedy.analytics.step import (
    KINDS,
    ROLES,
    STEP_COLUMNS,
    AttributionStep,
    append_outputs,
    create_outputs,
    finish_outputs,
)
from remedy.analytics.tables import one_row
from remedy.logs.reading import LogTable
from remedy.matching.matcher import Matcher
from remedy.sql import memory_limit

if TYPE_CHECKING:
    import duckdb

__all__ = ["ATTRIBUTIONS", "KINDS", "ROLES", "AttributionStats", "Progress", "attribute_logs", "step_for"]

ATTRIBUTIONS = "attributions"
Progress = Callable[[str, int, int], None]
# Rows per step batch: large enough that DuckDB's per-batch work is cheap, small enough for flat memory.
BATCH_ROWS = 262_144
# DuckDB's memory for the sort by query when the logs are on disk (the cache's Parquet view): the
# largest use of memory in a run. Sorting 5M cached rows alone peaked at 744 MB of RSS with the
# reading's 512 MB and 486 MB with 256 MB, in the same CPU time (128 MB fails with 2 threads:
# "failed to pin block"; each thread needs its own buffers, hence 64 MB a thread on bigger machines).
SORT_MEMORY_LIMIT = f"{max(256, 64 * (os.cpu_count() or 1))}MB"


class AttributionStats:
    """How many distinct queries the logs hold and how many of them were attributed. Each may be given
    as a function: it is then counted on first use (a scan of the logs that no command's numbers need)."""

    def __init__(self, distinct_queries: int | Callable[[], int], attributed_queries: int | Callable[[], int]) -> None:
        self._counts = {"distinct_queries": distinct_queries, "attributed_queries": attributed_queries}

    def _count(self, name: str) -> int:
        value = self._counts[name]
        if callable(value):
            value = self._counts[name] = int(value())
        return value

    @property
    def distinct_queries(self) -> int:
        return self._count("distinct_queries")

    @property
    def attributed_queries(self) -> int:
        return self._count("attributed_queries")


def step_for(matcher: Matcher, cache_dir: Path | None, *, rows: bool = False,
             failures: bool = False, partials: dict[str, str] | None = None) -> AttributionStep:
    """The attribution step for `folder`, with the decision cache under `cache_dir` (None: no cache);
    `partials`: extra partial aggregates (name -> SQL, see `AttributionStep`)."""
    cache = None
    if cache_dir is not None:
        from remedy.analytics.decision_cache import DecisionCache, decision_key
        from remedy.analytics.step import DECISIONS_SCHEMA

        cache = DecisionCache(cache_dir, decision_key(matcher), DECISIONS_SCHEMA)
    return AttributionStep(matcher, rows=rows, failures=failures, cache=cache, partials=partials)


def attribute_logs(logs: LogTable, matcher: Matcher, *, table: str = ATTRIBUTIONS,
                   progress: Progress | None = None, batch_size: int = BATCH_ROWS,
                   cache_dir: Path | None = None, rows: bool = False,
                   partials: dict[str, str] | None = None) -> AttributionStats:
    """Run the attribution step over every log; its outputs go to `table` and `table__*` (module doc)."""
    con = logs.connection
    step = step_for(matcher, cache_dir, rows=rows, partials=partials)
    total = logs.rows
    distinct: int | None = None  # counted here on the warm path, else on first use
    with _sort_memory(con, logs.table):
        reader = con.cursor()
        # A warm run: when the decision cache knows every distinct query, no batch decides anything and the
        # rows need no order (the sort was most of a warm run: 2.3 s of 3 at 1M rows, against 0.7 s unsorted).
        known = False
        if step.cache is not None and step.cache.holds_decisions:
            queries = reader.sql(f"SELECT DISTINCT normalized_query FROM {logs.table} "
                                 "WHERE normalized_query IS NOT NULL").to_arrow_table().column(0)
            distinct = len(queries)
            known = step.recall(queries)
        if known:
            # Nothing to decide: every output is one SQL over all the rows on this connection, in parallel
            # and straight into the driver's tables (no sort, no Arrow batches through Python).
            columns = reader.sql(f"SELECT {', '.join(STEP_COLUMNS)} FROM {logs.table} LIMIT 0").to_arrow_table()
            create_outputs(con, table, step(columns))
            step.run_whole(con, logs.table, table)
            if progress:
                progress("matching logs", total, total)
        else:
            # Ordered by the text, not by its hash (an integer sort, about 1 CPU s less at 1M rows): a batch's
            # queries and their order fix where each sits in the matrix products, and BLAS rounds the last bit
            # of a cosine differently by position, which moved one attribution's 4-decimal similarity at 1M rows.
            batches = reader.sql(f"SELECT {', '.join(STEP_COLUMNS)} FROM {logs.table} "
                                 "ORDER BY normalized_query").to_arrow_reader(batch_size)
            # The first output fixes the tables' shapes, even for an empty log.
            create_outputs(con, table, step(batches.schema.empty_table()))
            done = 0
            for batch in batches:
                append_outputs(con, table, step(batch))
                done += batch.num_rows
                if progress:
                    progress("matching logs", done, total)
        reader.close()
    step.close()
    finish_outputs(con, table)
    return AttributionStats(
        distinct if distinct is not None else
        lambda: one_row(con.cursor(), f"SELECT count(DISTINCT normalized_query) FROM {logs.table}")[0],
        lambda: one_row(con.cursor(), f"SELECT count(DISTINCT normalized_query) FROM {table}")[0])


@contextlib.contextmanager
def _sort_memory(con: duckdb.DuckDBPyConnection, table: str) -> Iterator[None]:
    """SORT_MEMORY_LIMIT while the block runs, when `table` is a view over files (the sort spills
    there); a table held in memory keeps the connection's limit, which must cover the table itself."""
    if not one_row(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = $name",
                   {"name": table})[0]:
        yield
        return
    with memory_limit(con, SORT_MEMORY_LIMIT):
        yield
