"""`remedy serve`: the run-time decisions over HTTP (the `serve` extra)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback needs "
                             "--token-file (or --insecure)."),
    port: int = typer.Option(8484, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes; each loads and watches the folder."),
    token_file: Path | None = typer.Option(None, "--token-file", help="A file holding the bearer token clients "
                                           "must send (Authorization: Bearer TOKEN); enables POST /v1/reload."),
    log_dir: Path | None = typer.Option(None, "--log-dir", help="Append every decision to DIR/serve-DAY.jsonl "
                                        "in remedy's log format (for `remedy coverage --logs DIR`)."),
    insecure: bool = typer.Option(False, "--insecure", help="Allow a non-loopback --host without a token."),
    poll: float = typer.Option(0.5, "--poll", help="Seconds between checks of the folder for changes "
                               "(0: only POST /v1/reload reloads)."),
    request_timeout: float = typer.Option(10.0, "--request-timeout", help="Seconds a client has to send a "
                                          "request's headers, and again its body (else 408 and the connection "
                                          "is closed)."),
) -> None:
    """Serve the run-time decisions over HTTP: POST /v1/match, GET /v1/health, GET /v1/remediations.

    The folder is reloaded when its files change; a change that fails validation is not loaded and the
    last good folder keeps serving. Needs the serve extra: pip install 'remedy-sme[serve]' (docs/install.md).
    Docs: docs/serving.md.
    Example: remedy serve --log-dir serving-logs
    """
    from remedy.serving.options import ServeOptions
    from remedy.serving.server import Started, serve_until_stopped

    root = ctx.find_root().obj or {}

    def absolute(path: Path | None) -> str | None:
        return str(path.resolve()) if path is not None else None

    options = ServeOptions(host=host, port=port, workers=workers, token_file=absolute(token_file),
                           log_dir=absolute(log_dir), insecure=insecure, poll_seconds=poll,
                           request_timeout=request_timeout,
                           config_file=absolute(root.get("config")),
                           remediations_dir=absolute(root.get("remediations")))

    def announce(started: Started) -> None:
        revision = f" at {started.revision[:12]}" if started.revision else ""
        where = f"; decisions logged to {log_dir}" if log_dir else ""
        typer.echo(f"remedy: serving {started.entries} remediations{revision} on {started.url} "
                   f"({workers} worker{'s' if workers > 1 else ''}){where}", err=True)

    serve_until_stopped(options, announce)
