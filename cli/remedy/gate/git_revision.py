"""The remediations folder as it was at a git revision, read from git objects (no checkout, nothing written)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from remedy.errors import UsageError
from remedy.files.folder import SUFFIXES, Folder, display_path
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import MAX_FILE_BYTES, UNREADABLE, SourceError, parse_document
from remedy.problems import Problem

SYMLINK_MODE = "120000"


def git(top: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(top), *args], input=input_bytes, capture_output=True, check=False)
    except OSError as error:
        raise UsageError(f"cannot run git: {error.strerror}") from None
    if result.returncode != 0:
        raise UsageError(f"git {' '.join(args[:2])} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def repository_root(folder: Path) -> Path:
    try:
        result = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True,
                                text=True, check=False)
    except OSError as error:
        raise UsageError(f"cannot run git: {error.strerror}") from None
    if result.returncode != 0:
        raise UsageError(f"{display_path(folder)} is not in a git repository; `remedy check` compares against a "
                         "git revision")
    return Path(result.stdout.strip())


def resolve_revision(top: Path, ref: str) -> str:
    """The commit id `ref` names, or a message that says why it cannot be found (shallow clones included)."""
    result = subprocess.run(["git", "-C", str(top), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                            capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return result.stdout.strip()
    shallow = subprocess.run(["git", "-C", str(top), "rev-parse", "--is-shallow-repository"], capture_output=True,
                             text=True, check=False).stdout.strip() == "true"
    if shallow:
        raise UsageError(f"base revision '{ref}' is not in this shallow clone; fetch it (in GitHub Actions: "
                         "actions/checkout with fetch-depth: 0)")
    raise UsageError(f"base revision '{ref}' does not exist (try origin/main, or `git fetch` first)")


def folder_at(top: Path, commit: str, folder: Path) -> Folder:
    """Every remediation file under `folder` as committed in `commit`, parsed like the working tree.

    Paths are the working-tree paths the files had, so problems and renames read naturally. A symlink
    at the base is read where it pointed inside the repository at that commit: the working tree
    refuses links (F006), but an answer that was served through one before stays protected.
    """
    relative = relative_to_top(top, folder)
    inside = "" if relative == "." else f"{relative}/"
    tree = _tree_at(top, commit, relative)
    listing = git(top, "ls-tree", "-r", "-l", "-z", tree) if tree else b""
    entries = []
    for record in filter(None, listing.split(b"\0")):
        meta, _, name = record.partition(b"\t")
        mode, kind, object_id, size_text = meta.decode().split()
        path = name.decode("utf-8", errors="replace")
        if kind == "blob" and path.endswith(SUFFIXES) and not any(part.startswith(".") for part in path.split("/")):
            entries.append((mode, object_id, f"{inside}{path}", int(size_text)))
    result = Folder(root=folder)
    # Sizes come from the listing, so a blob over the cap is never read into memory.
    files = [object_id for mode, object_id, _, size in entries if mode != SYMLINK_MODE and size <= MAX_FILE_BYTES]
    links = [f"{commit}:{path}" for mode, _, path, _ in entries if mode == SYMLINK_MODE]
    blobs = dict(zip(files, cat_files(top, files), strict=True))
    targets = dict(zip(links, cat_files(top, links, follow_symlinks=True, max_size=MAX_FILE_BYTES), strict=True))
    for mode, object_id, path, length in entries:
        full = top / path
        try:
            if mode != SYMLINK_MODE and length > MAX_FILE_BYTES:
                raise SourceError(UNREADABLE, f"file is {length:,} bytes; remediation files are limited to "
                                          f"{MAX_FILE_BYTES:,}")
            data = targets[f"{commit}:{path}"] if mode == SYMLINK_MODE else blobs[object_id]
            if data is None:
                continue  # a link to nothing, out of the repository or too big: nothing remedy would read
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise SourceError(UNREADABLE, "not UTF-8 text") from None
            result.documents.append(parse_document(full, text))
        except SourceError as error:
            result.file_problems.append(Problem(f"{display_path(full)}@{commit[:8]}", error.position.line,
                                                error.position.column, error.code, "error", error.message))
    result.remediations = [r for r in (Remediation.from_document(d) for d in result.documents) if r is not None]
    return result


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


def _tree_at(top: Path, commit: str, relative: str) -> str | None:
    """The id of the tree at `relative` in `commit` (a link to a folder followed inside the repository)."""
    spec = f"{commit}^{{tree}}" if relative == "." else f"{commit}:{relative}"
    header = git(top, "cat-file", "--batch-check", "--follow-symlinks", input_bytes=f"{spec}\n".encode())
    parts = header.decode(errors="replace").split()
    return parts[0] if len(parts) == 3 and parts[1] == "tree" else None


def cat_files(top: Path, names: list[str], *, follow_symlinks: bool = False,
              max_size: int | None = None) -> list[bytes | None]:
    """The content of each blob named (an object id or `commit:path`), None where there is no such blob.

    One `git cat-file --batch` process for all (one process per file would cost seconds). With
    `follow_symlinks`, a link is followed inside the repository; a link out of it, dangling or looping
    gives None. With `max_size`, sizes are asked first and a bigger blob gives None, unread.
    """
    if not names:
        return []
    follow = ["--follow-symlinks"] if follow_symlinks else []
    if max_size is not None:
        checked = git(top, "cat-file", "--batch-check", *follow,
                      input_bytes="".join(f"{name}\n" for name in names).encode()).decode(errors="replace")
        fits = [len(parts) == 3 and parts[1] == "blob" and int(parts[2]) <= max_size
                for parts in (line.split() for line in _batch_check_lines(checked, len(names)))]
        wanted = [name for name, ok in zip(names, fits, strict=True) if ok]
        small = iter(cat_files(top, wanted, follow_symlinks=follow_symlinks))
        return [next(small) if ok else None for ok in fits]
    output = git(top, "cat-file", "--batch", *follow, input_bytes="".join(f"{name}\n" for name in names).encode())
    found: list[bytes | None] = []
    position = 0
    for _ in names:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].decode(errors="replace").split()
        position = header_end + 1
        if header[-1] == "missing":
            found.append(None)
            continue
        size = int(header[-1])
        content = output[position:position + size]
        position += size + 1  # content is followed by a newline
        found.append(content if len(header) == 3 and header[1] == "blob" else None)  # symlink, dangling, loop…
    return found


def _batch_check_lines(output: str, count: int) -> list[str]:
    """One header line per name; --follow-symlinks adds the link text after a symlink/dangling/loop header."""
    lines = output.split("\n")
    headers: list[str] = []
    index = 0
    while len(headers) < count:
        header = lines[index]
        headers.append(header)
        index += 2 if header.split()[:1] and header.split()[0] in ("symlink", "dangling", "loop", "notdir") else 1
    return headers
