"""Everything remedy asks git, in one place, with one error policy.

Two kinds of question, two answers when git cannot give one:
- what a command needs (`remedy check` reads the base revision): `run_git` raises UsageError naming the
  git command and git's own message (exit 2);
- what is only shown when known (dates in `remedy list`, the served commit, the repository's URL):
  `git_output` gives None when git is missing, fails or (with a timeout) takes too long, and the
  command goes on.

The repository itself is found without running git (`repository_root`): every command reads the
configuration, and starting a process for that would cost each of them time.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from remedy.errors import UsageError

# The served commit is asked on every reload of `remedy serve`, which must never hang on git (a network
# file system, a lock held by an editor).
HEAD_TIMEOUT_SECONDS = 5


def repository_root(start: Path) -> Path | None:
    """The top of the git work tree holding `start` (a `.git` folder, or the `.git` file of a worktree or
    submodule), or None outside git."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        if is_repository_top(directory):
            return directory
    return None


def is_repository_top(directory: Path) -> bool:
    return (directory / ".git").exists()


def run_git(where: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    """git's output for a command remedy needs; UsageError when git is missing or the command fails."""
    try:
        result = subprocess.run(["git", "-C", str(where), *args], input=input_bytes, capture_output=True,
                                check=False)
    except OSError as error:
        raise UsageError(f"cannot run git: {error.strerror}") from None
    if result.returncode != 0:
        raise UsageError(f"git {' '.join(args[:2])} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def git_output(where: Path, *args: str, timeout: float | None = None) -> str | None:
    """git's output (UTF-8, surrounding blank space removed) for information that is optional; None when
    git is missing, fails, says nothing or takes longer than `timeout` seconds."""
    try:
        result = subprocess.run(["git", "-C", str(where), *args], capture_output=True, check=False,
                                timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = result.stdout.decode("utf-8", errors="replace").strip()
    return text if result.returncode == 0 and text else None


def head_commit(where: Path) -> str | None:
    """The commit checked out where `where` lives, or None outside git (or without git)."""
    return git_output(where, "rev-parse", "--verify", "--quiet", "HEAD", timeout=HEAD_TIMEOUT_SECONDS)


def resolve_revision(top: Path, ref: str) -> str:
    """The commit id `ref` names, or a UsageError that says why it cannot be found (shallow clones included)."""
    found = git_output(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found is not None:
        return found
    # run_git, not git_output: without git at all, that is what the message must say.
    if run_git(top, "rev-parse", "--is-shallow-repository").decode().strip() == "true":
        raise UsageError(f"base revision '{ref}' is not in this shallow clone; fetch it (in GitHub Actions: "
                         "actions/checkout with fetch-depth: 0)")
    raise UsageError(f"base revision '{ref}' does not exist (try origin/main, or `git fetch` first)")


def tree_at(top: Path, commit: str, relative: str) -> str | None:
    """The id of the tree at `relative` in `commit` (a link to a folder followed inside the repository)."""
    spec = f"{commit}^{{tree}}" if relative == "." else f"{commit}:{relative}"
    header = run_git(top, "cat-file", "--batch-check", "--follow-symlinks", input_bytes=f"{spec}\n".encode())
    parts = header.decode(errors="replace").split()
    return parts[0] if len(parts) == 3 and parts[1] == "tree" else None


def list_tree(top: Path, tree: str) -> list[tuple[str, str, str, int, str]]:
    """(mode, type, object id, size, path) of every entry below `tree`, recursively (`git ls-tree -r -l`)."""
    entries = []
    for record in filter(None, run_git(top, "ls-tree", "-r", "-l", "-z", tree).split(b"\0")):
        meta, _, name = record.partition(b"\t")
        mode, kind, object_id, size_text = meta.decode().split()
        entries.append((mode, kind, object_id, int(size_text) if size_text.isdigit() else 0,
                        name.decode("utf-8", errors="replace")))
    return entries


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
        checked = run_git(top, "cat-file", "--batch-check", *follow,
                          input_bytes="".join(f"{name}\n" for name in names).encode()).decode(errors="replace")
        fits = [len(parts) == 3 and parts[1] == "blob" and int(parts[2]) <= max_size
                for parts in (line.split() for line in _batch_check_lines(checked, len(names)))]
        wanted = [name for name, ok in zip(names, fits, strict=True) if ok]
        small = iter(cat_files(top, wanted, follow_symlinks=follow_symlinks))
        return [next(small) if ok else None for ok in fits]
    output = run_git(top, "cat-file", "--batch", *follow, input_bytes="".join(f"{name}\n" for name in names).encode())
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
