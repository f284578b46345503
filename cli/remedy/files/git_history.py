"""Created / last edited / last edited by, read from git history (one `git log` for the whole folder)."""

from __future__ import annotations

import datetime
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileHistory:
    created: datetime.datetime
    updated: datetime.datetime
    updated_by: str
    created_by: str
    # Authors of the commits after the one that created the file, sorted (for contributions per author).
    editors: tuple[str, ...] = ()


def folder_history(folder: Path) -> dict[Path, FileHistory]:
    """History of every committed file under `folder`, by resolved path; empty outside git."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return {}
    log = _git(folder, "-c", "core.quotepath=off", "log", "--no-renames", "--format=%x00%aI%x09%an",
               "--name-only", "--", ".")
    if not log:
        return {}
    root = Path(top.strip())
    newest: dict[str, tuple[str, str]] = {}
    oldest: dict[str, tuple[str, str]] = {}
    authors: dict[str, list[str]] = {}  # every commit's author, newest first
    for entry in log.split("\0")[1:]:
        header, _, names = entry.partition("\n")
        when, _, author = header.partition("\t")
        for name in filter(None, (line.strip() for line in names.splitlines())):
            newest.setdefault(name, (when, author))  # log runs newest first
            oldest[name] = (when, author)
            authors.setdefault(name, []).append(author)
    return {
        (root / name).resolve(): FileHistory(
            created=datetime.datetime.fromisoformat(oldest[name][0]),
            updated=datetime.datetime.fromisoformat(when),
            updated_by=author,
            created_by=oldest[name][1],
            editors=tuple(sorted(set(authors[name][:-1]))),
        )
        for name, (when, author) in newest.items()
    }


def _git(folder: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None  # git not installed: history is simply unknown
    return result.stdout if result.returncode == 0 else None
