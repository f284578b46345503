"""Hot reload without a bad moment: poll the folder and the config, load a change beside the running
folder, swap the reference.

Polling, not inotify (watchfiles): a deployment updates the folder with `git pull`/`git checkout` or a
volume sync, which replace files by rename, often on network or container file systems where inotify
misses events; a stat of every file (path, mtime, size, inode) costs about a millisecond per 1,000
files, so polling twice a second is cheap and never misses a change. A change is loaded only once
the files have stood still for a moment (`settle_seconds`), so a checkout in progress is not read
half-way, and once no changed file is still open for writing by any process (`still_being_written`):
a writer that pauses in the middle of a file (issue 35: a valid YAML prefix, then 1.5 s of nothing)
leaves the size and time still, and its half was served with health "ok". A folder that fails
validation is not loaded: the last good one keeps serving and the error is kept for `/v1/health`
until a later change loads. Each worker process runs its own reloader.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from remedy.config import CONFIG_FILE, load_config
from remedy.errors import RemedyError
from remedy.files.folder import SUFFIXES
from remedy.serving.served_folder import ServedFolder, iso_utc

Fingerprint = tuple[tuple[str, int, int, int], ...]
SETTLE_SECONDS = 0.1
# Where the kernel cannot say whether a file is open for writing (not our file, a file system without
# leases), a changed file is loaded only once its modification time is this old.
QUIET_SECONDS = 2.0
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class ReloadError:
    message: str
    at: datetime.datetime

    def describe(self) -> dict[str, str]:
        return {"message": self.message, "at": iso_utc(self.at)}


def watched_fingerprint(config_file: str | None, remediations_dir: str | None) -> Fingerprint:
    """(path, mtime_ns, size, inode) of the config and of every remediation file; absent files as -1."""
    try:
        config = load_config(Path(config_file) if config_file else None,
                             Path(remediations_dir) if remediations_dir else None)
    except RemedyError as error:  # a broken config is a change too: the load reports it
        return (("config error: " + str(error), -1, -1, -1),)
    stamps: list[tuple[str, int, int, int]] = []
    add_stamp(str(config.file or config.root / CONFIG_FILE), stamps)
    stamp_remediation_files(str(config.remediations_dir), stamps)
    return tuple(sorted(stamps))


def add_stamp(path: str, stamps: list[tuple[str, int, int, int]]) -> None:
    try:
        stat = os.stat(path)
        stamps.append((path, stat.st_mtime_ns, stat.st_size, stat.st_ino))
    except OSError:
        stamps.append((path, -1, -1, -1))


def stamp_remediation_files(directory: str, stamps: list[tuple[str, int, int, int]]) -> None:
    """The files `find_files` reads (same rules: hidden names skipped, symlinked folders not followed), stamped.

    Walked with os.scandir and plain strings rather than through `find_files`: this runs twice a second
    in every worker, and building and sorting 1,000 Path objects cost 25 ms of CPU a time, 10x the stats.
    """
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return  # a missing folder: the load says so
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                stamp_remediation_files(entry.path, stamps)
            elif entry.name.endswith(SUFFIXES):
                stat = entry.stat()  # follows a symlinked file to what it points at
                stamps.append((entry.path, stat.st_mtime_ns, stat.st_size, stat.st_ino))
        except OSError:
            stamps.append((entry.path, -1, -1, -1))


def open_for_writing(path: str) -> bool | None:
    """True if some process has `path` open for writing, False if none has, None if the kernel cannot say.

    Linux refuses a read lease (F_SETLEASE F_RDLCK) on a file that any process holds open for writing:
    that is the question, answered by the kernel. The lease is released at once; no lease-break signal
    can reach us, as no owner is set on the descriptor. Needs our own file on a file system with leases.
    """
    set_lease = getattr(fcntl, "F_SETLEASE", None)
    if set_lease is None:
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return False  # removed meanwhile: the load sees it gone
    except OSError:
        return None
    try:
        fcntl.fcntl(descriptor, set_lease, fcntl.F_RDLCK)
        fcntl.fcntl(descriptor, set_lease, fcntl.F_UNLCK)
        return False
    except OSError as error:
        return True if error.errno in (errno.EAGAIN, errno.EBUSY) else None
    finally:
        os.close(descriptor)


def still_being_written(changed: Fingerprint, now_ns: int, quiet_seconds: float = QUIET_SECONDS) -> str | None:
    """The first changed file that a writer still holds open (or, where that cannot be known, that changed
    less than `quiet_seconds` ago); None when every changed file is complete."""
    for path, mtime_ns, _size, _inode in changed:
        if mtime_ns < 0:
            continue  # removed, or the config error marker
        writing = open_for_writing(path)
        if writing or (writing is None and now_ns - mtime_ns < quiet_seconds * 1e9):
            return path
    return None


class FolderReloader:
    """Holds the folder being served (`current`) and replaces it when the watched files change."""

    def __init__(self, load: Callable[[], ServedFolder], fingerprint: Callable[[], Fingerprint], *,
                 poll_seconds: float = 0.5, settle_seconds: float = SETTLE_SECONDS,
                 initial: ServedFolder | None = None) -> None:
        self._load = load
        self._fingerprint = fingerprint
        self._poll_seconds = poll_seconds
        self._settle_seconds = settle_seconds
        self._seen = fingerprint()
        # Reading `current` needs no lock: one attribute assignment replaces the whole folder at once.
        self.current: ServedFolder = initial if initial is not None else load()
        self.last_error: ReloadError | None = None
        self.reloads = 0
        self._lock = threading.Lock()  # one load at a time (the poller and POST /v1/reload)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self, *, force: bool = False) -> bool:
        """Load the folder if it changed since the last attempt (always with `force`); True if swapped."""
        with self._lock:
            seen = self._fingerprint()
            if seen == self._seen and not force:
                return False
            if not force and self._settle_seconds > 0:
                self._stop.wait(self._settle_seconds)
                if self._fingerprint() != seen:
                    return False  # still being written: the next poll tries again
            writing = still_being_written(tuple(sorted(set(seen) - set(self._seen))), time.time_ns())
            if writing is not None:
                log.info("not reloading yet: %s is still open for writing", writing)
                return False  # the next poll tries again
            self._seen = seen  # a failed load is not retried until the files change again
            try:
                loaded = self._load()
            except RemedyError as error:
                self._fail(str(error))
                return False
            except Exception as error:  # a bug in loading must not stop serving the last good folder
                log.exception("reloading the remediations folder failed")
                self._fail(f"internal error: {type(error).__name__}: {error}")
                return False
            self.current = loaded
            self.last_error = None
            self.reloads += 1
            return True

    def _fail(self, message: str) -> None:
        self.last_error = ReloadError(message, datetime.datetime.now(datetime.timezone.utc))
        log.warning("not reloaded, still serving the last good folder: %s", message)

    def start(self) -> None:
        """Poll in a daemon thread (nothing with `poll_seconds` 0: reloads come from POST /v1/reload only)."""
        if self._poll_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._poll, name="remedy-reloader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self.check()
