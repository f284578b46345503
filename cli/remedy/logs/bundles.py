"""Many small log files read as one: bundles of consecutive small JSON lines files, one cache entry each.

A year of hourly partitions is 8,760 files of a few lines. Read one by one, each file cost its own DuckDB
queries (a typed read, a check, a COPY, the entry read back), a stamp written with fsync, a directory
listing, and a part of the log view: 5,000 one-line files took 600 s cold and 261 s warm, the same rows in
one file 2 s. One DuckDB `read_json` over the list of files was tried first: its cost grows with files x
columns (3 CPU s per 1,000 one-line files). So a bundle's files are copied, one after the other, into one
temporary JSON lines file (a last line without a line break gets one, a leading byte order mark is
dropped, gzip is decompressed), which is read as any file is (`staging.stage_file`: the fast path, and
line by line where it must be, so every bad line keeps its reason); each row's file and line come from
its position, since the files' lines follow one another. The bundle is one cache entry and one part of
the log view.

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
import itertools
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from remedy.errors import InputError
from remedy.logs.cache import READER_VERSION, ViewPart, building_entry, file_status, read_entry_facts
from remedy.logs.derive import canonical_columns
from remedy.logs.readers import duckdb_path
from remedy.logs.sources import GLOB_CHARS, REPORTED_SKIPS, LogFile, SkippedLine
from remedy.logs.staging import TableTarget, create_staged_table, stage_file
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
        starts = list(itertools.accumulate((rows for rows, _, _ in counts[:-1]), initial=0))
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
    handle, joined = tempfile.mkstemp(prefix="remedy-bundle-", suffix=".jsonl")
    try:
        with building_entry(con, files, parquet) as build:
            with os.fdopen(handle, "wb") as out:
                lines = [_append(log_file, out) for log_file in files]
            stage_file(con, TableTarget(staged), 0, LogFile(joined, "jsonl"), settings)
            # each row's file, from its position: the files' lines follow one another (an empty file has none:
            # left out, or its end would tie with the file before it)
            ends = list(itertools.accumulate(lines))
            holding = [index for index, count in enumerate(lines) if count]
            con.execute("CREATE OR REPLACE TEMP TABLE remedy_bundle__files AS SELECT unnest(?) AS ends, "
                        "unnest(?) AS file", [[ends[index] for index in holding], holding])
            con.execute(f"COPY (SELECT s.* REPLACE (f.file::INTEGER AS file_index) FROM {staged} s "
                        "ASOF JOIN remedy_bundle__files f ON s.rowid < f.ends ORDER BY s.rowid) "
                        f"TO {sql_string(str(build.temporary))} ({build.options})")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged}")
        con.execute("DROP TABLE IF EXISTS remedy_bundle__files")
        os.unlink(joined)
    entry = load_bundle(con, parquet, files)
    if entry is None:
        from remedy.logs.cache import CacheFailed

        raise CacheFailed(f"{parquet.name} could not be read back")
    return entry


def _append(log_file: LogFile, out: IO[bytes]) -> int:
    """Append the lines of a small file to `out` (a last line without a line break gets one, a byte order mark
    at its start is dropped, as the reader of a file drops it) and say how many they were."""
    try:
        if log_file.gzip:
            with gzip.open(log_file.path, "rb") as handle:
                data = handle.read()
        else:
            with open(log_file.path, "rb") as handle:
                data = handle.read()
    except (OSError, EOFError) as error:
        raise InputError(f"{log_file.path}: truncated or corrupt gzip data ({error})" if log_file.gzip
                         else f"{log_file.path}: cannot be read ({error})") from error
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    out.write(data)
    return data.count(b"\n")
