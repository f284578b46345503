"""The expert's working branch: every save is one commit on `remedy/<user>`, with the expert as author.

A save runs a core function (the one the CLI command calls) inside `Repository.save`: the remediation and
triage folders are read before and after, the files that differ are committed (and only those), and on any
error, from the core function or from git (a hook that refuses, no identity), every file is put back as it
was and nothing stays staged: the checkout is never left half-changed. Saves run one at a time (a lock),
and each first checks that the checkout is still on the working branch: remedy never commits on a branch the
expert did not choose. "Send for review" pushes that branch without force and names the pull-request page.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import quote

from remedy.analytics.github_links import web_repo_url
from remedy.config import Config
from remedy.errors import RefusedError, UsageError
from remedy.git import git_output, repository_root, run_git

T = TypeVar("T")
PUSH_TIMEOUT_SECONDS = 60
_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,38}$")
# git must never wait for a person at a terminal nobody is watching: no password prompt, no ssh question.
_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false",
              "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}


@dataclass(frozen=True)
class Saved(Generic[T]):
    result: T
    commit: str | None  # None: the core function changed no file
    files: tuple[str, ...]  # repository-relative paths committed


@dataclass(frozen=True)
class Pushed:
    ok: bool
    remote: str | None
    message: str  # git's own words when it failed
    pull_request: str | None  # the GitHub / GitLab page that opens a pull / merge request


def check_handle(user: str) -> str:
    handle = user.lstrip("@")
    if not _HANDLE.fullmatch(handle):
        raise UsageError(f"--user must be a handle (letters, digits, '.', '_', '-'), not {user!r}")
    return handle


class Repository:
    """The git checkout the expert works in, switched to the working branch when the workspace starts."""

    def __init__(self, top: Path, branch: str, base: str | None, author_name: str, author_email: str,
                 folders: Iterable[Path]) -> None:
        self.top, self.branch, self.base = top, branch, base
        self.author_name, self.author_email = author_name, author_email
        self.folders = tuple(folders)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, start: Path, user: str, email: str | None, folders: Iterable[Path],
             branch: str | None = None) -> Repository:
        """Find the repository, and check out the working branch (created from the current branch)."""
        top = repository_root(start)
        if top is None:
            raise UsageError(f"{start} is not inside a git repository: the workspace commits every save "
                             "(git init, or start it in your remediations checkout)")
        handle = check_handle(user)
        branch = branch or f"remedy/{handle}"
        if git_output(top, "check-ref-format", "--branch", branch) is None:
            raise UsageError(f"--branch: {branch!r} is not a valid git branch name")
        current = current_branch(top)
        base = current if current != branch else None
        if current != branch:
            exists = git_output(top, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}") is not None
            # `git switch` refuses itself when local changes would be overwritten: its message goes to the expert.
            run_git(top, "switch", "-q", *((branch,) if exists else ("-c", branch)))
        return cls(top, branch, base, handle, email or f"{handle}@users.noreply.invalid", folders)

    def save(self, message: str, action: Callable[[], T]) -> Saved[T]:
        """Run `action` (a core function that writes files) and commit what it changed, or undo it all."""
        with self._lock:
            on = current_branch(self.top)
            if on != self.branch:
                raise RefusedError(f"the checkout is on {on or 'a detached HEAD'} now, not on {self.branch}: "
                                   f"nothing saved (switch back with `git switch {self.branch}`)")
            before = self._snapshot()
            try:
                result = action()
                after = self._snapshot()
                changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
                if not changed:
                    return Saved(result, None, ())
                names = [os.path.relpath(path, self.top) for path in changed]
                run_git(self.top, "add", "-A", "--", *names)
                run_git(self.top, "commit", "-q", "--author", f"{self.author_name} <{self.author_email}>",
                        "-m", message, "--", *names)
                commit = run_git(self.top, "rev-parse", "HEAD").decode().strip()
                return Saved(result, commit, tuple(names))
            except BaseException:
                self._restore(before)
                raise

    def push(self) -> Pushed:
        """Push the working branch to its remote (its upstream's, else origin, else the only one); never force."""
        remote = self.remote()
        if remote is None:
            return Pushed(False, None, "this repository has no remote: add one (git remote add origin URL), "
                          "then send again; your commits stay on the branch meanwhile", None)
        ref = f"refs/heads/{self.branch}"
        try:
            done = subprocess.run(["git", "-C", str(self.top), "push", "--porcelain", remote, f"{ref}:{ref}"],
                                  capture_output=True, text=True, check=False, timeout=PUSH_TIMEOUT_SECONDS,
                                  env={**os.environ, **_NO_PROMPT})
        except subprocess.TimeoutExpired:
            return Pushed(False, remote, f"git push {remote} took longer than {PUSH_TIMEOUT_SECONDS} s", None)
        if done.returncode != 0:
            said = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}")
            return Pushed(False, remote, f"git push {remote} {self.branch} failed: {said}", None)
        return Pushed(True, remote, f"pushed {self.branch} to {remote}", self.pull_request_url(remote))

    def remote(self) -> str | None:
        configured = git_output(self.top, "config", f"branch.{self.branch}.remote")
        remotes = (git_output(self.top, "remote") or "").split()
        if configured in remotes:
            return configured
        if "origin" in remotes:
            return "origin"
        return remotes[0] if len(remotes) == 1 else None

    def pull_request_url(self, remote: str) -> str | None:
        """GitHub's compare page or GitLab's new merge request page for the branch; None for other hosts."""
        url = git_output(self.top, "remote", "get-url", remote)
        web = web_repo_url(url) if url else None
        if web is None:
            return None
        branch = quote(self.branch, safe="")
        if re.match(r"https?://(www\.)?github\.com/", web):
            base = f"{quote(self.base, safe='')}..." if self.base else ""
            return f"{web}/compare/{base}{branch}?expand=1"
        if re.match(r"https?://([\w-]+\.)*gitlab\.", web):
            target = f"&merge_request%5Btarget_branch%5D={quote(self.base, safe='')}" if self.base else ""
            return f"{web}/-/merge_requests/new?merge_request%5Bsource_branch%5D={branch}{target}"
        return None

    def history(self, path: Path, limit: int = 20) -> list[tuple[str, str, str, str]]:
        """(commit, date, author, subject) of the commits that changed `path`, newest first."""
        out = git_output(self.top, "log", f"-{limit}", "--no-color", "--format=%h%x09%aI%x09%an%x09%s", "--",
                         str(path))
        return [tuple(line.split("\t", 3)) for line in (out or "").splitlines() if line.count("\t") >= 3]  # type: ignore[misc]

    def _snapshot(self) -> dict[Path, bytes]:
        files: dict[Path, bytes] = {}
        for folder in self.folders:
            if folder.is_dir():
                for path in folder.rglob("*"):
                    if path.suffix in (".yaml", ".yml") and not path.name.startswith(".") and path.is_file():
                        files[path.resolve()] = path.read_bytes()
        return files

    def _restore(self, before: dict[Path, bytes]) -> None:
        """Put every file back as `before` had it, and unstage what a failed commit left in the index."""
        after = self._snapshot()
        for path in after.keys() - before.keys():
            path.unlink(missing_ok=True)
        for path, data in before.items():
            if after.get(path) != data:
                from remedy.files.atomic import write_atomically

                write_atomically(path, data)
        touched = [os.path.relpath(p, self.top) for p in before.keys() | after.keys() if before.get(p) != after.get(p)]
        if touched:
            git_output(self.top, "reset", "-q", "--", *touched)


def current_branch(top: Path) -> str | None:
    return git_output(top, "symbolic-ref", "--short", "-q", "HEAD")


def writable_folders(config: Config) -> tuple[Path, ...]:
    """The folders a save may write and commit in: remediations, triage, and the topic files beside triage
    (a review that judges part of a topic keeps the rest open there)."""
    from remedy.files.topic_files import topics_dir

    return config.remediations_dir, config.triage_dir, topics_dir(config.triage_dir)
