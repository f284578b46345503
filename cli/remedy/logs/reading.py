"""Reading log exports into one canonical DuckDB table, with failures, severity and primary issue derived.

DuckDB does all the reading and parsing: a JSONL file is read as one VARCHAR column per line (the CSV
reader with a NUL delimiter and no quoting), its rows keep the file's order (DuckDB's CSV reader and
INSERT preserve insertion order), so a row's `rowid` gives its exact line number even with many
threads. Each line is validated and parsed once in SQL (`json_valid`, `from_json`), and checked by
the first character of each value; malformed lines are kept as staged rows with a reason, counted
and reported, never parsed in Python.
Parquet and CSV rows are turned into JSON objects (`to_json`) and go through the same checks.

Only the distinct query texts cross into Python, once, to compute `normalized_query` with
`normalize_question` (DuckDB has no NFKC nor casefold, so SQL cannot match it exactly).

The result is a table (default `logs`) in a DuckDB connection, with the columns in `LOG_COLUMNS`.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from remedy.errors import InputError, is_interrupt
from remedy.logs.line_files import MARK, csv_as_lines, csv_header, utf8_lines
from remedy.logs.settings import CANONICAL_FIELDS, REQUIRED_FIELDS, LogSettings, suggest_mapping
from remedy.normalize import normalize_question
from remedy.sql import sql_identifier, sql_string

if TYPE_CHECKING:
    import duckdb

LOG_COLUMNS: tuple[str, ...] = (
    "log_id",
    "ts",
    "query",
    "normalized_query",
    "response",
    "context",
    "scores",
    "is_failure",
    "severity",
    "primary_issue",
    "served_remediation",
    "metadata",
    "is_bad",
    "guardrailed",
    "source_file",
    "line_number",
)

# How many skipped lines a LogTable keeps for the CLI to name on stderr.
REPORTED_SKIPS = 5
# One JSONL line (e.g. a 10 MB query or a long context) may be this long.
MAX_LINE_BYTES = 256 * 1024 * 1024
# DuckDB's CSV buffer defaults to 16 lines of the maximum size, capped by the file: a 5 GB export
# asked for one 4 GB block. A buffer just above one line reads as fast and keeps memory flat.
_CSV_BUFFER_BYTES = MAX_LINE_BYTES + 1024 * 1024
# With the cache, logs live on disk (Parquet, a scratch database): DuckDB may hold this much in
# memory and spills the rest under the cache folder, so memory does not grow with the log.
CACHED_MEMORY_LIMIT = "1GB"
# The scores that name a primary issue, in order of precedence (DESIGN 1).
ISSUE_BY_SCORE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("context_sufficiency",), "search_failure"),
    (("response_helpfulness", "query_ease"), "unhelpful"),
    (("trustworthiness",), "hallucination"),
)
CONTEXT_SEPARATOR = "\n\n"

_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv",)
# What a folder given to --logs contributes (each also .gz but Parquet); a file named explicitly or by a
# glob is read whatever its name. Not .json (usually one document, e.g. a config) nor .log/.txt.
FOLDER_SUFFIXES = (".jsonl", ".ndjson", *_PARQUET_SUFFIXES, *_CSV_SUFFIXES)
_FOLDER_KINDS = ".jsonl, .ndjson, .parquet or .csv (optionally .gz)"
_GLOB_CHARS = frozenset("*?[")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# trim() with a character set is slow on long lines: test short lines only, and objects by a regex.
_BLANK = "doc IS NULL OR (strlen(doc) < 256 AND trim(doc, ' ' || chr(9) || chr(13)) = '')"
_OBJECT_START = r"(starts_with(doc, '{') OR regexp_matches(doc, '^[ \t]+\{'))"


def _is_number(json_text: str) -> str:
    """SQL: a minified JSON value is a number (its first character). No IN list: DuckDB plans long
    IN lists as joins, which would give up the row order that line numbers rely on."""
    first = f"left({json_text}, 1)"
    return f"({first} = '-' OR {first} BETWEEN '0' AND '9')"


_UDF_NAME = "remedy_normalize_question"
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class SkippedLine:
    """One malformed line that was left out: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:  # line 0: read by an engine that does not count lines (Ray)
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


