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

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import xxhash

from remedy.errors import is_interrupt
from remedy.files.atomic import discard, process_running, replaced_atomically, write_atomically
from remedy.logs.reading import duckdb_path
from remedy.sql import sql_string

if TYPE_CHECKING:
    from remedy.logs.settings import LogSettings

# Bump when the canonical rows of a file would change for the same input (parsing, checks, derived
# columns, normalize_question): every older entry then misses.
READER_VERSION = 2
# A file whose mtime or ctime is this close to the moment its stamp was taken may change again within the
# same timestamp tick (coarse clocks, e.g. 2 s on FAT): its stamp is not trusted and it is hashed again.
RACY_NS = 2_000_000_000
FOLDER = "logs"
_METADATA_KEY = "remedy_log_cache"
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class CacheEntry:
    """One input file's cached canonical rows and what reading it skipped."""

    parquet: Path
    skipped_lines: int
    first_skipped: tuple[tuple[int, str], ...]  # (line, reason), in file order


def cache_folder(cache_dir: Path) -> Path:
    return Path(cache_dir) / FOLDER


def entry_path(folder: Path, path: str, settings: LogSettings, *, format: str, gzip: bool) -> Path:
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
    path_hash = _digest(resolved)
    content_hash = _digest(json.dumps(shape, sort_keys=True) + "\0" + resolved)
    return folder / f"{path_hash}-{content_hash}.parquet"


def content_key(folder: Path, resolved: str) -> str:
    """A hash of the file's bytes (xxh3-128), from its stamp while the file's status is unchanged."""
    status = file_status(resolved)
    stamp = folder / f"{_digest(resolved)}.stamp"
    try:
        kept = json.loads(stamp.read_text(encoding="utf-8"))
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
    if not parquet.is_file():
        return None
    try:
        found = con.execute(
            f"SELECT decode(value) FROM parquet_kv_metadata({duckdb_path(str(parquet))}) WHERE decode(key) = ?",
            [_METADATA_KEY],
        ).fetchall()
        facts = json.loads(found[0][0])
        if facts["entry"] != parquet.name or facts["version"] != READER_VERSION:
            raise ValueError("the footer names another entry")
        if _columns(con, f"SELECT * FROM read_parquet({duckdb_path(str(parquet))})") != facts["columns"]:
            raise ValueError("its columns are not the ones it was written with")
        return CacheEntry(
            parquet=parquet,
            skipped_lines=int(facts["skipped_lines"]),
            first_skipped=tuple((int(line), str(reason)) for line, reason in facts["first_skipped"]),
        )
    except Exception as error:  # a corrupt or foreign file is rebuilt, never trusted
        if is_interrupt(error):
            raise
        log.warning("ignoring unreadable log cache file %s (%s); it will be rebuilt", parquet, error)
        discard(parquet)
        return None


def write_entry(
    con: duckdb.DuckDBPyConnection,
    parquet: Path,
    select_sql: str,
    *,
    skipped_lines: int,
    first_skipped: tuple[tuple[int, str], ...],
) -> CacheEntry:
    """COPY `select_sql` to `parquet` (temporary name, then renamed) with the skipped lines in the footer."""
    facts = {
        "entry": parquet.name,
        "version": READER_VERSION,
        "columns": _columns(con, select_sql),
        "skipped_lines": skipped_lines,
        "first_skipped": [list(item) for item in first_skipped],
    }
    metadata = sql_string(json.dumps(facts))
    try:
        with replaced_atomically(parquet) as temporary:
            con.execute(
                f"COPY ({select_sql}) TO {sql_string(str(temporary))} "
                f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{_METADATA_KEY}: {metadata}}})"
            )
    except (OSError, duckdb.IOException) as error:  # a full disk, a folder deleted under us
        raise CacheFailed(f"cannot write {parquet.name}: {_first_line(error)}") from error
    _remove_older_entries(parquet)
    return CacheEntry(parquet, skipped_lines, first_skipped)


def scratch_path(parquet: Path) -> Path:
    """A scratch database on disk for parsing the file of `parquet`, private to this process."""
    return duckdb_folder(parquet.parent) / f".stage-{os.getpid()}-{parquet.stem}.duckdb"


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
