"""`remedy workspace`: the expert's workflow in a browser (the `workspace` extra)."""

from __future__ import annotations

from pathlib import Path

import typer

from remedy.commands.common import config_from


def register(app: typer.Typer) -> None:
    app.command("workspace")(workspace)


def workspace(
    ctx: typer.Context,
    logs: list[str] = typer.Option(..., "--logs", help="Log export(s) the issues come from (repeatable; globs)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback needs "
                             "--token-file."),
    port: int = typer.Option(8765, "--port", help="TCP port."),
    user: str | None = typer.Option(None, "--user", help="Your handle: the commits' author and the branch "
                                    "remedy/<user> (default: from git's user.email)."),
    email: str | None = typer.Option(None, "--email", help="The commits' author e-mail (default: git's "
                                     "user.email without --user, else <user>@users.noreply.invalid)."),
    branch: str | None = typer.Option(None, "--branch", help="The working branch (default: remedy/<user>)."),
    token_file: Path | None = typer.Option(None, "--token-file", help="A file holding the token a browser must "
                                           "present (required off loopback); the address to open is printed."),
) -> None:
    """The Expert Workspace: the issue queue, an issue, yes / no / skip, drafts, remediations, in a browser.

    Every save writes the files the commands write and commits them on your working branch (remedy/<user>,
    created from the current branch); "Send for review" pushes it. Docs: docs/workspace.md.
    Example: remedy workspace --logs exports/logs.jsonl --user alice
    """
    from remedy.git import git_output
    from remedy.workspace.server import WorkspaceOptions, default_user, run_workspace

    config = config_from(ctx)
    if user is None:
        user = default_user(Path.cwd())
        if email is None:
            email = git_output(Path.cwd(), "config", "user.email")
    options = WorkspaceOptions(log_paths=tuple(logs), user=user, email=email, host=host, port=port,
                               token_file=str(token_file.resolve()) if token_file else None, branch=branch)

    def announce(prepared) -> None:  # noqa: ANN001
        base = f" (created from {prepared.base})" if prepared.base else ""
        typer.echo(f"remedy: workspace on {prepared.url} ; saves commit on {prepared.branch}{base}; Ctrl-C stops",
                   err=True)

    run_workspace(config, options, announce)
