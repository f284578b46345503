"""Many small log files read as one: bundles of consecutive small JSON lines files, one cache entry each.

A year of hourly partitions is 8,760 files of a few lines. Read one by one, each file cost its own DuckDB
queries (a typed read, a check, a COPY, the entry read back), a stamp written with fsync, a directory
listing, and a part of the log view: 5,000 one-line files took 600 s cold and 261 s warm, the same rows in
one file 2 s. A bundle is read by one DuckDB `read_json` over its list of files (`filename` says which
file a row came from), checked as one file is (rows are the files' lines: as many rows per file as
lines, in order, no `null` line), staged into one table and written as one cache entry. When that read
stops or the check fails, the bundle is split in halves and each is read again the same way, down to
single files, which are read as any file is (`staging.stage_file`): every bad line still gets its reason
and line number, and a clean bundle costs one read.

Which files: JSON lines (gzip too) up to `SMALL_FILE_BYTES`, without a hive partition that fills a field
(a per-file value), in the order `sources` gives; a run of them is cut into bundles of at most
`BUNDLE_FILES` files and `BUNDLE_BYTES` bytes, from its start, so appending a file (the next hour) changes
only the last bundle. Larger files keep an entry of their own (`cache`).

The key of a bundle entry is the set of its files' resolved paths with each file's size, mtime, ctime,
inode and device (no tool sets ctime back), the settings that shape the rows and `READER_VERSION`: a
changed, added or removed file gives a new entry, and the files are not hashed (hashing is what a big
file's stamp saves; a small file is re-read in less time than its hash would take to check). Warm, a
bundle costs one `stat` per file and one entry read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from remedy.logs.cache import READER_VERSION, ViewPart, building_entry, file_status, read_entry_facts
from remedy.logs.derive import canonical_columns, rows_sql
from remedy.logs.fields import objects_source, parse_sql
from remedy.logs.readers import duckdb_path, fast_object_bytes
from remedy.logs.sources import GLOB_CHARS, REPORTED_SKIPS, LogFile, SkippedLine
from remedy.logs.staging import TableTarget, create_staged_table, stage_file
from remedy.logs.typed import reader_columns, typed_fields
from remedy.sql import sql_string

if TYPE_CHECKING:
    import duckdb

    from remedy.logs.settings import LogSettings

# A file up to this size may be bundled; a larger one is read (and cached) on its own.
SMALL_FILE_BYTES = 1024 * 1024
# A bundle holds at most this many files and bytes: a changed file re-reads its bundle, not the export.
BUNDLE_FILES = 1000
BUNDLE_BYTES = 64 * 1024 * 1024


def plan(files: Sequence[LogFile], settings: LogSettings) -> list[LogFile | tuple[LogFile, ...]]:
    """`files` in order, as single files and bundles (tuples of two or more consecutive small files)."""
    groups: list[LogFile | tuple[LogFile, ...]] = []
    run: list[LogFile] = []
    size = 0

    def close() -> None:
        nonlocal size
        if len(run) == 1:
            groups.append(run[0])
        elif run:
            groups.append(tuple(run))
        run.clear()
        size = 0

    mapped = set(settings.fields.values())
    for log_file in files:
        file_size = os.path.getsize(log_file.path)
        if not _bundled(log_file, file_size, mapped):
            close()
            groups.append(log_file)
            continue
        if run and (len(run) >= BUNDLE_FILES or size + file_size > BUNDLE_BYTES or run[0].gzip != log_file.gzip):
            close()
        run.append(log_file)
        size += file_size
    close()
    return groups


def _bundled(log_file: LogFile, size: int, mapped: set[str]) -> bool:
    return (log_file.format == "jsonl" and size <= SMALL_FILE_BYTES
            and not any(key in mapped for key, _ in log_file.partitions)
            and not GLOB_CHARS & set(os.path.abspath(log_file.path)))  # DuckDB's `filename` is then the name given


def bundle_path(folder: Path, files: Sequence[LogFile], settings: LogSettings) -> Path:
    """The entry of the bundle `files` read with `settings`: named after every file's status."""
    members = [(os.path.realpath(log_file.path), log_file.gzip, file_status(log_file.path)) for log_file in files]
    shape = {"version": READER_VERSION, "members": members, "fields": dict(sorted(settings.fields.items())),
             "failure_cutoff": settings.failure_cutoff,
             "failure_cutoffs": dict(sorted(settings.failure_cutoffs.items()))}
    first = hashlib.sha256(members[0][0].encode("utf-8")).hexdigest()[:16]  # as the first file's entries
    key = hashlib.sha256(json.dumps(shape, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    return folder / f"{first}-bundle-{key}.parquet"


@dataclass(frozen=True)
class BundleEntry(ViewPart):
    """A bundle's cache entry: its files' rows in order (`file_index` says whose), and what each kept and skipped."""

    parquet: Path
    files: tuple[LogFile, ...]
    rows: tuple[int, ...]  # per file: its rows (lines), in the entry's order
    kept: tuple[int, ...]
    malformed: tuple[int, ...]
    skipped_lines: int
    first_skipped: tuple[SkippedLine, ...]

    def select(self, pinned: Path, where: str) -> str:
        names = "[" + ", ".join(sql_string(log_file.path) for log_file in self.files) + "]::VARCHAR[]"
        starts, position = [], 0
        for count in self.rows:
            starts.append(position)
            position += count
        columns = canonical_columns({
            "source_file": f"({names})[file_index + 1] AS source_file",
            "line_number": f"file_row_number + 1 - ({starts}::BIGINT[])[file_index + 1] AS line_number"})
        return f"SELECT {columns} FROM read_parquet({duckdb_path(str(pinned))}, file_row_number = true) {where}"

    def counts(self) -> list[tuple[LogFile, int, int]]:
        return list(zip(self.files, self.kept, self.malformed, strict=True))


def load_bundle(con: duckdb.DuckDBPyConnection, parquet: Path, files: Sequence[LogFile]) -> BundleEntry | None:
    """The bundle entry at `parquet`, or None when there is none or it cannot be trusted (then it is deleted)."""
    path = duckdb_path(str(parquet))

    def facts() -> BundleEntry:
        per_file = {int(index): (int(rows), int(kept), int(malformed)) for index, rows, kept, malformed in con.execute(
            "SELECT file_index, count(*), count(*) FILTER (WHERE reason IS NULL), "
            f"count(*) FILTER (WHERE reason <> 'blank') FROM read_parquet({path}) GROUP BY file_index").fetchall()}
        if not set(per_file) <= set(range(len(files))):
            raise ValueError("it holds rows of files it does not list")
        counts = [per_file.get(index, (0, 0, 0)) for index in range(len(files))]
        starts = [sum(rows for rows, _, _ in counts[:index]) for index in range(len(files))]
        first = con.execute(
            f"SELECT file_index, file_row_number, reason FROM read_parquet({path}, file_row_number = true) "
            f"WHERE reason <> 'blank' ORDER BY file_row_number LIMIT {REPORTED_SKIPS}").fetchall()
        return BundleEntry(parquet, tuple(files), tuple(rows for rows, _, _ in counts),
                           tuple(kept for _, kept, _ in counts), tuple(malformed for _, _, malformed in counts),
                           sum(malformed for _, _, malformed in counts),
                           tuple(SkippedLine(files[index].path, int(row) - starts[index] + 1, str(reason))
                                 for index, row, reason in first))

    return read_entry_facts(con, parquet, facts)


def build_bundle(con: duckdb.DuckDBPyConnection, parquet: Path, files: Sequence[LogFile],
                 settings: LogSettings) -> BundleEntry:
    """Read the bundle `files` (module doc) into its entry at `parquet`, and load it."""
    staged = "remedy_bundle__staged"
    create_staged_table(con, staged)
    try:
        with building_entry(con, files, parquet) as build:
            target = TableTarget(staged)
            _stage_range(con, target, files, 0, len(files), settings, [_line_facts(f) for f in files])
            con.execute(f"COPY (SELECT * FROM {staged}) TO {sql_string(str(build.temporary))} ({build.options})")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged}")
    entry = load_bundle(con, parquet, files)
    if entry is None:
        from remedy.logs.cache import CacheFailed

        raise CacheFailed(f"{parquet.name} could not be read back")
    return entry


def _stage_range(con: duckdb.DuckDBPyConnection, target: TableTarget, files: Sequence[LogFile], start: int,
                 end: int, settings: LogSettings, facts: list[tuple[int, bool]]) -> None:
    """Stage files[start:end] (file indexes as in the bundle) into `target`: read as one, else in halves.
    A single file, or a range with a file that must be read alone (`_line_facts`), is split."""
    if end - start == 1:
        stage_file(con, target, start, files[start], settings)
        return
    if not any(alone for _, alone in facts[start:end]) and _stage_together(con, target, files, start, end, settings,
                                                                        facts):
        return
    middle = (start + end) // 2
    _stage_range(con, target, files, start, middle, settings, facts)
    _stage_range(con, target, files, middle, end, settings, facts)


def _stage_together(con: duckdb.DuckDBPyConnection, target: TableTarget, files: Sequence[LogFile], start: int,
                    end: int, settings: LogSettings, facts: list[tuple[int, bool]]) -> bool:
    """One `read_json` over files[start:end], typed then with every field as JSON (as `staging` reads one
    file); True when its rows are the files' lines, in order (then kept in `target`), else nothing staged."""
    import duckdb

    names = settings.fields
    if any(lines < 0 for lines, _ in facts[start:end]):
        return False  # a file that cannot be read: read alone, it is named
    chosen = [index for index in range(start, end) if facts[index][0]]  # an empty file has no rows
    if not chosen:
        return True
    listed = sql_string(json.dumps([os.path.abspath(files[index].path) for index in chosen]))
    paths = f"{listed}::VARCHAR[]"
    indexes = "[" + ", ".join(map(str, chosen)) + "]"
    # which file a row came from: its position in the list (DuckDB names it as given)
    file_index = f"({indexes}::INTEGER[])[list_position({paths}, filename)]"
    typed = typed_fields(names)
    for attempt in dict.fromkeys([typed, frozenset()]):
        columns = reader_columns(names, attempt)
        listed_columns = ", ".join(f"{sql_string(name)}: {sql_string(kind)}" for name, kind in columns.items())
        reader = (f"SELECT *, {file_index} AS bundle_file FROM read_json({paths}, format = 'newline_delimited', "
                  f"records = true, columns = {{{listed_columns}}}, filename = true, "
                  f"compression = '{'gzip' if files[start].gzip else 'none'}', "
                  f"maximum_object_size = {fast_object_bytes()})")
        parsed = parse_sql(objects_source(reader, names, keep=("bundle_file",)), "bundle_file", names, typed=attempt)
        try:
            target.write(con, rows_sql(parsed, settings))
        except duckdb.Error as error:
            from remedy.errors import is_interrupt

            if is_interrupt(error):
                raise
            target.reset(con)
            continue
        if _rows_are_lines(con, target, files, start, end, facts, names["id"]):
            target.keep(con)
            return True
        target.reset(con)
        return False
    return False


def _rows_are_lines(con: duckdb.DuckDBPyConnection, target: TableTarget, files: Sequence[LogFile], start: int,
                    end: int, facts: list[tuple[int, bool]], id_name: str) -> bool:
    """The rows just written are the files' lines: as many per file as it has lines, in file order, and none
    read from a `null` line (a row without an id, which DuckDB's reader makes of it as of `{}`)."""
    written = target.written()
    label = f"'{id_name}'" if id_name == "id" else f"'{id_name}' (id)"
    missing = sql_string("missing required field " + label)
    found = {int(index): (int(rows), int(unknown)) for index, rows, unknown in con.execute(
        f"SELECT file_index, count(*), count(*) FILTER (WHERE reason = {missing}) FROM {written} GROUP BY ALL"
    ).fetchall()}
    for index in range(start, end):
        rows, unknown = found.pop(index, (0, 0))
        if unknown or rows != facts[index][0]:
            return False
    if found:
        return False
    backwards = con.execute(f"SELECT count(*) FROM (SELECT file_index - lag(file_index) OVER (ORDER BY rowid) AS step "
                            f"FROM {written}) WHERE step < 0").fetchone()
    return not (backwards and backwards[0])


def _line_facts(log_file: LogFile) -> tuple[int, bool]:
    """(lines, read alone) of a small file: its lines counted as the line reader counts them, and whether
    it must be read on its own: it starts with a UTF-8 byte order mark or has a line longer than a line may
    be (the line reader names that line); lines -1 when it cannot be read (a corrupt gzip file)."""
    try:
        if log_file.gzip:
            with gzip.open(log_file.path, "rb") as handle:
                data = handle.read()
        else:
            with open(log_file.path, "rb") as handle:
                data = handle.read()
    except (OSError, EOFError):
        return -1, False
    lines = data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
    too_long = len(data) > fast_object_bytes() and max(map(len, data.split(b"\n"))) > fast_object_bytes()
    return lines, data.startswith(b"\xef\xbb\xbf") or too_long
