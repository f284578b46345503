"""The local engine: the log table in DuckDB, its distinct queries decided by the attribution step,
then every output in SQL over all the rows.

The distinct queries go to `AttributionStep` (remedy.analytics.step) sorted, in parts of bounded
size, each embedded and decided once (`_decide_in_parts`); a million-row log never becomes a million
Python objects, and its rows are never sorted. A warm run whose decision
cache knows every distinct query decides nothing. Then each output is one SQL over all the rows on
the log table's own connection (`AttributionStep.run_whole`), as the Ray engine computes it per block:
`{table}` holds one row per accepted decision
(normalized_query, remediation_id, kind, role, similarity, margin), `{table}__by_day`,
`__by_remediation`, `__by_served` the partial aggregates that `merge_sql` sums, and `{table}__rows`
one row per attributed log when asked for."""

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
    StepOutput,
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
# Distinct queries decided at a time (`_decide_in_parts`): their texts and vectors, a few tens of MB.
DECIDE_PART = 65_536
# DuckDB's memory for the attribution's SQL when the logs are on disk (the cache's Parquet view): its
# aggregates spill there. Chosen for the sort by query that SQL once was, the largest use of memory in a
# run: sorting 5M cached rows alone peaked at 744 MB of RSS with the reading's 512 MB and 486 MB with
# 256 MB, in the same CPU time (128 MB fails with 2 threads: "failed to pin block"; each thread needs
# its own buffers, hence 64 MB a thread on bigger machines).
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
                   progress: Progress | None = None, part_size: int = DECIDE_PART,
                   cache_dir: Path | None = None, rows: bool = False,
                   partials: dict[str, str] | None = None) -> AttributionStats:
    """Run the attribution step over every log; its outputs go to `table` and `table__*` (module doc)."""
    con = logs.connection
    step = step_for(matcher, cache_dir, rows=rows, partials=partials)
    total = logs.rows
    distinct: int | None = None  # counted here on the warm path, else on first use
    with _sort_memory(con, logs.table):
        reader = con.cursor()
        # A warm run: when the decision cache knows every distinct query, nothing is decided.
        known = False
        if step.cache is not None and step.cache.holds_decisions:
            queries = reader.sql(f"SELECT DISTINCT normalized_query FROM {logs.table} "
                                 "WHERE normalized_query IS NOT NULL").to_arrow_table().column(0)
            distinct = len(queries)
            known = step.recall(queries)
        columns = reader.sql(f"SELECT {', '.join(STEP_COLUMNS)} FROM {logs.table} LIMIT 0").to_arrow_table()
        create_outputs(con, table, step(columns))  # the first output fixes the tables' shapes
        if known:
            step.remembered_into(con, table)
        else:
            _decide_in_parts(reader, logs.table, step, con, table, part_size, progress, total)
        # Every decision is in `table`: each output is one SQL over all the rows on this connection, in
        # parallel and straight into the driver's tables (no sort of the rows, no Arrow batches).
        step.run_whole(con, logs.table, table)
        if progress:
            progress("matching logs", total, total)
        reader.close()
    step.close()
    finish_outputs(con, table)
    return AttributionStats(
        distinct if distinct is not None else
        lambda: one_row(con.cursor(), f"SELECT count(DISTINCT normalized_query) FROM {logs.table}")[0],
        lambda: one_row(con.cursor(), f"SELECT count(DISTINCT normalized_query) FROM {table}")[0])


def _decide_in_parts(reader: duckdb.DuckDBPyConnection, relation: str, step: AttributionStep,
                     con: duckdb.DuckDBPyConnection, table: str, part_size: int, progress: Progress | None,
                     total: int) -> None:
    """Decide every distinct query of `relation` once, into the driver's decisions table `table`: sorted,
    `part_size` queries at a time (bounded memory), so a query's place in the matrix products, and with
    it the last bit of its cosines (BLAS rounds by position), is fixed by the data alone."""
    parts = reader.sql(f"""
        SELECT normalized_query, sum(n) OVER (ORDER BY normalized_query) AS rows_through
        FROM (SELECT normalized_query, count(*) AS n FROM {relation}
              WHERE normalized_query IS NOT NULL GROUP BY ALL)
        ORDER BY normalized_query""").to_arrow_table()
    queries, through = parts.column("normalized_query"), parts.column("rows_through")
    for first in range(0, parts.num_rows, part_size):
        decided = step.decide(queries.slice(first, part_size))
        append_outputs(con, table, StepOutput({"decisions": decided}))
        if progress:
            progress("matching logs", int(through[min(first + part_size, parts.num_rows) - 1].as_py()), total)


@contextlib.contextmanager
def _sort_memory(con: duckdb.DuckDBPyConnection, table: str) -> Iterator[None]:
    """SORT_MEMORY_LIMIT while the block runs, when `table` is a view over files (its aggregates spill
    there); a table held in memory keeps the connection's limit, which must cover the table itself."""
    if not one_row(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = $name",
                   {"name": table})[0]:
        yield
        return
    with memory_limit(con, SORT_MEMORY_LIMIT):
        yield
