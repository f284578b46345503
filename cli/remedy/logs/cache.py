"""A cache of parsed log files: each input file's canonical rows as Parquet under `.remedy/logs/`.

Parsing and checking a large export costs far more than scanning its columns again, so `read_logs`
keeps, per input file, the canonical rows it derived (every column but `source_file`, all logs,
before `--since`/`--until`) with the file's skipped-line count and first skipped lines in the
Parquet footer. The entry is keyed by the file's resolved path, a hash of its bytes (`content_key`),
the settings that shape the rows (field names, cutoffs) and `READER_VERSION`; a changed file or
setting gives a new key, so a stale entry is never read, even when the file was rewritten in place
with its modification time restored (as `cp -p`, rsync and tar do). Entries are written to a temporary name and
renamed; an entry whose footer cannot be read or does not carry its own key is deleted and rebuilt,
never trusted. Deleting the folder only costs time.

Hashing a large export costs a fraction of a second, so the hash is kept in a stamp per path
(`<path hash>.stamp`) with the file's (size, mtime, ctime, inode, device) and reused while those
stay the same: ctime cannot be set back by users or tools. A file changed within `RACY_NS` before
the stamp was taken is hashed again next time (a change in the same clock tick would look the same).

Layout: `.remedy/logs/<path hash>-<entry key>.parquet`; writing a new entry for a path removes the
older entries of that path, so the folder holds one entry per input file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import xxhash

from remedy.errors import InputError, is_interrupt
from remedy.files.atomic import discard, process_running, write_atomically
from remedy.files.regular import read_regular_text
from remedy.logs.derive import STAGED_ROW_COLUMNS, canonical_columns, date_filter, no_rows_sql
from remedy.logs.readers import duckdb_path
from remedy.logs.sources import REPORTED_SKIPS, LogFile, SkippedLine
from remedy.sql import drop_relation, memory_limit, sql_string

if TYPE_CHECKING:
    from remedy.logs.settings import LogSettings

# Bump when the canonical rows of a file would change for the same input (parsing, checks, derived
# columns, normalize_question): every older entry then misses.
READER_VERSION = 6
# A file whose mtime or ctime is this close to the moment its stamp was taken may change again within the
# same timestamp tick (coarse clocks, e.g. 2 s on FAT): its stamp is not trusted and it is hashed again.
RACY_NS = 2_000_000_000
FOLDER = "logs"
_METADATA_KEY = "remedy_log_cache"
log = logging.getLogger("remedy")
T = TypeVar("T")


@dataclass(frozen=True)
class CacheEntry:
    """One input file's cached staged rows (every line, in order) and what reading it kept and skipped."""

    parquet: Path
    kept: int
    skipped_lines: int
    first_skipped: tuple[tuple[int, str], ...]  # (line, reason), in file order


def cache_folder(cache_dir: Path) -> Path:
    return Path(cache_dir) / FOLDER


def entry_path(folder: Path, path: str, settings: LogSettings, *, format: str, gzip: bool,
               partitions: tuple[tuple[str, str], ...] = ()) -> Path:
    """Where the entry of `path` read with `settings` lives; the name changes whenever the file's bytes do."""
    resolved = os.path.realpath(path)
    shape = {
        "version": READER_VERSION,
        "content": content_key(folder, resolved),
        "format": format,
        "gzip": gzip,
        "fields": dict(sorted(settings.fields.items())),
        "failure_cutoff": settings.failure_cutoff,
        "failure_cutoffs": dict(sorted(settings.failure_cutoffs.items())),
    }
    if partitions:  # they fill mapped fields: the same file read under another folder gives other rows
        shape["partitions"] = [list(pair) for pair in partitions]
    path_hash = _digest(resolved)
    content_hash = _digest(json.dumps(shape, sort_keys=True) + "\0" + resolved)
    return folder / f"{path_hash}-{content_hash}.parquet"


