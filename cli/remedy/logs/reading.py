"""Reading log exports into one canonical DuckDB table, with failures, severity and primary issue derived.

`read_logs` is the one entry point, and a pipeline in one direction; each step is a module that calls
only the steps after it, never back:

1. `sources`: paths, globs and folders into files (hive partitions too), each sniffed for its format;
2. `cache`: is the file's entry in `.remedy/logs/` current? Then its rows are read from there (skip 3-5);
   many small files are read and cached as bundles (`bundles`: one read and one entry for up to 1,000);
3. `staging` with `typed`: the file read by DuckDB's typed reader, the fields of one kind converted by it;
4. `staging` again for what that read refuses: every field as JSON, then line by line (`line_files`
   rewrites CSV and lines that are not UTF-8 first), with the checks of `fields` and the SQL of `readers`;
5. `derive`: normalized queries, failure, severity, primary issue; the rows go into the entry (or table);
6. the canonical table: a view over the entries (`cache.create_view`), or a table, with the date filter.

The result is a table or view (default `logs`) in a DuckDB connection, with the columns in `LOG_COLUMNS`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from remedy.errors import InputError, is_interrupt
from remedy.logs import staging
from remedy.logs.derive import LOG_COLUMNS, date_filter, log_table_sql, register_normalizer, rows_sql
from remedy.logs.fields import OBJECT_START, lines_source, parse_sql
from remedy.logs.line_files import csv_header
from remedy.logs.readers import duckdb_path, source_sql
from remedy.logs.settings import LogSettings, suggest_mapping
from remedy.logs.sources import FOLDER_SUFFIXES, REPORTED_SKIPS, LogFile, SkippedLine, resolve_log_paths
from remedy.logs.staging import (
    ParquetTarget,
    TableTarget,
    count_rows,
    create_files_table,
    create_staged_table,
    skipped_lines,
)
from remedy.sql import drop_relation, sql_string
from remedy.sql import sql_identifier as quote_ident

if TYPE_CHECKING:
    import duckdb

    from remedy.logs.cache import CachedLogs

__all__ = ["FOLDER_SUFFIXES", "LOG_COLUMNS", "REPORTED_SKIPS", "CanonicalBatch", "LogFile", "LogTable",
           "QueryBatch", "SkippedLine", "canonical_batch", "duckdb_path", "iter_distinct_queries", "read_logs",
           "resolve_log_paths"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class LogTable:
    """The logs read into `connection` as table `table` (columns LOG_COLUMNS); nothing held in Python."""

    connection: duckdb.DuckDBPyConnection
    table: str
    files: tuple[str, ...]
    rows: int
    skipped_lines: int
    first_skipped: tuple[SkippedLine, ...]

    def failures(self) -> int:
        """How many logs are failures."""
        result = self.connection.execute(f"SELECT count(*) FROM {self.table} WHERE is_failure").fetchone()
        return int(result[0]) if result else 0


@dataclass(frozen=True)
class QueryBatch:
    """Distinct normalized queries with how many logs carry each, and their mean severity."""

    normalized_queries: list[str]
    counts: np.ndarray  # int64, logs per query
    failures: np.ndarray  # int64, failure logs per query
    mean_severity: np.ndarray  # float64, over the failure logs (0.0 where there are none)


def read_logs(
    paths: Sequence[str],
    settings: LogSettings | None = None,
    *,
    strict: bool = False,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    table: str = "logs",
    cache_dir: str | os.PathLike[str] | None = None,
    refuse_unreadable: bool = False,
) -> LogTable:
    """Read log exports (JSONL, .jsonl.gz, Parquet, CSV; paths, globs or folders) into a DuckDB table.

    Malformed lines are skipped and counted (`LogTable.skipped_lines`, the first few in
    `first_skipped`); with `strict=True` the first one raises InputError naming file, line and field.
    `since` is inclusive, `until` exclusive; naive times are UTC. A missing file, a pattern that
    matches nothing, or a file that cannot be read at all (binary, corrupt gzip) raises InputError.
    The connection's TimeZone is set to UTC and preserve_insertion_order to true. With
    `refuse_unreadable` (the commands), a file of which not one line can be read raises InputError
    with the `[logs]` mapping that would fit: that is the wrong export or mapping, not bad lines.

    With `cache_dir` (a project's `.remedy/`), each file's parsed rows are kept as Parquet under
    `cache_dir/logs/` (see `remedy.logs.cache`) and read from there while the file is unchanged;
    `table` is then a view over those files (with `since`/`until` applied), so the logs are
    scanned from disk, column by column, instead of being held in memory; the connection's
    memory_limit is set to `cache.CACHED_MEMORY_LIMIT` and it spills under `cache_dir/logs/tmp/`. Example:

        logs = read_logs(["exports/*.jsonl.gz"], LogSettings.from_config({"preset": "hosted"}))
        logs.connection.sql(f"SELECT primary_issue, count(*) FROM {logs.table} GROUP BY ALL")
    """
    import duckdb

    if not _IDENTIFIER.fullmatch(table):
        raise ValueError(f"table name must be a plain SQL identifier, got {table!r}")
    settings = settings or LogSettings()
    files = resolve_log_paths(paths)
    con = connection if connection is not None else duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")  # line numbers rely on it
    quiet(con)
    if cache_dir is not None:
        from remedy.logs import cache

        folder = cache.cache_folder(Path(cache_dir))
        if cache.prepare_folder(folder):
            try:
                cached = _read_through_cache(con, files, settings, folder, since=since, until=until, table=table)
            except cache.CacheFailed as error:
                log.warning("the log cache in %s failed (%s); reading without it", folder, error)
            else:
                if refuse_unreadable:
                    _refuse_unreadable_exports(con, cached.counts(), cached.first_skipped, settings)
                if strict and cached.first_skipped:
                    raise InputError(f"{cached.first_skipped[0]} (--strict)")
                return _log_table(con, table, files, cached.skipped_lines, cached.first_skipped)
    staged = f"{table}__staged"
    create_staged_table(con, staged)
    register_normalizer(con)
    try:
        target = TableTarget(staged)
        spans: list[tuple[int, str, int, int | None]] = []  # (index, path, first rowid, line number of the first row)
        for index, log_file in enumerate(files):
            first_rowid = count_rows(con, staged)
            staging.stage_file(con, target, index, log_file, settings)
            spans.append((index, log_file.path, first_rowid, 1))
        create_files_table(con, table, spans)
        skipped, first_skipped = skipped_lines(con, table, staged)
        if refuse_unreadable:
            counts: dict[int, tuple[int, int]] = dict.fromkeys(range(len(files)), (0, 0)) | {
                int(index): (int(kept), int(malformed)) for index, kept, malformed in con.execute(
                    f"SELECT file_index, count(*) FILTER (WHERE reason IS NULL), "
                    f"count(*) FILTER (WHERE reason <> 'blank') FROM {staged} GROUP BY file_index").fetchall()}
            _refuse_unreadable_exports(con, [(f, *counts[i]) for i, f in enumerate(files)], first_skipped, settings)
        if strict and first_skipped:
            raise InputError(f"{first_skipped[0]} (--strict)")
        drop_relation(con, table)
        con.execute(f"CREATE TABLE {table} AS {log_table_sql(table, staged, date_filter(since, until, 's.ts'))}")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged}")
        con.execute(f"DROP TABLE IF EXISTS {table}__files")
    return _log_table(con, table, files, skipped, first_skipped)


def _read_through_cache(con: duckdb.DuckDBPyConnection, files: list[LogFile], settings: LogSettings, folder: Path,
                        *, since: dt.datetime | dt.date | None, until: dt.datetime | dt.date | None,
                        table: str) -> CachedLogs:
    """Steps 2 to 6 with the cache: each file's entry read if current, else built by staging its rows
    straight into it (one COPY from the reader through the checks and derived columns to Parquet)."""
    from remedy.logs import bundles, cache

    cache.use_folder(con, folder)
    parts: list[cache.ViewPart] = []
    for group in bundles.plan(files, settings):
        if isinstance(group, tuple):  # many small files: one read, one entry (`bundles`)
            path = bundles.bundle_path(folder, group, settings)
            bundle = bundles.load_bundle(con, path, group)
            if bundle is None:
                register_normalizer(con)
                bundle = bundles.build_bundle(con, path, group, settings)
            parts.append(bundle)
            continue
        log_file = group
        parquet = cache.entry_path(folder, log_file.path, settings, format=log_file.format, gzip=log_file.gzip,
                                   partitions=log_file.partitions)
        entry = cache.load_entry(con, parquet)
        if entry is None:
            register_normalizer(con)
            with cache.building_entry(con, [log_file], parquet) as build:
                staging.stage_file(con, ParquetTarget(str(build.temporary), build.options), 0, log_file, settings)
            entry = cache.built_entry(con, parquet)
        parts.append(cache.FileEntry(log_file, entry))
    return cache.create_view(con, table, parts, since=since, until=until)


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """No progress bar: DuckDB draws one on stdout for a query that runs over 2 s, even when stdout is
    not a terminal, which broke `--format json` output on a loaded machine."""
    con.execute("SET enable_progress_bar = false")


def _refuse_unreadable_exports(con: duckdb.DuckDBPyConnection, counts: list[tuple[LogFile, int, int]],
                               first_skipped: tuple[SkippedLine, ...], settings: LogSettings) -> None:
    """A file of which not one line could be read is the wrong export or the wrong `[logs]` mapping,
    not an export of malformed lines: stop (exit 2) and say which mapping would fit."""
    for log_file, kept, malformed in counts:
        if kept or not malformed:
            continue
        first = next((str(item) for item in first_skipped if item.file == log_file.path), None)
        hint = suggest_mapping(_field_names(con, log_file, settings), settings)
        raise InputError(f"{log_file.path}: not one of its {malformed:,} line(s) could be read"
                         + (f" (first: {first})" if first else "") + (f"; {hint}" if hint else ""))


def _field_names(con: duckdb.DuckDBPyConnection, log_file: LogFile, settings: LogSettings,
                 sample: int = 100) -> set[str]:
    """The field names of the first objects in a file (for a message, so only the first few lines)."""
    import duckdb

    if log_file.format == "csv":
        return set(csv_header(log_file.path, log_file.gzip))
    source = source_sql(con, log_file)
    try:
        rows = con.execute(
            f"SELECT DISTINCT unnest(json_keys(doc)) FROM (SELECT doc FROM ({source}) WHERE doc IS NOT NULL "
            f"AND json_valid(doc) AND json_type(doc) = 'OBJECT' LIMIT {sample})").fetchall()
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        return set()
    return {str(name) for (name,) in rows}


def _log_table(con: duckdb.DuckDBPyConnection, table: str, files: Sequence[LogFile], skipped: int,
               first_skipped: tuple[SkippedLine, ...]) -> LogTable:
    return LogTable(connection=con, table=table, files=tuple(f.path for f in files), rows=_count(con, table),
                    skipped_lines=skipped, first_skipped=first_skipped)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    result = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(result[0]) if result else 0


def iter_distinct_queries(
    logs: LogTable, *, failures_only: bool = False, where: str | None = None, batch_size: int = 10_000
) -> Iterator[QueryBatch]:
    """Distinct normalized queries of the logs, in batches of at most `batch_size`, sorted by text.

    Made for embedding: each distinct text is embedded once. Memory stays bounded by the batch size.
    `where` is an extra SQL condition on the log table (trusted text, not user input), e.g.
    `"log_id NOT IN (SELECT log_id FROM attributed)"` for the unaddressed failures.
    """
    conditions = (["is_failure"] if failures_only else []) + ([f"({where})"] if where else [])
    where = "WHERE " + " AND ".join(conditions) if conditions else ""
    cursor = logs.connection.cursor()
    cursor.execute(
        f"""
        SELECT normalized_query,
               count(*) AS logs,
               count(*) FILTER (WHERE is_failure) AS failures,
               -- summed in a fixed order: the same mean to the last bit whatever order the rows came in
               coalesce(avg(severity ORDER BY severity) FILTER (WHERE is_failure), 0.0) AS mean_severity
        FROM {logs.table} {where}
        GROUP BY normalized_query
        ORDER BY normalized_query
        """
    )
    while True:
        rows = cursor.fetchmany(batch_size)
        if not rows:
            break
        yield QueryBatch(
            normalized_queries=[row[0] for row in rows],
            counts=np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows)),
            failures=np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows)),
            mean_severity=np.fromiter((row[3] for row in rows), dtype=np.float64, count=len(rows)),
        )
    cursor.close()


# ---------------------------------------------------------------------------------------------------
# Reading rows that another engine has read already (Ray Data): an Arrow table in, canonical rows out.

_RAW = "remedy_raw"
_BATCH = "remedy_batch"


def _insert_columns(con: duckdb.DuckDBPyConnection, staged: str, columns: list[str], settings: LogSettings) -> bool:
    """A batch of typed rows (Parquet) read by its columns, as `staging` reads a Parquet file: True when
    staged, False (nothing staged) to read each row as a JSON object."""
    schema = {str(name): str(kind) for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {_RAW}").fetchall()
              if name in columns}
    return staging.stage_typed_columns(con, TableTarget(staged), 0, _RAW, schema, settings)


@dataclass(frozen=True)
class CanonicalBatch:
    """Canonical rows (LOG_COLUMNS) of one batch of raw logs, with what was skipped."""

    rows: Any  # pyarrow.Table
    skipped_lines: int
    first_skipped: tuple[SkippedLine, ...]  # line 0: the engine that read the batch does not know lines


def canonical_batch(
    con: duckdb.DuckDBPyConnection,
    raw: Any,
    source_file: str,
    settings: LogSettings,
    *,
    lines: bool,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    first_line: int | None = None,
    marked: bool = False,
) -> CanonicalBatch:
    """The canonical rows of `raw`, a pyarrow table from one file: with `lines`, JSON lines in column
    `text` (other columns, e.g. hive partitions, are added to each object unless it has that field);
    otherwise one log per row, as in Parquet. The same checks and derived columns as `read_logs`;
    `first_line` is the line (or row) number of the first row of `raw` in its file, when the caller knows
    it, else `line_number` is NULL. With `marked`, a line starting with `fields.MARK` is skipped for the
    reason that follows (a line the caller could not decode). `con` is a scratch connection of the caller.
    """
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    quiet(con)
    extra = [name for name in raw.column_names if name not in ("text", "path", "first_line")]
    members = ", ".join(f"{sql_string(name)}: {quote_ident(name)}" for name in extra)
    if lines:
        source = f"SELECT text AS doc FROM {_RAW}"
        if extra:  # hive partition values: under the line's own fields
            source = (f"SELECT CASE WHEN json_valid(text) AND {OBJECT_START.replace('doc', 'text')} "
                      f"THEN json_merge_patch(to_json({{{members}}}), text)::VARCHAR ELSE text END AS doc FROM {_RAW}")
    else:
        source = f"SELECT to_json({{{members}}})::VARCHAR AS doc FROM {_RAW}"
    staged = f"{_BATCH}__staged"
    names = settings.fields
    register_normalizer(con)
    con.register(_RAW, raw)
    try:
        create_staged_table(con, staged)
        if lines or not _insert_columns(con, staged, extra, settings):
            parsed = parse_sql(lines_source(source, names, tabular=not lines), 0, names, marked=marked)
            con.execute(f"INSERT INTO {staged} {rows_sql(parsed, settings)}")
    finally:
        con.unregister(_RAW)
    create_files_table(con, _BATCH, [(0, source_file, 0, first_line)])
    skipped, first_skipped = skipped_lines(con, _BATCH, staged)
    rows = con.sql(log_table_sql(_BATCH, staged, date_filter(since, until, "s.ts"))).to_arrow_table()
    for name in (staged, f"{_BATCH}__files"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return CanonicalBatch(rows, skipped, first_skipped)
