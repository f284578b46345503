"""`remedy check`: the pull-request gate."""

from __future__ import annotations

import typer

from remedy.commands.common import choose, config_from, write
from remedy.errors import EXIT_FINDINGS, EXIT_OK

CHECK_FORMATS = ("text", "json", "markdown", "github")


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    ctx: typer.Context,
    base: str = typer.Option(..., "--base", help="The git revision to compare with, e.g. origin/main."),
    logs: list[str] | None = typer.Option(None, "--logs", help="Log export(s) to measure the change's impact."),
    strict_logs: bool = typer.Option(False, "--strict", help="Refuse malformed log lines."),
    fmt: str = typer.Option("text", "--format", help="text, json, markdown (a PR comment) or github (annotations)."),
) -> None:
    """Gate a pull request: validate, forbidden edits and deletions, new conflicts, and the impact on past logs.

    Reads the base straight from git (no checkout). Exit 1 when the change must not be merged.
    Example: remedy check --base origin/main --logs 'exports/*.jsonl.gz' --format markdown
    """
    from remedy.pull_request_check import check_change
    from remedy.report.gate import check_github, check_json, check_markdown, check_text

    choose(fmt, CHECK_FORMATS, "--format")
    options = ctx.find_root().obj or {}
    result = check_change(config_from(ctx), base, log_paths=logs, strict_logs=strict_logs,
                          config_file=options.get("config"), remediations_dir=options.get("remediations"))
    render = {"text": check_text, "json": check_json, "markdown": check_markdown, "github": check_github}[fmt]
    write(render(result))
    failed = any(problem.severity == "error" for problem in result.problems)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)
