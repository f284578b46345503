"""The remediations folder as it was at a git revision, read from git objects (no checkout, nothing written)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from remedy.errors import UsageError
from remedy.files.folder import SUFFIXES, Folder, display_path
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import MAX_FILE_BYTES, SourceError, parse_document
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

    Paths are the working-tree paths the files had, so problems and renames read naturally.
    """
    relative = folder.resolve().relative_to(top.resolve()).as_posix()
    listing = git(top, "ls-tree", "-r", "-z", "--full-tree", commit, "--", relative if relative != "." else "")
    entries = []
    for record in filter(None, listing.split(b"\0")):
        meta, _, name = record.partition(b"\t")
        mode, kind, object_id = meta.decode().split()
        path = name.decode("utf-8", errors="replace")
        if kind == "blob" and path.endswith(SUFFIXES) and not any(part.startswith(".") for part in path.split("/")):
            entries.append((mode, object_id, path))
    result = Folder(root=folder)
    blobs = _read_blobs(top, [object_id for mode, object_id, _ in entries if mode != SYMLINK_MODE])
    for mode, object_id, path in entries:
        full = top / path
        if mode == SYMLINK_MODE:
            continue  # a link's target is read where it lives; links themselves are not remediations
        data = blobs[object_id]
        try:
            if len(data) > MAX_FILE_BYTES:
                raise SourceError("F001", f"file is {len(data):,} bytes; remediation files are limited to "
                                          f"{MAX_FILE_BYTES:,}")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise SourceError("F001", "not UTF-8 text") from None
            result.documents.append(parse_document(full, text))
        except SourceError as error:
            result.file_problems.append(Problem(f"{display_path(full)}@{commit[:8]}", error.position.line,
                                                error.position.column, error.code, "error", error.message))
    result.remediations = [r for r in (Remediation.from_document(d) for d in result.documents) if r is not None]
    return result


def _read_blobs(top: Path, object_ids: list[str]) -> dict[str, bytes]:
    """All blobs in one `git cat-file --batch` process (one process per file would cost seconds)."""
    if not object_ids:
        return {}
    output = git(top, "cat-file", "--batch", input_bytes="".join(f"{oid}\n" for oid in object_ids).encode())
    blobs: dict[str, bytes] = {}
    position = 0
    while position < len(output):
        header_end = output.index(b"\n", position)
        object_id, _, size = output[position:header_end].decode().split()
        start = header_end + 1
        blobs[object_id] = output[start:start + int(size)]
        position = start + int(size) + 1  # content is followed by a newline
    return blobs
