"""Where log rows come from: paths, globs and folders resolved into files, each file sniffed for its
format, and the SQL that yields its rows (one `doc` of JSON text per line or row, in file order).

Nothing here checks a field: that is `remedy.logs.fields`. The source SQL only has to keep every line
where it is, so that a row's position gives its exact line number (see `remedy.logs.staging`).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from remedy.errors import InputError, is_interrupt
from remedy.sql import sql_identifier as quote_ident
from remedy.sql import sql_string

if TYPE_CHECKING:
    import duckdb

# One JSONL line (e.g. a 10 MB query or a long context) may be this long.
MAX_LINE_BYTES = 256 * 1024 * 1024
# DuckDB's CSV buffer defaults to 16 lines of the maximum size, capped by the file: a 5 GB export
# asked for one 4 GB block. A buffer just above one line reads as fast and keeps memory flat.
_CSV_BUFFER_BYTES = MAX_LINE_BYTES + 1024 * 1024
# The fast JSON reader (`json_fields_sql`) refuses a line longer than this: such a file is read line by
# line instead (its buffers are this size per thread, so it stays small).
FAST_JSON_OBJECT_BYTES = 16 * 1024 * 1024
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
# What a folder given to --logs contributes (each also .gz but Parquet); a file named explicitly or by a
# glob is read whatever its name. Not .json (usually one document, e.g. a config) nor .log/.txt.
FOLDER_SUFFIXES = (".jsonl", ".ndjson", *PARQUET_SUFFIXES, *CSV_SUFFIXES)
_FOLDER_KINDS = ".jsonl, .ndjson, .parquet or .csv (optionally .gz)"
GLOB_CHARS = frozenset("*?[")
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class LogFile:
    """One input file and how to read it."""

    path: str
    format: str  # "jsonl" | "parquet" | "csv"
    gzip: bool = False
    # Hive partition values of a file found in a folder (`date=2026-11-30/`): (key, value) pairs, read as
    # the value of a mapped field that the row itself lacks, as Ray Data reads them.
    partitions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SkippedLine:
    """One malformed line that was left out: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:  # line 0: read by an engine that does not count lines
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


def resolve_log_paths(paths: Sequence[str], *, quiet: bool = False) -> list[LogFile]:
    """Expand globs and folders into files, in a stable order; InputError names what is missing.

    An existing file is that file even when its name holds `*`, `?` or `[`; only a path that does not
    exist is a pattern. A folder is searched recursively and gives its log exports (FOLDER_SUFFIXES),
    in sorted order of their paths, with the hive partition values of the folders between (`date=…/`);
    files and folders whose names start with `.` or `_` are skipped (Spark and Hive write `_SUCCESS`,
    `_temporary/`), and the other files are named on stderr as passed over (unless `quiet`): a folder
    often holds a README or an error log.
    """
    if not paths:
        raise InputError("no log files given")
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for path in paths:
        if os.path.isfile(path):
            found.setdefault(path, ())
        elif os.path.isdir(path):
            for file, partitions in _folder_logs(path, quiet):
                found.setdefault(file, partitions)
        elif GLOB_CHARS & set(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"{path}: no file matches this pattern")
            for match in matches:
                found.setdefault(match, ())
        else:
            raise InputError(f"{path}: no such file")
    return [describe_file(path, partitions) for path, partitions in found.items()]


def _folder_logs(folder: str, quiet: bool) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The log exports under `folder` (recursively), each with its hive partition values."""
    files: list[str] = []  # relative to `folder`, with "/" between parts (as Ray names them)
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith((".", "_"))]
        relative = os.path.relpath(root, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        files.extend(prefix + name for name in names
                     if not name.startswith((".", "_")) and os.path.isfile(os.path.join(root, name)))
    files.sort()
    logs = [name for name in files if _is_folder_log(name)]
    passed_over = [name for name in files if not _is_folder_log(name)]
    if not logs:
        raise InputError(f"{folder}: folder holds no {_FOLDER_KINDS} file"
                         + (f" (passed over: {_some(passed_over)})" if passed_over else ""))
    if passed_over and not quiet:
        log.warning("%s: passed over %d file(s) that are not log exports (%s): %s",
                    folder, len(passed_over), _FOLDER_KINDS, _some(passed_over))
    return [(os.path.join(folder, name), hive_partitions(name)) for name in logs]


def hive_partitions(relative: str) -> tuple[tuple[str, str], ...]:
    """The `key=value` folders of a path relative to the folder given (URL-decoded, the last of a key
    wins), as Ray Data's hive partitioning parses them."""
    pairs = [part.split("=") for part in relative.split("/")[:-1] if part.count("=") == 1]
    values = {key: urllib.parse.unquote(value) for key, value in pairs}
    return tuple(values.items())


def _is_folder_log(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith(FOLDER_SUFFIXES)


def _some(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def describe_file(path: str, partitions: tuple[tuple[str, str], ...] = ()) -> LogFile:
    """Sniff `path`: Parquet by its magic bytes, gzip by its own, binary refused, else by its name."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from error
    if head[:4] == b"PAR1":
        return LogFile(path, "parquet", partitions=partitions)
    gzip = head[:2] == b"\x1f\x8b"
    if not gzip and b"\x00" in head:
        # As git does: a NUL byte near the start means a binary file, not JSON lines or CSV.
        raise InputError(f"{path}: a binary file, not JSON lines, CSV or Parquet")
    name = path.lower().removesuffix(".gz")
    if name.endswith(PARQUET_SUFFIXES):
        if gzip:
            raise InputError(f"{path}: a compressed Parquet file; Parquet compresses itself, give it uncompressed")
        return LogFile(path, "parquet", partitions=partitions)
    return LogFile(path, "csv" if name.endswith(CSV_SUFFIXES) else "jsonl", gzip, partitions)


def source_sql(con: duckdb.DuckDBPyConnection, log_file: LogFile) -> str:
    """A subquery yielding one `doc` (JSON text, NULL for a blank line) per line or row, in file order."""
    import duckdb

    path = duckdb_path(log_file.path)
    if log_file.format == "jsonl":
        compression = "gzip" if log_file.gzip else "none"
        # A NUL delimiter and no quoting: every line is one VARCHAR, whatever it holds.
        return (
            f"SELECT line AS doc FROM read_csv({path}, columns = {{'line': 'VARCHAR'}}, header = false, "
            f"auto_detect = false, delim = '\x00', quote = '', escape = '', strict_mode = false, "
            f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {_CSV_BUFFER_BYTES}, compression = '{compression}')"
        )
    reader = f"read_parquet({path})"
    try:
        columns = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        raise InputError(unreadable(log_file.path, error)) from error
    # to_json keeps every column; a struct of the row keeps Parquet's nested types (scores, context).
    members = ", ".join(f"{sql_string(name)}: {quote_ident(name)}" for name, *_ in columns)
    return f"SELECT to_json({{{members}}})::VARCHAR AS doc FROM {reader}"


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
            f"maximum_object_size = {FAST_JSON_OBJECT_BYTES})")


def line_count(con: duckdb.DuckDBPyConnection, log_file: LogFile) -> int:
    """How many lines the file has, counted as `source_sql` does (a last line without a newline too)."""
    if log_file.gzip:
        found = con.execute(f"SELECT count(*) FROM ({source_sql(con, log_file)})").fetchone()
        return int(found[0]) if found else 0
    lines, last = 0, b"\n"
    with open(log_file.path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


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
