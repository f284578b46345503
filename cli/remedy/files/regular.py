"""Caches read regular files only: a FIFO named like a cache file blocked `coverage` for good (issue 35),
and a device or a folder is no cache either. A cache file that is not regular is treated as a bad one:
ignored, removed where the folder allows it, and rebuilt.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def is_regular_file(path: Path | str) -> bool:
    """Whether `path` itself (a symlink is not followed: caches never make links) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_regular_text(path: Path) -> str:
    """The UTF-8 text of a regular file; OSError (never a wait) for anything else.

    Opened without blocking, and checked on the open descriptor, so a FIFO put there after any
    earlier look cannot block the read either.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path}: not a regular file")
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            return handle.read().decode("utf-8")
    finally:
        os.close(descriptor)