def content_key(folder: Path, resolved: str) -> str:
    """A hash of the file's bytes (xxh3-128), from its stamp while the file's status is unchanged."""
    status = file_status(resolved)
    stamp = folder / f"{_digest(resolved)}.stamp"
    try:
        kept = json.loads(read_regular_text(stamp))  # a FIFO there blocked every command that read logs
        if kept["status"] == status and kept["taken_ns"] - max(status[1], status[2]) > RACY_NS:
            return str(kept["content"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no stamp yet, or an unreadable one: hash the file
    content = _hash_file(resolved)
    facts = {"status": status, "content": content, "taken_ns": time.time_ns()}
    try:
        write_atomically(stamp, json.dumps(facts))
    except OSError:
        pass  # a folder that cannot be written only costs hashing again next time
    return content


def file_status(path: str) -> list[int]:
    """What changes whenever a file's bytes may have: size, mtime, ctime (no tool sets it back), inode, device."""
    status = os.stat(path)
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev]


def _hash_file(path: str) -> str:
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_entry(con: duckdb.DuckDBPyConnection, parquet: Path) -> CacheEntry | None:
    """The entry at `parquet`, or None when there is none or it cannot be trusted (then it is deleted)."""
    path = duckdb_path(str(parquet))

    def facts() -> CacheEntry:
        counts = con.execute("SELECT count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason <> 'blank') "
                             f"FROM read_parquet({path})").fetchone()
        first = con.execute(f"SELECT file_row_number + 1, reason FROM read_parquet({path}, file_row_number = true) "
                            f"WHERE reason <> 'blank' ORDER BY file_row_number LIMIT {REPORTED_SKIPS}").fetchall()
        return CacheEntry(parquet, int(counts[0]) if counts else 0, int(counts[1]) if counts else 0,
                          tuple((int(line), str(reason)) for line, reason in first))

    return read_entry_facts(con, parquet, facts)


def read_entry_facts(con: duckdb.DuckDBPyConnection, parquet: Path, facts: Callable[[], T]) -> T | None:
    """`facts()` of the entry at `parquet` once its footer names it and its columns are the staged ones; None
    when there is no entry or it cannot be trusted (then it is deleted and a warning logged)."""
    if not parquet.is_file():
        return None
    path = duckdb_path(str(parquet))
    try:
        found = con.execute(
            f"SELECT decode(value) FROM parquet_kv_metadata({path}) WHERE decode(key) = ?", [_METADATA_KEY],
        ).fetchall()
        kept = json.loads(found[0][0])
        if kept["entry"] != parquet.name or kept["version"] != READER_VERSION:
            raise ValueError("the footer names another entry")
        if [name for name, _ in _columns(con, f"SELECT * FROM read_parquet({path})")] != list(STAGED_ROW_COLUMNS):
            raise ValueError("its columns are not the ones it was written with")
        return facts()
    except Exception as error:  # a corrupt or foreign file is rebuilt, never trusted
        if is_interrupt(error):
            raise
        log.warning("ignoring unreadable log cache file %s (%s); it will be rebuilt", parquet, error)
        discard(parquet)
        return None


def duckdb_folder(folder: Path) -> Path:
    """`folder`, or the system's temporary folder where DuckDB would misread the path: it takes what
    follows a `?` in a database file's name for options (the project folder `a?b` breaks it)."""
    return Path(tempfile.gettempdir()) if "?" in str(folder) else folder


def prepare_folder(folder: Path) -> bool:
    """Create the cache folder (ignored by git); False when it cannot be written (read-only checkout).

    Leftovers of killed runs (scratch databases, unfinished entries) are removed here.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder.parent / ".gitignore"
        if not ignore.exists():
            write_atomically(ignore, "*\n")
        if not os.access(folder, os.W_OK):
            raise PermissionError(13, "not writable")
    except OSError as error:
        log.warning("cannot write the log cache in %s (%s); reading without it", folder, error.strerror)
        return False
    for leftover in [*folder.glob(".stage-*"), *folder.glob(".tmp-*")]:
        pid = leftover.name.split("-")[1]
        if not pid.isdigit() or not process_running(int(pid)):
            discard(leftover)
    return True


class CacheFailed(Exception):
    """The cache folder failed while in use (full disk, deleted, read-only): read without it."""


def _columns(con: duckdb.DuckDBPyConnection, select_sql: str) -> list[list[str]]:
    return [[str(name), str(kind)] for name, kind, *_ in con.execute(f"DESCRIBE {select_sql}").fetchall()]


def _first_line(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _remove_older_entries(parquet: Path) -> None:
    prefix = parquet.name.split("-", 1)[0] + "-"
    for other in parquet.parent.glob(prefix + "*.parquet"):
        if other != parquet:
            discard(other)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]




# ---------------------------------------------------------------------------------------------------
# Reading through the cache: one Parquet file of canonical rows per input file.

# With the cache, logs live on disk (Parquet entries): DuckDB may hold this much in memory (sorts,
# aggregates) and spills the rest under the cache folder, so memory does not grow with the log.
CACHED_MEMORY_LIMIT = "512MB"
# Building an entry is one COPY in file order over two threads: at 512 MB DuckDB holds a thread back
# (1M rows: 13.6 s instead of 8.6 s of wall time, the same CPU), while its peak RSS stays near 0.55 GB
# at 1 GB (1M rows 541 MB, 5M rows 577 MB; 501 and 511 MB at 512 MB).
BUILD_MEMORY_LIMIT = "1GB"


class ViewPart:
    """One cache entry as a part of the log view: a file's entry (`FileEntry`) or a bundle's."""

    parquet: Path
    skipped_lines: int
    first_skipped: tuple[SkippedLine, ...]

    def select(self, pinned: Path, where: str) -> str:
        """SQL: the canonical rows of the entry read from `pinned` (LOG_COLUMNS), filtered by `where`."""
        raise NotImplementedError

    def counts(self) -> list[tuple[LogFile, int, int]]:
        """(file, lines kept, malformed lines) of each input file of the entry."""
        raise NotImplementedError


@dataclass(frozen=True)
class FileEntry(ViewPart):
    """The entry of one input file."""

    log_file: LogFile
    entry: CacheEntry

    @property
    def parquet(self) -> Path:  # type: ignore[override]
        return self.entry.parquet

    @property
    def skipped_lines(self) -> int:  # type: ignore[override]
        return self.entry.skipped_lines

    @property
    def first_skipped(self) -> tuple[SkippedLine, ...]:  # type: ignore[override]
        return tuple(SkippedLine(self.log_file.path, line, reason) for line, reason in self.entry.first_skipped)

    def select(self, pinned: Path, where: str) -> str:
        columns = canonical_columns({"source_file": f"{sql_string(self.log_file.path)}::VARCHAR AS source_file",
                                     "line_number": "file_row_number + 1 AS line_number"})
        return f"SELECT {columns} FROM read_parquet({duckdb_path(str(pinned))}, file_row_number = true) {where}"

    def counts(self) -> list[tuple[LogFile, int, int]]:
        return [(self.log_file, self.entry.kept, self.entry.skipped_lines)]


@dataclass(frozen=True)
class CachedLogs:
    """The view `table` over the entries of `files`, and what reading them skipped."""

    parts: tuple[ViewPart, ...]
    skipped_lines: int
    first_skipped: tuple[SkippedLine, ...]

    def counts(self) -> list[tuple[LogFile, int, int]]:
        """(file, lines kept, malformed lines) of every input file, in order."""
        return [count for part in self.parts for count in part.counts()]


def use_folder(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Set `con` up for reading through the cache: its memory limit, and spilling (large sorts, joins)
    under the cache folder, not into the working directory."""
    try:
        con.execute(f"SET temp_directory = {sql_string(str(duckdb_folder(folder) / 'tmp'))}")
    except duckdb.NotImplementedException:
        pass  # this connection has spilled already: its temporary folder cannot change any more
    con.execute(f"SET memory_limit = '{CACHED_MEMORY_LIMIT}'")


@dataclass(frozen=True)
class EntryBuild:
    """Where a reader writes a new entry (one COPY to `temporary` with `options`) before it is named."""

    temporary: Path
    options: str


@contextlib.contextmanager
def building_entry(con: duckdb.DuckDBPyConnection, files: Sequence[LogFile], parquet: Path) -> Iterator[EntryBuild]:
    """A new entry for `files` (one, or a bundle): the block writes its staged rows to `EntryBuild.temporary`
    (nothing written: an entry without rows), then the entry is renamed to `parquet`, unless a file changed
    meanwhile (InputError) or the folder failed under us (CacheFailed). Read it back with `built_entry`."""
    statuses = [file_status(log_file.path) for log_file in files]  # the entry is named after these bytes
    facts = sql_string(json.dumps({"entry": parquet.name, "version": READER_VERSION}))
    temporary = parquet.with_name(f".tmp-{os.getpid()}-{parquet.stem}.{uuid.uuid4().hex}")
    options = f"FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{_METADATA_KEY}: {facts}}}"
    try:
        with memory_limit(con, BUILD_MEMORY_LIMIT):
            yield EntryBuild(temporary, options)
        if not temporary.exists():  # an empty file: an entry without rows
            con.execute(f"COPY ({no_rows_sql()}) TO {sql_string(str(temporary))} ({options})")
        for log_file, status in zip(files, statuses, strict=True):
            if file_status(log_file.path) != status:
                raise InputError(f"{log_file.path}: changed while it was being read; run the command again")
        os.replace(temporary, parquet)
    except (OSError, duckdb.IOException) as error:  # a full disk, a folder deleted under us
        raise CacheFailed(f"cannot write {parquet.name}: {_first_line(error)}") from error
    except InputError as error:
        if isinstance(error.__cause__, duckdb.IOException) and temporary.name in str(error.__cause__):
            raise CacheFailed(f"cannot write {parquet.name}: {_first_line(error.__cause__)}") from error
        raise
    finally:
        discard(temporary)
    _remove_older_entries(parquet)


def built_entry(con: duckdb.DuckDBPyConnection, parquet: Path) -> CacheEntry:
    """The entry `building_entry` just wrote, read back as any other (CacheFailed if it cannot be)."""
    entry = load_entry(con, parquet)
    if entry is None:
        raise CacheFailed(f"{parquet.name} could not be read back")
    return entry


def create_view(con: duckdb.DuckDBPyConnection, table: str, parts: Sequence[ViewPart], *,
                since: dt.datetime | dt.date | None, until: dt.datetime | dt.date | None) -> CachedLogs:
    """The view `table` over the canonical rows of `parts` (entries of one file or of a bundle, in order),
    with the date filter applied. Raises CacheFailed when the folder fails under us."""
    pinned = _pin(con, [part.parquet for part in parts])
    first_skipped = tuple(item for part in parts for item in part.first_skipped)[:REPORTED_SKIPS]
    where = "WHERE " + " AND ".join(["reason IS NULL", *date_filter(since, until)])
    selects = [part.select(path, where) for part, path in zip(parts, pinned, strict=True)]
    drop_relation(con, table)
    con.execute(f"CREATE VIEW {table} AS " + " UNION ALL ".join(selects))  # resolve_log_paths found a file
    return CachedLogs(tuple(parts), sum(part.skipped_lines for part in parts), first_skipped)


def _pin(con: duckdb.DuckDBPyConnection, entries: list[Path]) -> list[Path]:
    """Paths that keep naming the entries' bytes while the connection lives, even if `.remedy` is deleted
    or another run replaces an entry: Linux's /proc/self/fd/N of a descriptor held open until then."""
    import weakref

    if not os.path.isdir("/proc/self/fd"):
        return entries
    try:
        descriptors = [os.open(entry, os.O_RDONLY) for entry in entries]
    except OSError as error:
        raise CacheFailed(f"{error.filename}: {error.strerror}") from error
    weakref.finalize(con, _close_all, descriptors)
    return [Path(f"/proc/self/fd/{descriptor}") for descriptor in descriptors]


def _close_all(descriptors: list[int]) -> None:
    for descriptor in descriptors:
        os.close(descriptor)
