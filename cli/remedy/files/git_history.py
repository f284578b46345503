"""Created / last edited / last edited by, read from git history (one `git log` for the whole folder).

Besides the dates, who *authored* each remediation's content, for the report's contributions: a commit
counts when it changes a line other than `status:` / `activated:` (an activation is not authorship),
and a file's first commit does not count while it is a scaffold nobody wrote (one of `remedy init`'s
examples, or a draft whose text is still a placeholder such as `new --from-issue`'s TODO).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from remedy.git import git_output, repository_root


@dataclass(frozen=True)
class FileHistory:
    created: datetime.datetime
    updated: datetime.datetime
    updated_by: str
    created_by: str
    # Who wrote the content: the author of the first authoring commit (None: nobody yet), and the authors
    # of the authoring commits after it, sorted (for contributions per author).
    author: str | None = None
    editors: tuple[str, ...] = ()


def folder_history(remediations_dir: Path) -> dict[Path, FileHistory]:
    """History of every committed file under `folder`, by resolved path; empty outside git."""
    root = repository_root(remediations_dir)
    if root is None or not remediations_dir.is_dir():
        return {}
    log = git_output(remediations_dir, "-c", "core.quotepath=off", "log", "--no-renames", "--no-color", "-p",
                     "--unified=0", "--format=%x00%aI%x09%an", "--", ".")
    if not log:
        return {}
    newest: dict[str, tuple[str, str]] = {}
    oldest: dict[str, tuple[str, str]] = {}
    authored: dict[str, list[str]] = {}  # authors of the commits that wrote content, newest first
    for entry in log.split("\0")[1:]:
        header, _, patch = entry.partition("\n")
        when, _, author = header.partition("\t")
        for name, lines, created in _file_changes(patch):
            newest.setdefault(name, (when, author))  # log runs newest first
            oldest[name] = (when, author)
            if _authors_content(lines, created):
                authored.setdefault(name, []).append(author)
    history = {}
    for name, (when, author) in newest.items():
        writers = authored.get(name, [])
        history[(root / name).resolve()] = FileHistory(
            created=datetime.datetime.fromisoformat(oldest[name][0]),
            updated=datetime.datetime.fromisoformat(when),
            updated_by=author,
            created_by=oldest[name][1],
            author=writers[-1] if writers else None,
            editors=tuple(sorted(set(writers[:-1]))),
        )
    return history


_STATUS_LINE = re.compile(r"^(status|activated):")


def _file_changes(patch: str) -> list[tuple[str, list[str], bool]]:
    """(path, changed lines with their +/- sign, whether the commit created the file) per file of a commit."""
    changes: list[tuple[str, list[str], bool]] = []
    for block in re.split(r"^diff --git ", patch, flags=re.M)[1:]:
        head, _, body = block.partition("\n@@")
        after = re.search(r"^\+\+\+ b/(.+)$", head, flags=re.M)  # the file's name after the commit
        before = re.search(r"^--- a/(.+)$", head, flags=re.M)  # a deleted file has only this one
        if after or before:
            name = (after or before)[1]  # type: ignore[index]
        else:  # no hunks (a binary file, a mode change): the first line is `a/NAME b/NAME`
            name = head.split("\n", 1)[0].rpartition(" b/")[2]
        lines = [line for line in body.splitlines() if line[:1] in ("+", "-")]
        changes.append((name.strip(), lines, "\nnew file mode" in "\n" + head))
    return changes


def _authors_content(lines: list[str], created: bool) -> bool:
    """Whether a commit's changed lines of one file are content someone wrote."""
    content = [line for line in lines if not _STATUS_LINE.match(line[1:])]
    if not content:
        return False  # a status flip (activate / pause), or a change of nothing
    if created:
        added = [line[1:] for line in lines if line.startswith("+")]
        if _is_scaffold(added):
            return False
    return True


def _is_scaffold(added: list[str]) -> bool:
    """A created file nobody wrote: one of `remedy init`'s examples, or a draft still holding a placeholder."""
    from remedy.placeholders import has_placeholder

    text = "\n".join(added)
    return has_placeholder(text) or any(_same_lines(added, example) for example in _init_examples())


def _same_lines(added: list[str], template: str) -> bool:
    return [line.rstrip() for line in added if line.strip()] == \
        [line.rstrip() for line in template.splitlines() if line.strip()]


def _init_examples() -> tuple[str, ...]:
    from importlib import resources

    folder = resources.files("remedy") / "templates"
    return tuple((folder / name).read_text(encoding="utf-8") for name in
                 ("example-answer.yaml", "example-guidance.yaml", "example-review.yaml"))