@dataclass(frozen=True)
class LogFile:
    """One input file and how to read it."""

    path: str
    format: str  # "jsonl" | "parquet" | "csv"
    gzip: bool = False


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
    memory_limit is set to CACHED_MEMORY_LIMIT and it spills under `cache_dir/logs/tmp/`. Example:

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
    if cache_dir is not None:
        from remedy.logs import cache

        folder = cache.cache_folder(Path(cache_dir))
        if cache.prepare_folder(folder):
            try:
                return _read_cached(con, files, settings, folder, strict=strict, since=since, until=until,
                                    table=table, refuse_unreadable=refuse_unreadable)
            except cache.CacheFailed as error:
                log.warning("the log cache in %s failed (%s); reading without it", folder, error)
    staged = f"{table}__staged"
    con.execute(f"DROP TABLE IF EXISTS {staged}")
    con.execute(_staged_table_sql(staged))
    try:
        spans: list[tuple[int, str, int, int]] = []  # (index, path, first rowid, line number of the first row)
        for index, log_file in enumerate(files):
            first_rowid = _count(con, staged)
            _stage_file(con, staged, index, log_file, settings)
            spans.append((index, log_file.path, first_rowid, 1))
        con.execute(f"DROP TABLE IF EXISTS {table}__files")
        con.execute(
            f"CREATE TABLE {table}__files "
            "(file_index INTEGER, source_file VARCHAR, first_rowid BIGINT, first_line BIGINT)"
        )
        con.executemany(f"INSERT INTO {table}__files VALUES (?, ?, ?, ?)", spans)
        skipped, first_skipped = _skipped(con, table, staged)
        if refuse_unreadable:
            counts: dict[int, tuple[int, int]] = dict.fromkeys(range(len(files)), (0, 0)) | {
                int(index): (int(kept), int(malformed)) for index, kept, malformed in con.execute(
                    f"SELECT file_index, count(*) FILTER (WHERE reason IS NULL), "
                    f"count(*) FILTER (WHERE reason <> 'blank') FROM {staged} GROUP BY file_index").fetchall()}
            _refuse_unreadable_exports(con, [(f, *counts[i]) for i, f in enumerate(files)], first_skipped, settings)
        if strict and first_skipped:
            raise InputError(f"{first_skipped[0]} (--strict)")
        _create_log_table(con, table, staged, settings, since, until)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged}")
        con.execute(f"DROP TABLE IF EXISTS {table}__files")
    return _log_table(con, table, files, skipped, first_skipped)


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
    source = _source_sql(con, log_file, settings)
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
    return LogTable(
        connection=con,
        table=table,
        files=tuple(f.path for f in files),
        rows=_count(con, table),
        skipped_lines=skipped,
        first_skipped=first_skipped,
    )


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


def resolve_log_paths(paths: Sequence[str], *, quiet: bool = False) -> list[LogFile]:
    """Expand globs and folders into files, in a stable order; InputError names what is missing.

    An existing file is that file even when its name holds `*`, `?` or `[`; only a path that does not
    exist is a pattern. A folder gives its log exports (FOLDER_SUFFIXES, not hidden), and the other
    files in it are named on stderr as passed over (unless `quiet`): a folder often holds a README or
    an error log.
    """
    if not paths:
        raise InputError("no log files given")
    found: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            found.extend(_folder_logs(path, quiet))
        elif _GLOB_CHARS & set(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"{path}: no file matches this pattern")
            found.extend(matches)
        else:
            raise InputError(f"{path}: no such file")
    unique = list(dict.fromkeys(found))
    return [_describe_file(path) for path in unique]


def _folder_logs(folder: str, quiet: bool) -> list[str]:
    files = sorted(name for name in os.listdir(folder)
                   if not name.startswith(".") and os.path.isfile(os.path.join(folder, name)))
    logs = [name for name in files if _is_folder_log(name)]
    passed_over = [name for name in files if not _is_folder_log(name)]
    if not logs:
        raise InputError(f"{folder}: folder holds no {_FOLDER_KINDS} file"
                         + (f" (passed over: {_some(passed_over)})" if passed_over else ""))
    if passed_over and not quiet:
        log.warning("%s: passed over %d file(s) that are not log exports (%s): %s",
                    folder, len(passed_over), _FOLDER_KINDS, _some(passed_over))
    return [os.path.join(folder, name) for name in logs]


