"""Writing files atomically: a temporary file beside the target, flushed, then renamed over it.

A crash or a full disk leaves either the old file or the new one, never half of each. A new file
gets the mode any editor would give it (0666 less the umask); a replaced file keeps its mode.
`write_atomically` writes bytes or text; `replaced_atomically` is for writers that want a path of
their own (DuckDB's COPY, NumPy's memory map): they fill the temporary file, which then replaces the
target.

A process killed mid-write leaves its temporary file behind. Temporary files are named
`.<target>.<pid>.<random>.remedy-tmp`: hidden, so no reader of remediations, configs or logs ever
takes them for data, and marked with the writer's process id, so the next write into the same
folder removes those whose writer is gone (`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

TEMPORARY_SUFFIX = ".remedy-tmp"
_TEMPORARY = re.compile(r"^\..*\.(?P<pid>\d+)\.[0-9a-f]{8}" + re.escape(TEMPORARY_SUFFIX) + r"$")
# Names `tempfile.mkstemp` gave temporaries before (`.x.yaml.abc_1234.tmp`): no pid, so only age tells.
_LEGACY_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
STALE_AFTER_SECONDS = 60.0  # a live writer holds its temporary for milliseconds
LEGACY_STALE_AFTER_SECONDS = 3600.0


def write_atomically(path: Path, data: bytes | str, *, exclusive: bool = False) -> None:
    """Write `data` to `path` atomically; `exclusive=True` raises FileExistsError instead of replacing a file.

    Exclusive creation links the finished temporary file to its name (a link never replaces), so two
    processes creating the same file cannot both succeed, and neither leaves a half-written file.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    mode = None if exclusive or not path.exists() else path.stat().st_mode & 0o7777
    with temporary_beside(path) as temporary:
        with open(temporary, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        if not exclusive:
            os.replace(temporary, path)
            return
        try:
            os.link(temporary, path)
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise  # FileExistsError included: that is the answer the caller asked for
            _create_exclusively(path, payload)  # a file system without hard links: exclusive, not atomic


@contextlib.contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write the whole new file to; when the block ends without an
    error it is renamed over `path`, else removed (the old file, if any, is left as it was)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    with temporary_beside(path) as temporary:
        yield temporary
        os.replace(temporary, path)


@contextlib.contextmanager
def temporary_beside(path: Path) -> Iterator[Path]:
    """An empty new file next to `path`, named as a remedy temporary; removed on exit if still there."""
    stem = path.name[:100]
    while True:
        temporary = path.with_name(f".{stem}.{os.getpid()}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
        try:
            # O_EXCL with 0o666: the kernel applies the umask, as for any editor's new file.
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def remove_stale_temporaries(directory: Path, *, now: float | None = None) -> list[Path]:
    """Delete temporaries in `directory` left by writers that were killed; return what was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        ours = _TEMPORARY.match(entry.name)
        legacy = _LEGACY_TEMPORARY.match(entry.name)
        if not ours and not legacy:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - info.st_mtime
            stale = (age > STALE_AFTER_SECONDS and not process_running(int(ours.group("pid")))) if ours \
                else age > LEGACY_STALE_AFTER_SECONDS
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def process_running(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except OverflowError:
        return False
    return True


def _create_exclusively(path: Path, payload: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def discard(path: Path) -> None:
    """Delete a cache or scratch file if the folder allows it; on a read-only folder it is left (and
    skipped by its reader), with a warning: a leftover only costs space."""
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        logging.getLogger("remedy").warning("cannot delete %s (%s)", path, error.strerror)
