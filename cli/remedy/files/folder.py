"""Reading every remediation file of a folder, from the working tree or from any other source of files.

`read_folder` is the one place files become a Folder (documents, problems, remediations), so the
working tree (`load_folder`) and the gate's base revision (gate/git_revision.py) are parsed and
checked by the same code; a source only says which files there are and how to get their bytes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
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


@dataclass(frozen=True)
class FolderFile:
    """One file of a source: where it is (or was) in the working tree, how to read it (returns the parsed
    Document; raises SourceError when the file cannot be one), and how problems name it."""

    path: Path
    read: Callable[[], Document]
    shown: str | None = None  # None: display_path(path), worked out only for a file with a problem


def read_folder(root: Path, files: Iterable[FolderFile]) -> Folder:
    """A Folder from a source's files: each parsed, those that cannot be read kept as problems (F rules)."""
    folder = Folder(root=root)
    for file in files:
        try:
            folder.documents.append(file.read())
        except SourceError as error:
            folder.file_problems.append(Problem(file.shown or display_path(file.path), error.position.line,
                                                error.position.column, error.code, "error", error.message))
    folder.remediations = [r for r in (Remediation.from_document(d) for d in folder.documents) if r is not None]
    return folder


class DocumentCache:
    """Parsed files kept by (mtime, size, inode), so reading a folder again re-parses only what changed.

    For `remedy serve`'s reloads: parsing is three quarters of loading 1,000 files, and a merge usually
    touches a few. Documents are never modified once parsed, so sharing them between loads is safe.
    """

    def __init__(self) -> None:
        self._parsed: dict[Path, tuple[tuple[int, int, int], Document]] = {}

    def read(self, path: Path) -> Document:
        try:
            stat = path.lstat()  # lstat: a file swapped for a symlink must be read (and refused) again
        except OSError:
            return read_document(path)  # raises the SourceError that names the problem
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        kept = self._parsed.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        document = read_document(path)  # a change between stat and read only costs a re-parse next time
        self._parsed[path] = (stamp, document)
        return document

    def keep_only(self, paths: list[Path]) -> None:
        """Forget files that are gone."""
        for gone in set(self._parsed) - set(paths):
            del self._parsed[gone]


def load_folder(root: Path, documents: DocumentCache | None = None) -> Folder:
    """Read every `*.yaml` / `*.yml` below `root` (hidden files and folders skipped; symlinks refused, F006).

    With `documents`, files unchanged since that cache last read them are not parsed again.
    """
    if not root.exists():
        raise UsageError(f"{display_path(root)}: remediations folder not found (create it or run `remedy init`)")
    if not root.is_dir():
        raise UsageError(f"{display_path(root)}: not a folder")
    paths = find_files(root)
    read = documents.read if documents is not None else read_document
    folder = read_folder(root, (FolderFile(path, functools.partial(read, path)) for path in paths))
    if documents is not None:
        documents.keep_only(paths)
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