def _is_folder_log(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith(FOLDER_SUFFIXES)


def _some(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _describe_file(path: str) -> LogFile:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from error
    if head[:4] == b"PAR1":
        return LogFile(path, "parquet")
    gzip = head[:2] == b"\x1f\x8b"
    if not gzip and b"\x00" in head:
        # As git does: a NUL byte near the start means a binary file, not JSON lines or CSV.
        raise InputError(f"{path}: a binary file, not JSON lines, CSV or Parquet")
    name = path.lower().removesuffix(".gz")
    if name.endswith(_PARQUET_SUFFIXES):
        if gzip:
            raise InputError(f"{path}: a compressed Parquet file; Parquet compresses itself, give it uncompressed")
        return LogFile(path, "parquet")
    return LogFile(path, "csv" if name.endswith(_CSV_SUFFIXES) else "jsonl", gzip)


# ---------------------------------------------------------------------------------------------------
# Staging: one row per line (or Parquet/CSV row), in file order, with the fields typed or a reason.

_STAGED_COLUMNS = """
    file_index INTEGER,
    reason VARCHAR,
    log_id VARCHAR,
    ts TIMESTAMP,
    query VARCHAR,
    response VARCHAR,
    context VARCHAR,
    scores MAP(VARCHAR, DOUBLE),
    is_bad BOOLEAN,
    guardrailed BOOLEAN,
    primary_issue VARCHAR,
    severity DOUBLE,
    served_remediation VARCHAR,
    metadata JSON
"""


def _staged_table_sql(staged: str) -> str:
    return f"CREATE TABLE {staged} ({_STAGED_COLUMNS})"


def _stage_file(
    con: duckdb.DuckDBPyConnection, staged: str, index: int, log_file: LogFile, settings: LogSettings
) -> None:
    import duckdb

    if os.path.getsize(log_file.path) == 0:
        return  # an empty file is an empty export
    if log_file.format == "csv":  # split into records in Python: exact line numbers, strict rows
        with _line_file(lambda out: csv_as_lines(log_file.path, log_file.gzip, settings, out)) as lines:
            _insert_lines(con, staged, index, lines, settings, shown=log_file.path, tabular=True)
        return
    source = _source_sql(con, log_file, settings)
    try:
        con.execute(f"INSERT INTO {staged} {_parse_sql(source, index, settings, tabular=log_file.format != 'jsonl')}")
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        if log_file.format != "jsonl" or not _not_utf8(error):
            raise InputError(_unreadable(log_file.path, error)) from error
        # A line that is not UTF-8 stops DuckDB: only then, mark such lines and read the rest.
        with _line_file(lambda out: utf8_lines(log_file.path, log_file.gzip, out)) as lines:
            _insert_lines(con, staged, index, lines, settings, shown=log_file.path, tabular=False)


def _insert_lines(con: duckdb.DuckDBPyConnection, staged: str, index: int, lines: str, settings: LogSettings,
                  *, shown: str, tabular: bool) -> None:
    """Stage a line file of `line_files` (one document or MARK + reason per line of the file `shown`)."""
    import duckdb

    source = _source_sql(con, LogFile(lines, "jsonl"), settings)
    try:
        con.execute(f"INSERT INTO {staged} {_parse_sql(source, index, settings, tabular=tabular, marked=True)}")
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        raise InputError(_unreadable(shown, error)) from error


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


def _not_utf8(error: BaseException) -> bool:
    text = str(error).lower()
    return "unicode" in text or "utf-8" in text or "utf8" in text


def _source_sql(con: duckdb.DuckDBPyConnection, log_file: LogFile, settings: LogSettings) -> str:
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
        raise InputError(_unreadable(log_file.path, error)) from error
    # to_json keeps every column; a struct of the row keeps Parquet's nested types (scores, context).
    members = ", ".join(f"{sql_string(name)}: {sql_identifier(name)}" for name, *_ in columns)
    return f"SELECT to_json({{{members}}})::VARCHAR AS doc FROM {reader}"


def _parse_sql(source: str, index: int, settings: LogSettings, *, tabular: bool, marked: bool = False) -> str:
    """SELECT the staged columns from `source` (one `doc` per line): typed fields, or a reason.

    The line is parsed once (`from_json` into a struct of JSON values). A value's type is read from its
    first character (a JSON value from `from_json` is minified: `"` string, `{` object, `[` list,
    `t`/`f` boolean, `n` null, `-` or a digit a number), so no value is parsed twice to check it.
    """
    names = settings.fields
    structure = "{" + ", ".join(f'"{names[c]}": "JSON"' for c in CANONICAL_FIELDS) + "}"
    value = {c: f"j.{sql_identifier(names[c])}" for c in CANONICAL_FIELDS}
    if tabular:
        # In Parquet and CSV an object or a list often arrives as JSON text in a string column.
        for canonical, opener in (("scores", "{"), ("metadata", "{"), ("context", "[")):
            expr = value[canonical]
            value[canonical] = (
                f"(CASE WHEN left({expr}, 2) = '\"{opener}' AND json_valid({expr}->>'$') "
                f"THEN ({expr}->>'$')::JSON ELSE {expr} END)"
            )
    fields = ",\n".join(f"{expr} AS f_{c}" for c, expr in value.items())

    def label(canonical: str) -> str:
        name = names[canonical]
        return sql_string(f"'{name}'" if name == canonical else f"'{name}' ({canonical})")

    def wrong(canonical: str, expected: str) -> str:
        return f"'field ' || {label(canonical)} || ': expected {expected}'"

    def tag(canonical: str) -> str:
        return f"coalesce(left(f_{canonical}, 1), 'n')"

    def optional(canonical: str, *allowed: str) -> str:
        return f"{tag(canonical)} NOT IN ('n', {', '.join(allowed)})"

    score_value = (
        f"CASE WHEN {_is_number('e')} THEN e::DOUBLE "
        "WHEN left(e, 1) = '{' AND json_type(e, '$.score') IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
        "THEN json_extract(e, '$.score')::DOUBLE END"
    )
    checks = [
        (_BLANK, "'blank'"),
        *([(f"left(doc, 1) = {sql_string(MARK)}", "substr(doc, 2)")] if marked else []),
        ("NOT valid", "'not valid JSON'"),
        ("j IS NULL", "'not a JSON object'"),
        *((f"{tag(c)} = 'n'", f"'missing required field ' || {label(c)}") for c in REQUIRED_FIELDS),
        (
            # an integer of any size (above 2^64 the JSON type says DOUBLE, but the text keeps every digit)
            "NOT (tag_id = '\"' OR json_type(f_id) IN ('BIGINT', 'UBIGINT') "
            "OR (json_type(f_id) = 'DOUBLE' AND regexp_full_match(f_id, '-?[0-9]+')))",
            wrong("id", "a string or an integer"),
        ),
        ("tag_id = '\"' AND f_id->>'$' = ''", f"'field ' || {label('id')} || ': empty'"),
        (f"{tag('timestamp')} <> '\"'", wrong("timestamp", "an ISO 8601 string")),
        (
            "ts_value IS NULL",
            f"'field ' || {label('timestamp')} || ': not an ISO 8601 timestamp: ' || left(f_timestamp->>'$', 40)",
        ),
        (f"{tag('query')} <> '\"'", wrong("query", "a string")),
        ("query_text = ''", f"'field ' || {label('query')} || ': empty'"),
        (optional("response", "'\"'"), wrong("response", "a string")),
        (
            optional("context", "'\"'", "'['"),
            wrong("context", "a string or a list of strings"),
        ),
        (optional("scores", "'{'"), wrong("scores", "an object")),
        (
            "len(list_distinct(score_names)) < len(score_names)",
            f"'field ' || {label('scores')} || ': repeats a name'",
        ),
        (
            # every item that is not null must have given a value in [0, 1]
            "len(list_filter(score_items, lambda e: left(e, 1) <> 'n')) "
            "<> len(list_filter(score_values, lambda v: v BETWEEN 0 AND 1))",
            f"'field ' || {label('scores')} || ': every score must be a number between 0 and 1'",
        ),
        (optional("is_bad", "'t'", "'f'"), wrong("is_bad", "true or false")),
        (optional("guardrailed", "'t'", "'f'"), wrong("guardrailed", "true or false")),
        (optional("primary_issue", "'\"'"), wrong("primary_issue", "a string")),
        (f"{tag('severity')} <> 'n' AND NOT {_is_number('f_severity')}", wrong("severity", "a number")),
        (
            f"{_is_number('f_severity')} AND NOT coalesce(f_severity::DOUBLE BETWEEN 0 AND 1, false)",
            f"'field ' || {label('severity')} || ': must be between 0 and 1'",
        ),
        (optional("served_remediation", "'\"'"), wrong("served_remediation", "a string or null")),
        (optional("metadata", "'{'"), wrong("metadata", "an object")),
    ]
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {text}" for cond, text in checks) + " END"

    def text(canonical: str) -> str:
        return f"CASE WHEN left(f_{canonical}, 1) = '\"' THEN nullif(f_{canonical}->>'$', '') END"

    ok = "reason IS NULL"
    return f"""
    SELECT {index} AS file_index,
           reason,
           CASE WHEN {ok} THEN (CASE WHEN tag_id = '"' THEN f_id->>'$' ELSE f_id::VARCHAR END) END,
           CASE WHEN {ok} THEN ts_value END,
           CASE WHEN {ok} THEN query_text END,
           CASE WHEN {ok} THEN {text("response")} END,
           CASE WHEN {ok} THEN (CASE left(f_context, 1)
                   WHEN '"' THEN nullif(f_context->>'$', '')
                   WHEN '[' THEN nullif(array_to_string(from_json(f_context, '["VARCHAR"]'),
                                                        {sql_string(CONTEXT_SEPARATOR)}), '')
               END) END,
           CASE WHEN {ok} THEN coalesce(map(score_names, score_values), MAP {{}})::MAP(VARCHAR, DOUBLE) END,
           CASE WHEN {ok} THEN (CASE left(f_is_bad, 1) WHEN 't' THEN true WHEN 'f' THEN false END) END,
           CASE WHEN {ok} THEN (CASE left(f_guardrailed, 1) WHEN 't' THEN true WHEN 'f' THEN false END) END,
           CASE WHEN {ok} THEN {text("primary_issue")} END,
           CASE WHEN {ok} AND {_is_number("f_severity")} THEN f_severity::DOUBLE END,
           CASE WHEN {ok} THEN {text("served_remediation")} END,
           CASE WHEN {ok} AND left(f_metadata, 1) = '{{' THEN f_metadata END
    FROM (
        SELECT *, {reason} AS reason
        FROM (
            SELECT *,
                   coalesce(left(f_id, 1), 'n') AS tag_id,
                   CASE WHEN left(f_timestamp, 1) = '"'
                        THEN try_cast(f_timestamp->>'$' AS TIMESTAMPTZ)::TIMESTAMP END AS ts_value,
                   CASE WHEN left(f_query, 1) = '"' THEN f_query->>'$' END AS query_text,
                   CASE WHEN left(f_scores, 1) = '{{' THEN json_keys(f_scores) END AS score_names,
                   CASE WHEN left(f_scores, 1) = '{{' THEN json_extract(f_scores, '$.*') END AS score_items,
                   list_transform(score_items, lambda e: {score_value}) AS score_values
            FROM (
                SELECT doc, valid, j, {fields}
                FROM (
                    SELECT doc, valid,
                           CASE WHEN valid AND {_OBJECT_START} THEN from_json(doc, {sql_string(structure)}) END AS j
                    FROM (SELECT doc, doc IS NOT NULL AND json_valid(doc) AS valid FROM ({source}))
                )
            )
        )
    )
    """


# ---------------------------------------------------------------------------------------------------
# The canonical table: derived columns, normalized queries, line numbers.


def _create_log_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    staged: str,
    settings: LogSettings,
    since: dt.datetime | dt.date | None,
    until: dt.datetime | dt.date | None,
) -> None:
    _create_query_table(con, table, staged)
    filters = ["s.reason IS NULL"]
    parameters: list[Any] = []
    if since is not None:
        filters.append("s.ts >= ?")
        parameters.append(_as_utc_naive(since))
    if until is not None:
        filters.append("s.ts < ?")
        parameters.append(_as_utc_naive(until))
    _drop_relation(con, table)
    con.execute(f"CREATE TABLE {table} AS {_canonical_sql(table, staged, settings, filters)}", parameters)
    con.execute(f"DROP TABLE {table}__queries")


def _create_query_table(con: duckdb.DuckDBPyConnection, table: str, staged: str) -> None:
    """`{table}__queries`: each distinct valid query text with its normalized form (Python, once per text)."""
    _register_normalizer(con)
    con.execute(f"DROP TABLE IF EXISTS {table}__queries")
    con.execute(
        f"CREATE TABLE {table}__queries AS SELECT query, {_UDF_NAME}(query) AS normalized_query "
        f"FROM (SELECT DISTINCT query FROM {staged} WHERE reason IS NULL)"
    )


def _canonical_sql(table: str, staged: str, settings: LogSettings, filters: list[str]) -> str:
    """SELECT the canonical columns (LOG_COLUMNS) from the staged rows, the files and the queries."""
    failing = _failing_scores_sql(settings)
    return f"""
        SELECT log_id, ts, query, normalized_query, response, context, scores, is_failure,
               coalesce(severity, 1.0 - list_min(map_values(scores)), CASE WHEN is_failure THEN 1.0 ELSE 0.0 END)
                   AS severity,
               coalesce(primary_issue, CASE WHEN is_failure THEN {_issue_sql()} END) AS primary_issue,
               served_remediation, metadata, is_bad, guardrailed, source_file, line_number
        FROM (
            SELECT *,
                   coalesce(is_bad, CASE WHEN list_min(map_values(scores)) IS NOT NULL THEN len(failing) > 0 END,
                            guardrailed, false) AS is_failure
            FROM (
                SELECT s.log_id, s.ts, s.query, q.normalized_query, s.response, s.context, s.scores,
                       s.is_bad, s.guardrailed, s.primary_issue, s.severity, s.served_remediation, s.metadata,
                       f.source_file, s.rowid - f.first_rowid + f.first_line AS line_number,
                       {failing} AS failing
                FROM {staged} s
                JOIN {table}__files f USING (file_index)
                JOIN {table}__queries q USING (query)
                WHERE {" AND ".join(filters)}
            )
        )
        """


# ---------------------------------------------------------------------------------------------------
# Reading through the cache: one Parquet file of canonical rows per input file.

_STAGE_DATABASE = "remedy_log_stage"


def _read_cached(
    con: duckdb.DuckDBPyConnection,
    files: list[LogFile],
    settings: LogSettings,
    folder: Path,
    *,
    strict: bool,
    since: dt.datetime | dt.date | None,
    until: dt.datetime | dt.date | None,
    table: str,
    refuse_unreadable: bool,
) -> LogTable:
    import duckdb

    from remedy.logs import cache

    # Spilling (large sorts, joins) goes under the cache folder, not into the working directory.
    try:
        con.execute(f"SET temp_directory = {sql_string(str(cache.duckdb_folder(folder) / 'tmp'))}")
    except duckdb.NotImplementedException:
        pass  # this connection has spilled already: its temporary folder cannot change any more
    con.execute(f"SET memory_limit = '{CACHED_MEMORY_LIMIT}'")
    entries: list[tuple[LogFile, cache.CacheEntry]] = []
    for log_file in files:
        parquet = cache.entry_path(folder, log_file.path, settings, format=log_file.format, gzip=log_file.gzip)
        entry = cache.load_entry(con, parquet) or _build_entry(con, log_file, settings, parquet)
        entries.append((log_file, entry))
    pinned = _pin(con, [entry.parquet for _, entry in entries])
    skipped = sum(entry.skipped_lines for _, entry in entries)
    first_skipped = tuple(
        islice(
            chain.from_iterable(
                (SkippedLine(log_file.path, line, reason) for line, reason in entry.first_skipped)
                for log_file, entry in entries
            ),
            REPORTED_SKIPS,
        )
    )
    if refuse_unreadable:
        rows = [_count(con, f"read_parquet({duckdb_path(str(parquet))})") for parquet in pinned]
        _refuse_unreadable_exports(con, [(log_file, kept, entry.skipped_lines) for (log_file, entry), kept
                                         in zip(entries, rows, strict=True)], first_skipped, settings)
    if strict and first_skipped:
        raise InputError(f"{first_skipped[0]} (--strict)")
    filters = []
    if since is not None:
        filters.append(f"ts >= TIMESTAMP '{_as_utc_naive(since).isoformat(sep=' ')}'")
    if until is not None:
        filters.append(f"ts < TIMESTAMP '{_as_utc_naive(until).isoformat(sep=' ')}'")
    where = f"WHERE {' AND '.join(filters)}" if filters else ""

    def part(log_file: LogFile, parquet: Path) -> str:
        columns = ", ".join(
            f"{sql_string(log_file.path)}::VARCHAR AS source_file" if name == "source_file" else name
            for name in LOG_COLUMNS
        )
        return f"SELECT {columns} FROM read_parquet({duckdb_path(str(parquet))}) {where}"

    parts = [part(log_file, parquet) for (log_file, _), parquet in zip(entries, pinned, strict=True)]
    _drop_relation(con, table)
    con.execute(f"CREATE VIEW {table} AS " + " UNION ALL ".join(parts))  # resolve_log_paths found a file
    return _log_table(con, table, files, skipped, first_skipped)


def _pin(con: duckdb.DuckDBPyConnection, entries: list[Path]) -> list[Path]:
    """Paths that keep naming the entries' bytes while the connection lives, even if `.remedy` is deleted
    or another run replaces an entry: Linux's /proc/self/fd/N of a descriptor held open until then."""
    import weakref

    if not os.path.isdir("/proc/self/fd"):
        return entries
    try:
        descriptors = [os.open(entry, os.O_RDONLY) for entry in entries]
    except OSError as error:
        from remedy.logs.cache import CacheFailed

        raise CacheFailed(f"{error.filename}: {error.strerror}") from error
    weakref.finalize(con, _close_all, descriptors)
    return [Path(f"/proc/self/fd/{descriptor}") for descriptor in descriptors]


def _close_all(descriptors: list[int]) -> None:
    for descriptor in descriptors:
        os.close(descriptor)


def _build_entry(con: duckdb.DuckDBPyConnection, log_file: LogFile, settings: LogSettings, parquet: Path) -> Any:
    """Parse one file in a scratch database on disk (memory stays bounded) and store its cache entry."""
    import duckdb

    from remedy.logs import cache

    status = cache.file_status(log_file.path)  # the entry is named after the bytes hashed just before
    scratch = cache.scratch_path(parquet)
    cache.discard(scratch)
    try:
        con.execute(f"ATTACH {sql_string(str(scratch))} AS {_STAGE_DATABASE}")
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        raise cache.CacheFailed(f"cannot create {scratch}: {_first_line(error)}") from error
    try:
        table = f"{_STAGE_DATABASE}.logs"
        staged = f"{_STAGE_DATABASE}.staged"
        con.execute(_staged_table_sql(staged))
        _stage_file(con, staged, 0, log_file, settings)
        con.execute(
            f"CREATE TABLE {table}__files "
            "(file_index INTEGER, source_file VARCHAR, first_rowid BIGINT, first_line BIGINT)"
        )
        con.execute(f"INSERT INTO {table}__files VALUES (0, ?, 0, 1)", [log_file.path])
        skipped, first = _skipped(con, table, staged)
        _create_query_table(con, table, staged)
        canonical = _canonical_sql(table, staged, settings, ["s.reason IS NULL"])
        select = f"SELECT * EXCLUDE (source_file) FROM ({canonical})"
        if cache.file_status(log_file.path) != status:
            raise InputError(f"{log_file.path}: changed while it was being read; run the command again")
        return cache.write_entry(
            con,
            parquet,
            select,
            skipped_lines=skipped,
            first_skipped=tuple((item.line, item.reason) for item in first),
        )
    except (InputError, duckdb.Error) as error:
        # The scratch database on a full disk or in a deleted folder is the cache failing, not the input.
        cause = (error.__cause__ if isinstance(error, InputError) else error) or error
        if is_interrupt(error) or not (isinstance(cause, duckdb.IOException) or scratch.name in str(cause)):
            raise
        raise cache.CacheFailed(f"{scratch.name}: {_first_line(cause)}") from error
    finally:
        try:
            con.execute(f"DETACH {_STAGE_DATABASE}")
        except duckdb.IOException as error:  # its last checkpoint failed (a full disk): the entry is written
            log.warning("could not close %s cleanly: %s", scratch, _first_line(error))
        cache.discard(scratch)
        cache.discard(scratch.with_name(scratch.name + ".wal"))


def _drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop `name` whether it is a table or a view (DROP TABLE refuses a view and the reverse)."""
    found = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $n AND NOT internal "
        "AND database_name = current_database() "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $n "
        "AND database_name = current_database()",
        {"n": name},
    ).fetchall()
    for (kind,) in found:
        con.execute(f"DROP {kind} IF EXISTS {name}")


def _failing_scores_sql(settings: LogSettings) -> str:
    """The names of the scores below their cutoff, as a list."""
    if settings.failure_cutoffs:
        cases = " ".join(
            f"WHEN {sql_string(name)} THEN {cutoff!r}" for name, cutoff in sorted(settings.failure_cutoffs.items())
        )
        cutoff = f"(CASE e.key {cases} ELSE {settings.failure_cutoff!r} END)"
    else:
        cutoff = repr(settings.failure_cutoff)
    return f"list_transform(list_filter(map_entries(s.scores), lambda e: e.value < {cutoff}), lambda e: e.key)"


def _issue_sql() -> str:
    cases = " ".join(
        "WHEN "
        + " OR ".join(f"list_contains(failing, {sql_string(score)})" for score in scores)
        + f" THEN {sql_string(issue)}"
        for scores, issue in ISSUE_BY_SCORE
    )
    return f"(CASE {cases} ELSE 'other' END)"


def _register_normalizer(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    try:
        con.remove_function(_UDF_NAME)
    except duckdb.Error:
        pass  # not registered on this connection yet
    con.create_function(_UDF_NAME, normalize_question, ["VARCHAR"], "VARCHAR", side_effects=False)


def _skipped(con: duckdb.DuckDBPyConnection, table: str, staged: str) -> tuple[int, tuple[SkippedLine, ...]]:
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
    return int(rows[0][3]), tuple(SkippedLine(str(file), int(line), str(reason)) for file, line, reason, _ in rows)


def _as_utc_naive(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    result = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(result[0]) if result else 0


def duckdb_path(path: str) -> str:
    """A SQL literal naming exactly the file `path`: DuckDB's readers expand `*`, `?` and `[...]` in any
    name (a file `x[1].jsonl` would read `x1.jsonl`), so those are escaped as one-character classes."""
    escaped = "".join(f"[{char}]" if char in _GLOB_CHARS else char for char in os.path.abspath(path))
    return sql_string(escaped)


def _unreadable(path: str, error: BaseException) -> str:
    message = _first_line(error)
    line = re.search(r"CSV Error on Line: (\d+)", str(error))
    if line and ("unicode" in str(error).lower() or "utf" in str(error).lower()):
        return f"{path}:{line.group(1)}: not UTF-8 text; the file cannot be read"
    if "gzip" in message.lower():
        return f"{path}: truncated or corrupt gzip data ({message})"
    return f"{path}: cannot be read: {message}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---------------------------------------------------------------------------------------------------
# Reading rows that another engine has read already (Ray Data): an Arrow table in, canonical rows out.

_RAW = "remedy_raw"
_BATCH = "remedy_batch"


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
) -> CanonicalBatch:
    """The canonical rows of `raw`, a pyarrow table from one file: with `lines`, JSON lines in column
    `text` (other columns, e.g. hive partitions, are added to each object unless it has that field);
    otherwise one log per row, as in Parquet. The same checks and derived columns as `read_logs`;
    `line_number` is NULL (the reader does not know it). `con` is a scratch connection of the caller.
    """
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    extra = [name for name in raw.column_names if name not in ("text", "path")]
    members = ", ".join(f"{sql_string(name)}: {sql_identifier(name)}" for name in extra)
    if lines:
        source = f"SELECT text AS doc FROM {_RAW}"
        if extra:  # hive partition values: under the line's own fields
            source = (f"SELECT CASE WHEN json_valid(text) AND {_OBJECT_START.replace('doc', 'text')} "
                      f"THEN json_merge_patch(to_json({{{members}}}), text)::VARCHAR ELSE text END AS doc FROM {_RAW}")
    else:
        source = f"SELECT to_json({{{members}}})::VARCHAR AS doc FROM {_RAW}"
    staged = f"{_BATCH}__staged"
    con.register(_RAW, raw)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {staged} ({_STAGED_COLUMNS})")
        con.execute(f"INSERT INTO {staged} {_parse_sql(source, 0, settings, tabular=not lines)}")
    finally:
        con.unregister(_RAW)
    con.execute(f"CREATE OR REPLACE TABLE {_BATCH}__files "
                "(file_index INTEGER, source_file VARCHAR, first_rowid BIGINT, first_line BIGINT)")
    con.execute(f"INSERT INTO {_BATCH}__files VALUES (0, ?, 0, NULL)", [source_file])
    found = con.execute(f"SELECT count(*), list(reason) FILTER (WHERE rank <= {REPORTED_SKIPS}) FROM "
                        f"(SELECT reason, row_number() OVER () AS rank FROM {staged} "
                        "WHERE reason IS NOT NULL AND reason <> 'blank')").fetchall()
    skipped, reasons = (int(found[0][0]), found[0][1] or []) if found else (0, [])
    _create_log_table(con, _BATCH, staged, settings, since, until)
    rows = con.sql(f"SELECT {', '.join(LOG_COLUMNS)} FROM {_BATCH}").to_arrow_table()
    for name in (_BATCH, staged, f"{_BATCH}__files"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return CanonicalBatch(rows, skipped, tuple(SkippedLine(source_file, 0, str(r)) for r in reasons))
