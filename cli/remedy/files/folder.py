"""Finding and reading every remediation file under a folder."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from remedy.errors import UsageError
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import Document, SourceError, read_document
from remedy.problems import Problem

SUFFIXES = (".yaml", ".yml")


@dataclass
class Folder:
    """A remediations folder as read from disk: every document, the files that could not be read,
    and the remediations that are well-formed enough to use."""

    root: Path
    documents: list[Document] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)

    def by_id(self) -> dict[str, Remediation]:
        return {remediation.id: remediation for remediation in self.remediations}


def load_folder(root: Path) -> Folder:
    """Read every `*.yaml` / `*.yml` below `root` (hidden files and folders skipped; symlinks refused, F006)."""
    if not root.exists():
        raise UsageError(f"{display_path(root)}: remediations folder not found (create it or run `remedy init`)")
    if not root.is_dir():
        raise UsageError(f"{display_path(root)}: not a folder")
    folder = Folder(root=root)
    for path in find_files(root):
        try:
            folder.documents.append(read_document(path))
        except SourceError as error:
            folder.file_problems.append(Problem(display_path(path), error.position.line, error.position.column,
                                                error.code, "error", error.message))
    for document in folder.documents:
        remediation = Remediation.from_document(document)
        if remediation is not None:
            folder.remediations.append(remediation)
    return folder


def find_files(root: Path) -> list[Path]:
    """Remediation files below root, in a stable order (so every output is deterministic)."""
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(root, followlinks=False):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        base = Path(directory)
        found.extend(base / name for name in files if name.endswith(SUFFIXES) and not name.startswith("."))
        # A folder named like a file (`x.yaml/`) is reported rather than silently skipped, and so is a
        # symlinked folder: it is not followed, and files it hides must not go unnoticed.
        found.extend(base / name for name in subdirectories
                     if name.endswith(SUFFIXES) or os.path.islink(base / name))
    return sorted(found)


def display_path(path: Path) -> str:
    """The path as the user will recognise it: relative to the working directory where possible."""
    return _relative(str(path), os.getcwd())


@functools.lru_cache(maxsize=65536)
def _relative(path: str, cwd: str) -> str:
    # Problems name their file thousands of times in a large folder; relpath is not free.
    try:
        return os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
