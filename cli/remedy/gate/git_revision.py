"""The remediations folder as it was at a git revision, read from git objects (no checkout, nothing written).

Only which files there were and their bytes come from git (remedy/git.py); they are parsed and
checked by the same code as the working tree's (files/folder.py `read_folder`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from remedy.errors import UsageError
from remedy.files.folder import SUFFIXES, Folder, FolderFile, display_path, read_folder
from remedy.files.yaml_source import MAX_FILE_BYTES, Document, parse_bytes, too_big
from remedy.git import cat_files, list_tree, tree_at

SYMLINK_MODE = "120000"


def folder_at(top: Path, commit: str, remediations_dir: Path) -> Folder:
    """Every remediation file under `folder` as committed in `commit`, parsed like the working tree.

    Paths are the working-tree paths the files had, so problems and renames read naturally; problems
    name the revision (`file@commit`). A symlink at the base is read where it pointed inside the
    repository at that commit: the working tree refuses links (F006), but an answer that was served
    through one before stays protected.
    """
    relative = relative_to_top(top, remediations_dir)
    inside = "" if relative == "." else f"{relative}/"
    tree = tree_at(top, commit, relative)
    entries = [(mode, object_id, f"{inside}{path}", size)
               for mode, kind, object_id, size, path in (list_tree(top, tree) if tree else [])
               if kind == "blob" and path.endswith(SUFFIXES) and not any(p.startswith(".") for p in path.split("/"))]
    # Sizes come from the listing, so a blob over the cap is never read into memory.
    files = [object_id for mode, object_id, _, size in entries if mode != SYMLINK_MODE and size <= MAX_FILE_BYTES]
    links = [f"{commit}:{path}" for mode, _, path, _ in entries if mode == SYMLINK_MODE]
    blobs = dict(zip(files, cat_files(top, files), strict=True))
    targets = dict(zip(links, cat_files(top, links, follow_symlinks=True, max_size=MAX_FILE_BYTES), strict=True))
    sources = []
    for mode, object_id, path, size in entries:
        full = top / path
        too_large = mode != SYMLINK_MODE and size > MAX_FILE_BYTES
        data = None if too_large else targets[f"{commit}:{path}"] if mode == SYMLINK_MODE else blobs[object_id]
        if data is None and not too_large:
            continue  # a link to nothing, out of the repository or too big: nothing remedy would read
        sources.append(FolderFile(full, functools.partial(_parse_blob, full, data, size),
                                  shown=f"{display_path(full)}@{commit[:8]}"))
    return read_folder(remediations_dir, sources)


def _parse_blob(path: Path, data: bytes | None, size: int) -> Document:
    if data is None:  # over the size cap: never read
        raise too_big(size)
    return parse_bytes(path, data)


def relative_to_top(top: Path, path: Path) -> str:
    """`path` as a path inside the repository (posix, "." for the top); UsageError when it is outside.

    Lexical, not resolved: the working tree is the pull request's, and a symlink it puts in place of
    the folder must not decide which folder of the base is read.
    """
    absolute = Path(os.path.normpath(os.path.abspath(path)))
    for root in (top, top.resolve()):
        try:
            return absolute.relative_to(root).as_posix()
        except ValueError:
            continue
    try:  # reached through a link above the repository (a checkout under /tmp on macOS)
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"{display_path(path)} is outside the git repository at {top}") from None
