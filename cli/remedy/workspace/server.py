"""Starting the workspace: check what was asked, open the expert's branch, then serve until interrupted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remedy.config import Config
from remedy.errors import UsageError
from remedy.serving.options import is_loopback, read_token

INSTALL_HINT = ("`remedy workspace` needs the workspace extra (Starlette, uvicorn, jinja2, python-multipart): "
                "pip install 'remedy-sme[workspace]' (docs/install.md)")


@dataclass(frozen=True)
class WorkspaceOptions:
    log_paths: tuple[str, ...]
    user: str
    email: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    token_file: str | None = None
    branch: str | None = None


@dataclass(frozen=True)
class Prepared:
    app: Any
    url: str  # the address to open (with /login?token=… when a token protects the workspace)
    branch: str
    base: str | None


def check_options(options: WorkspaceOptions) -> str | None:
    """The token, when one is needed; UsageError (exit 2) for what would be unsafe or cannot work."""
    if not options.log_paths:
        raise UsageError("--logs PATH is required (the log export(s) the issues come from)")
    if not is_loopback(options.host) and options.token_file is None:
        raise UsageError(f"--host {options.host} is not a loopback address: anyone who can reach it could change "
                         "your remediations; give --token-file FILE as well (the address to open is printed)")
    if not 0 <= options.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {options.port}")
    return read_token(options.token_file) if options.token_file is not None else None


def check_workspace_extra() -> None:
    try:
        import jinja2  # noqa: F401
        import multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def prepare(config: Config, options: WorkspaceOptions) -> Prepared:
    """Everything but listening: checks, the logs' paths, the working branch, the app (tests call this)."""
    token = check_options(options)
    check_workspace_extra()
    from remedy.logs.sources import resolve_log_paths
    from remedy.workspace.app import build_app
    from remedy.workspace.repository import Repository, writable_folders
    from remedy.workspace.security import Guard, allowed_hosts
    from remedy.workspace.service import Workspace

    resolve_log_paths(list(options.log_paths), quiet=True)  # a missing export is refused before anything changes
    repository = Repository.open(config.remediations_dir if config.remediations_dir.exists() else Path.cwd(),
                                 options.user, options.email, writable_folders(config),
                                 branch=options.branch)
    guard = Guard(allowed_hosts(options.host, options.port, is_loopback(options.host)), token=token)
    workspace = Workspace(config, options.log_paths, repository)
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{options.port}/" + (f"login?token={token}" if token else "issues")
    return Prepared(build_app(workspace, guard), url, repository.branch, repository.base)


def run_workspace(config: Config, options: WorkspaceOptions, announce: Callable[[Prepared], None]) -> None:
    from remedy.serving.server import check_port_free

    prepared = prepare(config, options)
    check_port_free(options.host, options.port)
    import uvicorn

    announce(prepared)
    uvicorn.run(prepared.app, host=options.host, port=options.port, log_level="warning", access_log=False,
                ws="none", lifespan="off", server_header=False, timeout_graceful_shutdown=5)


def default_user(where: Path) -> str:
    """The expert's handle when --user is not given: git's user.email's local part, else the login name."""
    import getpass
    import re

    from remedy.git import git_output

    email = git_output(where, "config", "user.email")
    name = email.split("@")[0] if email else getpass.getuser()
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "expert"


__all__ = ["Prepared", "WorkspaceOptions", "default_user", "prepare", "run_workspace"]
