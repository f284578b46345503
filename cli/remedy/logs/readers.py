"""The SQL of DuckDB's readers for one log file: its lines as text, in file order (`source_sql`), or its
objects parsed by DuckDB's JSON reader with each field typed or as JSON (`json_fields_sql`); and what
their errors mean. Nothing here checks a field (`remedy.logs.fields`) or decides which reader to use
(`remedy.logs.staging`). The line SQL only has to keep every line where it is, so that a row's
position gives its exact line number.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from remedy.errors import InputError, is_interrupt
from remedy.logs.sources import GLOB_CHARS, LogFile
from remedy.sql import sql_identifier as quote_ident
from remedy.sql import sql_string

if TYPE_CHECKING:
    import duckdb

# The longest line DuckDB's line reader takes: a longer one stops the file (exit 2 naming it). Lines longer
# than `fields.MAX_LINE_BYTES` (16 MB) are read as text only to be skipped and named.
READER_LINE_BYTES = 256 * 1024 * 1024
# DuckDB's CSV buffer defaults to 16 lines of the maximum size, capped by the file: a 5 GB export
# asked for one 4 GB block. A buffer just above one line reads as fast and keeps memory flat.
_CSV_BUFFER_BYTES = READER_LINE_BYTES + 1024 * 1024

def source_sql(con: duckdb.DuckDBPyConnection, log_file: LogFile) -> str:
    """A subquery yielding one `doc` (JSON text, NULL for a blank line) per line or row, in file order."""
    path = duckdb_path(log_file.path)
    if log_file.format == "jsonl":
        compression = "gzip" if log_file.gzip else "none"
        # A NUL delimiter and no quoting: every line is one VARCHAR, whatever it holds.
        return (
            f"SELECT line AS doc FROM read_csv({path}, columns = {{'line': 'VARCHAR'}}, header = false, "
            f"auto_detect = false, delim = '\x00', quote = '', escape = '', strict_mode = false, "
            f"max_line_size = {READER_LINE_BYTES}, buffer_size = {_CSV_BUFFER_BYTES}, compression = '{compression}')"
        )
    # to_json keeps every column; a struct of the row keeps Parquet's nested types (scores, context).
    members = ", ".join(f"{sql_string(name)}: {quote_ident(name)}" for name in parquet_schema(con, log_file))
    return f"SELECT to_json({{{members}}})::VARCHAR AS doc FROM {parquet_sql(log_file)}"


def parquet_sql(log_file: LogFile) -> str:
    """DuckDB's reader of a Parquet file: its rows in file order, its columns typed."""
    return f"read_parquet({duckdb_path(log_file.path)})"


def parquet_schema(con: duckdb.DuckDBPyConnection, log_file: LogFile) -> dict[str, str]:
    """Column name -> DuckDB type of a Parquet file (a file DuckDB cannot read: InputError)."""
    import duckdb

    try:
        columns = con.execute(f"DESCRIBE SELECT * FROM {parquet_sql(log_file)}").fetchall()
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        raise InputError(unreadable(log_file.path, error)) from error
    return {str(name): str(kind) for name, kind, *_ in columns}


def json_fields_sql(log_file: LogFile, columns: Mapping[str, str]) -> str:
    """The fast path for JSON lines: DuckDB's own JSON reader, each field named in `columns` converted to
    its type there (`JSON`: the value's JSON text, for the per-field checks; see `remedy.logs.typed`).

    It parses each line once, in parallel, but it skips blank lines and reads a `null` line as a row
    of nulls, so its rows are the file's lines only when `fast_rows_are_lines` says so; any line it
    cannot read (not JSON, not an object, not UTF-8, too long, a value it cannot convert) makes it raise,
    and the caller reads the file another way.
    """
    listed = ", ".join(f"{sql_string(name)}: {sql_string(kind)}" for name, kind in columns.items())
    compression = "gzip" if log_file.gzip else "none"
    return (f"SELECT * FROM read_json({duckdb_path(log_file.path)}, format = 'newline_delimited', "
            f"records = true, columns = {{{listed}}}, compression = '{compression}', "
            f"maximum_object_size = {fast_object_bytes()})")


def fast_object_bytes() -> int:
    """The fast JSON reader refuses a line longer than a line may be (`fields.MAX_LINE_BYTES`): such a
    file is read line by line, where that line is skipped and named (its buffers are this size per thread)."""
    from remedy.logs import fields

    return fields.MAX_LINE_BYTES


def line_count(con: duckdb.DuckDBPyConnection, log_file: LogFile) -> tuple[int, bool]:
    """How many lines the file has, counted as `source_sql` does (a last line without a newline too), and
    whether one is longer than a line may be (`fields.MAX_LINE_BYTES`)."""
    if log_file.gzip:
        found = con.execute(f"SELECT count(*), coalesce(max(strlen(doc)), 0) FROM ({source_sql(con, log_file)})"
                            ).fetchone()
        return (int(found[0]), int(found[1]) > fast_object_bytes()) if found else (0, False)
    return plain_line_count(log_file.path)


def plain_line_count(path: str) -> tuple[int, bool]:
    """`line_count` of a file that is not compressed. Blocks are at most the longest line a line may be, so
    a longer line crosses a block's end: only the runs across blocks need measuring."""
    limit = fast_object_bytes()
    lines, last, run, too_long = 0, b"\n", 0, False
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(min(1 << 24, limit)), b""):
            first = block.find(b"\n")
            if first < 0:
                run += len(block)
            else:
                lines += block.count(b"\n")
                too_long = too_long or run + first > limit
                run = len(block) - block.rfind(b"\n") - 1
            last = block[-1:]
    return lines + (last != b"\n"), too_long or run > limit


def starts_with_bom(log_file: LogFile) -> bool:
    """A UTF-8 byte order mark: the fast reader skips it, the line reader reports the line (as before)."""
    if log_file.gzip:
        import gzip

        with gzip.open(log_file.path, "rb") as handle:
            return handle.read(3) == b"\xef\xbb\xbf"
    with open(log_file.path, "rb") as handle:
        return handle.read(3) == b"\xef\xbb\xbf"


def duckdb_path(path: str) -> str:
    """A SQL literal naming exactly the file `path`: DuckDB's readers expand `*`, `?` and `[...]` in any
    name (a file `x[1].jsonl` would read `x1.jsonl`), so those are escaped as one-character classes."""
    escaped = "".join(f"[{char}]" if char in GLOB_CHARS else char for char in os.path.abspath(path))
    return sql_string(escaped)


def not_utf8(error: BaseException) -> bool:
    text = str(error).lower()
    return "unicode" in text or "utf-8" in text or "utf8" in text


def unreadable(path: str, error: BaseException) -> str:
    message = first_line(error)
    line = re.search(r"CSV Error on Line: (\d+)", str(error))
    if line and ("unicode" in str(error).lower() or "utf" in str(error).lower()):
        return f"{path}:{line.group(1)}: not UTF-8 text; the file cannot be read"
    if "gzip" in message.lower():
        return f"{path}: truncated or corrupt gzip data ({message})"
    return f"{path}: cannot be read: {message}"


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
