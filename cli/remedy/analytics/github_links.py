"""The report's links to GitHub's new-file page: the repository's web address, checked, and the link itself.

Why a check: the address ends up in an `href` that a reviewer clicks. Escaping keeps it inside the
attribute, but only the scheme decides whether a click runs script (`javascript:`, `data:`), so the
address must be an http(s) URL with a plain host and path; anything else is refused (`--repo-url`)
or dropped (an odd `origin` remote: the page then says how to get the link).
"""

from __future__ import annotations

import re

from remedy.errors import UsageError

# A web address of a repository: a scheme, a host name (optionally a port), a path of URL-safe characters.
_WEB_URL = re.compile(r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?(?:/[A-Za-z0-9._~%+-]+)+")


def normalize_repo_url(url: str) -> str:
    """https://host/owner/repo from an ssh or https remote URL, without credentials or `.git`."""
    url = url.strip()
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", url)  # git@github.com:owner/repo.git
    if scp:
        host, path = scp.groups()
    else:
        match = re.fullmatch(r"(?:ssh|git|https?)://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.+)", url)
        if not match:
            return url.rstrip("/")
        host, path = match.groups()
        if url.lower().startswith("http://"):  # a plain-http server (an intranet) has no https side to assume
            return f"http://{host}/{_strip_git(path.strip('/'))}"
    return f"https://{host}/{_strip_git(path.strip('/'))}"


def _strip_git(path: str) -> str:
    return path[:-4] if path.endswith(".git") else path


def web_repo_url(url: str) -> str | None:
    """The normalized web address of `url`, or None when it is not an http(s) URL of host and path."""
    normalized = normalize_repo_url(url)
    return normalized if _WEB_URL.fullmatch(normalized) else None


def check_repo_url(url: str, option: str = "--repo-url") -> str:
    """`web_repo_url`, or a UsageError (exit 2) that says what is expected."""
    checked = web_repo_url(url)
    if checked is None:
        raise UsageError(f"{option} must be the repository's web address, an https:// (or http://) URL like "
                         f"https://github.com/owner/repo, not {url!r}")
    return checked


def github_new_file_url(repo: str, branch: str, path: str, text: str) -> str:
    """GitHub's 'create new file' page prefilled with `path` and `text`, from which a pull request is one click."""
    from urllib.parse import quote

    return f"{repo}/new/{quote(branch, safe='')}?filename={quote(path, safe='/')}&value={quote(text, safe='')}"
