"""Starting uvicorn for `remedy serve`: one process, or several workers that each load and watch the folder."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from remedy.errors import UsageError
from remedy.serving.options import ENVIRONMENT_VARIABLE, ServeOptions, check_options

INSTALL_HINT = ("`remedy serve` needs the serve extra (uvicorn and Starlette): pip install 'remedy-sme[serve]', or "
                "your source with [serve] (docs/install.md)")


@dataclass(frozen=True)
class Started:
    url: str
    entries: int
    revision: str | None


def check_serve_extra() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def serve_until_stopped(options: ServeOptions, announce: Callable[[Started], None]) -> None:
    """Check the options and the folder, then serve until interrupted (SIGINT/SIGTERM end it gracefully)."""
    check_options(options)
    check_serve_extra()
    import uvicorn

    from remedy.git import head_commit
    from remedy.serving import slow_clients
    from remedy.serving.app import build_reloader, create_app
    from remedy.serving.served_folder import read_servable_folder

    check_port_free(options.host, options.port)
    # The folder is checked here, before any port is opened (InputError, exit 2). One process serves the
    # folder it just loaded; with several workers each loads its own, so the parent only validates.
    reloader = build_reloader(options) if options.workers == 1 else None
    if reloader is not None:
        entries, revision = len(reloader.current.matcher.by_id), reloader.current.revision
    else:
        config, folder = read_servable_folder(options.config_file, options.remediations_dir)
        entries, revision = len(folder.remediations), head_commit(config.remediations_dir)
    host = f"[{options.host}]" if ":" in options.host else options.host
    announce(Started(f"http://{host}:{options.port}", entries, revision))
    slow_clients.limit_seconds = options.request_timeout
    settings = {"host": options.host, "port": options.port, "log_level": "warning", "access_log": False,
                "ws": "none", "lifespan": "on", "server_header": False, "timeout_graceful_shutdown": 5,
                "http": slow_clients.HeaderTimeoutProtocol}
    if reloader is not None:
        uvicorn.run(create_app(options, reloader), **settings)  # type: ignore[arg-type]
        return
    os.environ[ENVIRONMENT_VARIABLE] = options.to_environment()
    uvicorn.run("remedy.serving.app:app_from_environment", factory=True, workers=options.workers,
                **settings)  # type: ignore[arg-type]


def check_port_free(host: str, port: int) -> None:
    """Say plainly that the address is taken (uvicorn would log it and exit 1 after loading the folder)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
