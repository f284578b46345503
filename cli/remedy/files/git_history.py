"""Created / last edited / last edited by, read from git history (one `git log` for the whole folder)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from remedy.git import git_output, repository_root


@dataclass(frozen=True)
class FileHistory:
    created: datetime.datetime
    updated: datetime.datetime
    updated_by: str
    created_by: str
    # Authors of the commits after the one that created the file, sorted (for contributions per author).
    editors: tuple[str, ...] = ()


def folder_history(remediations_dir: Path) -> dict[Path, FileHistory]:
    """History of every committed file under `folder`, by resolved path; empty outside git."""
    root = repository_root(remediations_dir)
    if root is None or not remediations_dir.is_dir():
        return {}
    log = git_output(remediations_dir, "-c", "core.quotepath=off", "log", "--no-renames", "--format=%x00%aI%x09%an",
                     "--name-only", "--", ".")
    if not log:
        return {}
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
