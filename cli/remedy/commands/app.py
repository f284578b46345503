"""The `remedy` command: global options, the command groups, and the one place errors become exit codes."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from remedy.control_characters import visible
from remedy.errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE, RemedyError, is_interrupt, os_error_text, watch_ctrl_c


class RemedyGroup(TyperGroup):
    """Turns RemedyError into `remedy: message` and its exit code; anything else is reported as a bug."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        watch_ctrl_c()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors, --help, explicit exits
            raise
        except RemedyError as error:
            typer.echo(f"remedy: {visible(str(error))}", err=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("remedy: interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except OSError as error:  # the machine, not remedy: a full disk, a file vanished, no permission
            typer.echo(f"remedy: {visible(os_error_text(error))}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except Exception as error:  # a bug: short message, the traceback only with --debug
            if is_interrupt(error):  # Ctrl-C inside DuckDB surfaces as its own exception
                typer.echo("remedy: interrupted", err=True)
                raise typer.Exit(EXIT_INTERRUPTED) from None
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            typer.echo(f"remedy: internal error: {type(error).__name__}: {visible(str(error))} (run with --debug for "
                       "details)",
                       err=True)
            raise typer.Exit(EXIT_BUG) from None


app = typer.Typer(cls=RemedyGroup, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="Expert remediations for AI assistants: YAML files in git, matched at run time, "
                       "measured against logs.")


def _print_version(value: bool) -> None:
    if value:
        from remedy import DISTRIBUTION, installed_version

        typer.echo(f"remedy {installed_version()} ({DISTRIBUTION})")
        raise typer.Exit(0)


@app.callback()
def global_options(
    ctx: typer.Context,
    remediations: Path | None = typer.Option(None, "--remediations", help="The remediations folder "
                                                "(default: from the config, else ./remediations)."),
    config: Path | None = typer.Option(None, "--config", help="A remedy.toml or pyproject.toml to use."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for internal errors."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print remedy's version and exit."),
) -> None:
    # Core modules warn through logging; the CLI sends those lines to stderr, never into JSON on stdout.
    logging.basicConfig(stream=sys.stderr, format="remedy: %(message)s", level=logging.WARNING)
    ctx.obj = {"remediations": remediations, "config": config, "debug": debug}


def _register() -> None:
    from remedy.commands import analytics, files, gate, matching, serving, triage, workspace

    files.register(app)
    gate.register(app)
    matching.register(app)
    analytics.register(app)
    serving.register(app)
    triage.register(app)
    workspace.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        sys.exit(app(standalone_mode=True) or 0)  # type: ignore[func-returns-value]
    except KeyboardInterrupt:
        # DuckDB reports Ctrl-C as its own exception while Python's signal may still be pending: it then
        # fires on the way out, after the command already said "interrupted". Still exit 130, not SIGINT.
        sys.exit(EXIT_INTERRUPTED)
