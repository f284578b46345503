"""Whose review a remediation needs: its own `owners`, else the last `[owners]` glob matching its path.

Last match wins, as in CODEOWNERS, so the generated file and `remedy owners` always agree: put broad
globs first and narrower ones after them. An entry's own `owners` replaces the default (no union);
`owners: []` and a glob mapped to `[]` both mean "nobody".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from remedy.config import Config
from remedy.files.remediation import Remediation
from remedy.owner_handles import normalize_owner

FROM_FILE = "file"
FROM_CONFIG = "config"


@dataclass(frozen=True)
class Ownership:
    owners: tuple[str, ...]
    source: str | None  # "file" (its own key), "config" (an [owners] glob), None (no owners anywhere)
    pattern: str | None = None  # the [owners] glob that decided, when source is "config"

    @property
    def origin(self) -> str:
        """Where the owners come from, in words for a table."""
        if self.source == FROM_FILE:
            return "owners key"
        if self.source == FROM_CONFIG:
            return f'[owners] "{self.pattern}"'
        return "none"

    def includes(self, owner: str) -> bool:
        wanted = normalize_owner(owner)
        return any(normalize_owner(name) == wanted for name in self.owners)


class OwnerRules:
    """The `[owners]` globs of a config, compiled once, matched against paths inside the folder."""

    def __init__(self, config: Config) -> None:
        self.remediations_dir = config.remediations_dir
        self.rules = []
        if config.owners:  # pathspec is only imported where there are globs (validate's start-up counts)
            from pathspec import GitIgnoreSpec

            self.rules = [(pattern, owners, GitIgnoreSpec.from_lines([pattern]))
                          for pattern, owners in config.owners.items()]

    def ownership(self, remediation: Remediation) -> Ownership:
        if remediation.owners is not None:
            return Ownership(unique_owners(remediation.owners), FROM_FILE)
        relative = folder_relative(remediation.path, self.remediations_dir)
        for pattern, owners, spec in reversed(self.rules):
            if relative is not None and spec.match_file(relative):
                return Ownership(unique_owners(owners), FROM_CONFIG, pattern)
        return Ownership((), None)


def owners_by_id(config: Config, remediations: Iterable[Remediation]) -> dict[str, Ownership]:
    """Each remediation's owners and where they come from, by id (for reports that show them)."""
    rules = OwnerRules(config)
    return {remediation.id: rules.ownership(remediation) for remediation in remediations}


def folder_relative(path: Path, folder: Path) -> str | None:
    """`path` relative to the remediations folder, with `/` separators; None when it lies outside."""
    try:
        return path.absolute().relative_to(folder.absolute()).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            return None


def unique_owners(owners: Iterable[str]) -> tuple[str, ...]:
    """Owners in the order written, each once (compared without case, as GitHub does)."""
    seen: set[str] = set()
    unique = []
    for owner in owners:
        if normalize_owner(owner) not in seen:
            seen.add(normalize_owner(owner))
            unique.append(owner)
    return tuple(unique)
