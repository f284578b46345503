"""One writer at a time for changes that check folder-wide rules (`new`, `activate`, `pause`).

Such a change reads the whole folder, checks that the result breaks no rule (one active answer per
question, unique ids), then writes. Two processes doing that at once could each pass the check and
together break the rule, so the read-check-write runs under an exclusive `flock` on the folder's own
directory: no lock file to leave behind or to show in `git status`, and the kernel releases the lock
when a process dies. Readers (`validate`, the API) never take it: every write is atomic.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; writes stay atomic
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` for the duration of the block (no lock when it is not a folder:
    the caller's read reports that)."""
    if fcntl is None or not folder.is_dir():
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
