"""Staging: one row per line of a file (or Parquet/CSV row), in file order, with its fields typed or a reason.

DuckDB does all the reading and parsing. The staged table's rows keep the file's order (DuckDB's readers
and INSERT preserve insertion order), so a row's `rowid` gives its exact line number even with many
threads; `{table}__files` holds where each file's rows start. Malformed lines are kept as staged rows
with a reason (`remedy.logs.fields`), counted and reported, never parsed in Python.

JSON lines take a fast path first: DuckDB's JSON reader parses each line once, in parallel, straight
into the fields. It is used only when its rows are exactly the file's lines (as many rows as lines,
no byte order mark, no line that is `null` or lacks an id, which it cannot tell from one another);
otherwise, and whenever it stops at a line it cannot read, the file is read line by line: each line
as text (the CSV reader with a NUL delimiter and no quoting), validated and parsed in SQL, so every
bad line gets its own reason. Parquet files take a typed path too: string columns straight into their
fields, the other columns as JSON text through the same checks (`typed.parquet_reads`); a file that
path cannot vouch for, and CSV rows, are turned into JSON objects and go through the same checks; CSV
and JSON lines that are not UTF-8 are rewritten line for line first (`line_files`).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from remedy.errors import InputError, is_interrupt
from remedy.logs.derive import rows_sql, staged_table_sql
from remedy.logs.fields import columns_source, lines_source, objects_source, parse_sql, with_partitions
from remedy.logs.line_files import csv_as_lines, utf8_lines
from remedy.logs.readers import (
    duckdb_path,
    json_fields_sql,
    line_count,
    not_utf8,
    parquet_schema,
    parquet_sql,
    plain_line_count,
    source_sql,
    starts_with_bom,
    unreadable,
)
from remedy.logs.sources import REPORTED_SKIPS, LogFile, SkippedLine
from remedy.logs.typed import parquet_reads, reader_columns, typed_fields
from remedy.sql import sql_identifier as quote_ident
from remedy.sql import sql_string

if TYPE_CHECKING:
    import duckdb

    from remedy.logs.settings import LogSettings


class Target:
    """Where a file's staged rows go: appended to a table (`TableTarget`) or written as one Parquet file
    (`ParquetTarget`, the log cache); either way in file order."""

    def write(self, con: duckdb.DuckDBPyConnection, select: str) -> None:
        raise NotImplementedError

    def counts(self, con: duckdb.DuckDBPyConnection, index: int, missing_id: str) -> tuple[int, int]:
        """(rows of file `index` written, those of them skipped as `missing_id`)."""
        found = con.execute(f"SELECT count(*), count(*) FILTER (WHERE reason = {missing_id}) "
                            f"FROM ({self.reasons(index)})").fetchone()
        return (int(found[0]), int(found[1])) if found else (0, 0)

    def reasons(self, index: int) -> str:
        """SQL: the `reason` column of the rows of file `index` written."""
        raise NotImplementedError

    def keep(self, con: duckdb.DuckDBPyConnection) -> None:
        """The write fits: make it final."""

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        """Forget a write that did not fit (the fast path), so the next one starts at the same row."""
        raise NotImplementedError


class TableTarget(Target):
    """Rows appended to the staged table `staged`; a file staged after another goes through a side table
    first, so a fast path that does not fit leaves no gap in the rowids."""

    def __init__(self, staged: str) -> None:
        self.staged = staged
        self._side: str | None = None

    def write(self, con: duckdb.DuckDBPyConnection, select: str) -> None:
        if self._side is None and count_rows(con, self.staged):
            self._side = f"{self.staged}__side"
            create_staged_table(con, self._side)
        con.execute(f"INSERT INTO {self._side or self.staged} {select}")

    def reasons(self, index: int) -> str:
        return f"SELECT reason FROM {self._side or self.staged} WHERE file_index = {index}"

    def written(self) -> str:
        """The table that holds the rows of the last write (until `keep` or `reset`)."""
        return self._side or self.staged

    def keep(self, con: duckdb.DuckDBPyConnection) -> None:
        if self._side is not None:
            con.execute(f"INSERT INTO {self.staged} SELECT * FROM {self._side}")
            self.reset(con)

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        if self._side is not None:
            con.execute(f"DROP TABLE IF EXISTS {self._side}")
            self._side = None
        elif count_rows(con, self.staged):  # the first file: its rows are the table's
            create_staged_table(con, self.staged)


class ParquetTarget(Target):
    """Rows written to the Parquet file `path` by one COPY (nothing else is staged)."""

    def __init__(self, path: str, options: str = "FORMAT parquet") -> None:
        self.path = path
        self.options = options

    def write(self, con: duckdb.DuckDBPyConnection, select: str) -> None:
        con.execute(f"COPY ({select}) TO {sql_string(self.path)} ({self.options})")

    def reasons(self, index: int) -> str:
        return f"SELECT reason FROM read_parquet({duckdb_path(self.path)})"

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)


def create_staged_table(con: duckdb.DuckDBPyConnection, staged: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {staged}")
    con.execute(staged_table_sql(staged))


def create_files_table(con: duckdb.DuckDBPyConnection, table: str,
                       spans: list[tuple[int, str, int, int | None]]) -> None:
    """`{table}__files`: (file_index, source_file, first_rowid, first_line) of each staged file."""
    con.execute(f"DROP TABLE IF EXISTS {table}__files")
    con.execute(f"CREATE TABLE {table}__files "
                "(file_index INTEGER, source_file VARCHAR, first_rowid BIGINT, first_line BIGINT)")
    if spans:
        con.executemany(f"INSERT INTO {table}__files VALUES (?, ?, ?, ?)", spans)


def stage_file(con: duckdb.DuckDBPyConnection, target: Target, index: int, log_file: LogFile,
               settings: LogSettings) -> None:
    """Write the staged rows of `log_file` (one per line or row, in order, as file `index`) to `target`.
    The caller registers the normalizer (`derive.register_normalizer`) on `con` first."""

    if os.path.getsize(log_file.path) == 0:
        return  # an empty file is an empty export
    names = settings.fields
    partitions = log_file.partitions
    if log_file.format == "csv":  # split into records in Python: exact line numbers, strict rows
        with _line_file(lambda out: csv_as_lines(log_file.path, log_file.gzip, settings, out)) as lines:
            _insert_lines(con, target, index, lines, settings, shown=log_file.path, tabular=True,
                          partitions=partitions)
        return
    if log_file.format == "jsonl" and _stage_objects(con, target, index, log_file, settings):
        return
    if log_file.format == "parquet" and stage_typed_columns(con, target, index, parquet_sql(log_file),
                                                            parquet_schema(con, log_file), settings, partitions):
        return
    lines = with_partitions(lines_source(source_sql(con, log_file), names, tabular=log_file.format != "jsonl"),
                            names, partitions)
    error = _write(con, target, parse_sql(lines, index, names), settings, keep=True)
    if error is None:
        return
    if log_file.format != "jsonl" or not not_utf8(error):
        raise InputError(unreadable(log_file.path, error)) from error
    # A line that is not UTF-8 stops DuckDB: only then, mark such lines and read the rest.
    with _line_file(lambda out: utf8_lines(log_file.path, log_file.gzip, out)) as decoded:
        _insert_lines(con, target, index, decoded, settings, shown=log_file.path, tabular=False,
                      partitions=partitions)


def _write(con: duckdb.DuckDBPyConnection, target: Target, parsed: str, settings: LogSettings, *,
           keep: bool) -> Exception | None:
    """Write the staged rows of `parsed` to `target` (and keep them); on a DuckDB error, undo and return it."""
    import duckdb

    try:
        target.write(con, rows_sql(parsed, settings))
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        target.reset(con)
        return error
    if keep:
        target.keep(con)
    return None


def _stage_objects(con: duckdb.DuckDBPyConnection, target: Target, index: int, log_file: LogFile,
                   settings: LogSettings) -> bool:
    """The fast paths (module doc): True when the file's rows are staged, False to read it line by line.

    First DuckDB's typed reader for the fields it can convert (`typed`), then, if that read stops (a
    value it may have converted, a line it cannot read), every field as JSON."""

    if starts_with_bom(log_file):
        return False
    names = settings.fields
    typed = typed_fields(names, log_file.partitions)
    # A plain file's lines are counted in a thread while DuckDB reads it (0.3 s of a 545 MB file's 3.5).
    lines = None if log_file.gzip else _counting_lines(log_file)
    for attempt in dict.fromkeys([typed, frozenset()]):
        reader = json_fields_sql(log_file, reader_columns(names, attempt))
        fields = with_partitions(objects_source(reader, names), names, log_file.partitions)
        if _write(con, target, parse_sql(fields, index, names, typed=attempt), settings, keep=False) is None:
            break
    else:
        return False
    count, too_long = lines.result() if lines is not None else line_count(con, log_file)
    rows, unknown = target.counts(con, index, f"'missing required field ' || {sql_string(_label(names, 'id'))}")
    if unknown or rows != count or too_long:  # a line too long is skipped and named by the line reader
        target.reset(con)
        return False
    target.keep(con)
    return True


def _counting_lines(log_file: LogFile) -> Future[tuple[int, bool]]:
    """The lines of a plain (not compressed) file, counted in a daemon thread: nothing waits for it when the read it
    runs beside fails or is interrupted (a 5 GB export takes seconds to count)."""
    counted: Future[tuple[int, bool]] = Future()

    def count() -> None:
        try:
            counted.set_result(plain_line_count(log_file.path))
        except BaseException as error:  # handed to whoever asks for the result
            counted.set_exception(error)

    threading.Thread(target=count, name="remedy-line-count", daemon=True).start()
    return counted


def stage_typed_columns(con: duckdb.DuckDBPyConnection, target: Target, index: int, relation: str,
                        schema: Mapping[str, str], settings: LogSettings,
                        partitions: tuple[tuple[str, str], ...] = ()) -> bool:
    """The typed path for rows with typed columns (a Parquet file's reader, or a batch of its rows):
    the columns of `schema` of `relation` read as `typed.parquet_reads` says, written to `target` as file
    `index`. True when staged, False (nothing written) to read each row as a JSON object: a `scores`
    item that is not a number stops this read."""
    names = settings.fields
    typed, exact = parquet_reads(names, schema, partitions)
    columns = ", ".join(quote_ident(name) for name in schema)
    fields = with_partitions(columns_source(f"SELECT {columns} FROM {relation}", names, frozenset(schema), typed),
                             names, partitions)
    return _write(con, target, parse_sql(fields, index, names, typed=typed, exact=exact), settings, keep=True) is None


def _label(names: Mapping[str, str], canonical: str) -> str:
    name = names[canonical]
    return f"'{name}'" if name == canonical else f"'{name}' ({canonical})"


def _insert_lines(con: duckdb.DuckDBPyConnection, target: Target, index: int, lines: str, settings: LogSettings,
                  *, shown: str, tabular: bool, partitions: tuple[tuple[str, str], ...]) -> None:
    """Stage a line file of `line_files` (one document or MARK + reason per line of the file `shown`)."""

    names = settings.fields
    fields = with_partitions(lines_source(source_sql(con, LogFile(lines, "jsonl")), names, tabular=tabular),
                             names, partitions)
    parsed = parse_sql(fields, index, names, marked=True)
    error = _write(con, target, parsed, settings, keep=True)
    if error is not None:
        raise InputError(unreadable(shown, error)) from error


@contextmanager
def _line_file(write: Callable[[IO[str]], None]) -> Iterator[str]:
    """A temporary file filled by `write`, deleted afterwards."""
    handle, path = tempfile.mkstemp(prefix="remedy-lines-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
        yield path
    finally:
        os.unlink(path)


def skipped_lines(con: duckdb.DuckDBPyConnection, table: str, staged: str) -> tuple[int, tuple[SkippedLine, ...]]:
    """How many staged lines were skipped (blank lines are not counted), and the first REPORTED_SKIPS."""
    rows = con.execute(
        f"""
        SELECT f.source_file, s.rowid - f.first_rowid + f.first_line, s.reason, count(*) OVER ()
        FROM {staged} s JOIN {table}__files f USING (file_index)
        WHERE s.reason IS NOT NULL AND s.reason <> 'blank'
        ORDER BY s.rowid
        LIMIT {REPORTED_SKIPS}
        """
    ).fetchall()
    if not rows:
        return 0, ()
    return int(rows[0][3]), tuple(SkippedLine(str(file), int(line or 0), str(reason)) for file, line, reason, _ in rows)


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    result = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(result[0]) if result else 0
