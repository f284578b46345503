"""Commands over log exports: coverage, issues, issue, preview, report."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from remedy.commands.common import choose, config_from, write
from remedy.errors import UsageError
from remedy.report.tables import FORMATS, json_document, render

LOGS = typer.Option(..., "--logs", help="Log export(s): JSONL, .jsonl.gz, Parquet or CSV; globs allowed (repeatable).")
SINCE = typer.Option(None, "--since", help="Only logs at or after this date/time (ISO 8601).")
UNTIL = typer.Option(None, "--until", help="Only logs before this date/time (ISO 8601).")
STRICT = typer.Option(False, "--strict", help="Refuse the first malformed log line instead of skipping it.")
FORMAT = typer.Option("table", "--format", help="table, json, csv or markdown.")
HALF_LIFE = typer.Option(None, "--half-life", help="Recency weight of impact, e.g. 14d, 36h, 2w; inf for none "
                         "(default: [issues] half_life in the config, else 14d).")
STATE = typer.Option(None, "--state", help="As given to `remedy issues` (default: open,assigned).")
ENGINE = typer.Option("local", "--engine", help="local (one process) or ray (Ray Data; needs remedy-sme[ray]).")
RAY_ADDRESS = typer.Option(None, "--ray-address",
                           help="With --engine ray: the cluster to join (e.g. ray://head:10001); default a local one.")


def register(app: typer.Typer) -> None:
    for name, command in (("coverage", coverage), ("issues", issues), ("issue", issue), ("preview", preview),
                          ("report", report)):
        app.command(name)(command)


def parse_time(value: str | None, option: str) -> datetime.datetime | None:
    if value is None:
        return None
    from remedy.durations import parse_moment

    try:
        return parse_moment(value)
    except ValueError:
        raise UsageError(f"{option} must be an ISO 8601 date or time like 2026-11-01, not {value!r}") from None


def progress_for(fmt: str):  # noqa: ANN201 - a Progress callback or None
    """A one-line progress display on stderr, only for a person watching a terminal."""
    if fmt == "json" or not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{stage}: {done:,}/{total:,} ({100 * done / max(total, 1):.0f}%)\033[K{end}")
        sys.stderr.flush()

    return show


def report_skipped(skipped_lines: int, first_skipped: Sequence[Any]) -> None:
    if skipped_lines:
        first = "; ".join(str(line) for line in first_skipped)
        typer.echo(f"remedy: skipped {skipped_lines:,} malformed log line(s) (--strict refuses them): {first}",
                   err=True)


def check_engine(engine: str, ray_address: str | None) -> None:
    choose(engine, ("local", "ray"), "--engine")
    if ray_address and engine != "ray":
        raise UsageError("--ray-address needs --engine ray")


def _analyse(ctx: typer.Context, logs: list[str], since: str | None, until: str | None, strict: bool,
             fmt: str, *, rows: bool = False, failure_logs: bool = False, engine: str = "local",
             ray_address: str | None = None, partials: dict[str, str] | None = None) -> Any:
    from remedy.analytics.analysis import analyse

    check_engine(engine, ray_address)
    analysis = analyse(config_from(ctx), logs, since=parse_time(since, "--since"), until=parse_time(until, "--until"),
                       strict=strict, progress=progress_for(fmt), rows=rows, failure_logs=failure_logs, engine=engine,
                       ray_address=ray_address, partials=partials)
    report_skipped(analysis.logs.skipped_lines, analysis.logs.first_skipped)
    return analysis


def coverage(
    ctx: typer.Context, logs: list[str] = LOGS, since: str | None = SINCE, until: str | None = UNTIL,
    status: str | None = typer.Option(None, "--status", help="Only remediations with this status."),
    kind: str | None = typer.Option(None, "--kind", help="Only remediations of this kind."),
    attributions: Path | None = typer.Option(None, "--attributions",
                                                help="Write one row per attributed log (.jsonl or .parquet)."),
    strict: bool = STRICT, fmt: str = FORMAT, engine: str = ENGINE, ray_address: str | None = RAY_ADDRESS,
) -> None:
    """Per remediation: covered failures, covered logs, preventions; the overall addressed share.

    Example: remedy coverage --logs 'exports/*.jsonl.gz' --since 2026-10-01
    """
    from remedy.analytics.coverage import (
        check_attributions_path,
        coverage_partials,
        coverage_report,
        write_attributions,
    )
    from remedy.report.analytics import COVERAGE, coverage_summary

    choose(fmt, FORMATS, "--format")
    if status:
        choose(status, ("draft", "active", "paused"), "--status")
    if kind:
        choose(kind, ("answer", "guidance", "review"), "--kind")
    if attributions is not None:
        check_attributions_path(attributions, logs, config_from(ctx))
    # failure logs on the driver and the serves partial: failures prevented and triaged away on either engine
    analysis = _analyse(ctx, logs, since, until, strict, fmt, rows=attributions is not None, engine=engine,
                        ray_address=ray_address, partials=coverage_partials(), failure_logs=True)
    report = coverage_report(analysis, status=status, kind=kind)
    write(render(report, fmt, COVERAGE))
    if fmt == "csv":  # a CSV file is one table: its totals go beside it
        typer.echo(coverage_summary(report), err=True)
    if attributions is not None:
        count = write_attributions(analysis, attributions)
        typer.echo(f"wrote {count:,} attributions to {attributions}", err=True)


def issues(
    ctx: typer.Context, logs: list[str] = LOGS, since: str | None = SINCE, until: str | None = UNTIL,
    state: str | None = typer.Option(None, "--state", help="open, assigned, addressed, no_action_needed, wont_fix "
                                     "or all; comma-separated (default: open,assigned)."),
    assignee: str | None = typer.Option(None, "--assignee", help="Only issues assigned to this handle (alice, @alice "
                                        "and @Alice alike, as `list --owner`)."),
    status: str = typer.Option("unaddressed", "--status", help="unaddressed, addressed (by remediations) or all."),
    primary_issue: str | None = typer.Option(None, "--primary-issue", help="e.g. hallucination, search_failure; "
                                             "an unknown one exits 2 with the known ones."),
    half_life: str | None = HALF_LIFE,
    top: int = typer.Option(20, "--top", help="How many issues (0: all)."),
    strict: bool = STRICT, fmt: str = FORMAT, engine: str = ENGINE, ray_address: str | None = RAY_ADDRESS,
) -> None:
    """Topics of unaddressed failures, ranked by impact = sum of severity x 2^(-age / half_life).

    Example: remedy issues --logs 'exports/*.jsonl.gz' --state open --assignee @alice
    """
    from remedy.analytics.issue_queue import STATUSES, issue_queue, parse_states
    from remedy.analytics.printed_queue import QueueOptions, save_printed_queue
    from remedy.report.analytics import ISSUES, issues_footnote

    choose(fmt, FORMATS, "--format")
    choose(status, STATUSES, "--status")
    analysis = _analyse(ctx, logs, since, until, strict, fmt, failure_logs=True, engine=engine,
                        ray_address=ray_address)
    options = QueueOptions(status=status, primary_issue=primary_issue, states=parse_states(state), assignee=assignee,
                           half_life=parse_half_life(half_life))
    report = issue_queue(analysis, top=top or None, **options.filters()).report()
    write(render(report, fmt, ISSUES))
    save_printed_queue(config_from(ctx), report.issues, logs, options)  # a rank typed later means what was shown
    if fmt == "csv":
        typer.echo(issues_footnote(report), err=True)


def parse_half_life(value: str | None) -> float | None:
    from remedy.durations import parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as error:
        raise UsageError(f"--half-life must be {error}") from None


def issue(
    ctx: typer.Context, key: str = typer.Argument(..., help="The issue id, or its rank in the queue `remedy issues` "
                                                 "printed last (refused if the queue has changed since)."),
    logs: list[str] = LOGS, since: str | None = SINCE, until: str | None = UNTIL,
    state: str | None = STATE,
    status: str = typer.Option("unaddressed", "--status", help="As given to `remedy issues`."),
    primary_issue: str | None = typer.Option(None, "--primary-issue", help="As given to `remedy issues`."),
    half_life: str | None = HALF_LIFE,
    limit: int = typer.Option(50, "--limit", help="How many logs to show (0: all)."),
    strict: bool = STRICT,
    fmt: str = typer.Option("table", "--format", help="table, json, csv (its logs) or markdown."),
) -> None:
    """One issue in full: its queries, responses, context, scores, and the command that remediates it."""
    from remedy.analytics.issue_queue import find_issue, issue_detail, parse_states
    from remedy.report.analytics import ISSUE

    choose(fmt, FORMATS, "--format")
    analysis = _analyse(ctx, logs, since, until, strict, fmt)
    found = find_issue(analysis, key, status=status, primary_issue=primary_issue, states=parse_states(state),
                       half_life=parse_half_life(half_life))
    write(render(issue_detail(analysis, found, logs, limit=limit or None), fmt, ISSUE))


def preview(
    ctx: typer.Context, remediation_id: str = typer.Argument(..., help="The entry to preview (usually a draft)."),
    logs: list[str] = LOGS, since: str | None = SINCE, until: str | None = UNTIL,
    strict: bool = STRICT, fmt: str = FORMAT,
) -> None:
    """Every past log ID would capture once active, failures and non-failures, most doubtful first."""
    from remedy.analytics.preview import preview_entry
    from remedy.report.analytics import PREVIEW, preview_summary

    choose(fmt, FORMATS, "--format")
    report = preview_entry(config_from(ctx), remediation_id, logs, strict=strict,
                           since=parse_time(since, "--since"), until=parse_time(until, "--until"),
                           progress=progress_for(fmt))
    write(render(report, fmt, PREVIEW))
    if report.uncalibrated:
        typer.echo(report.uncalibrated, err=True)
    if fmt == "csv":
        typer.echo(preview_summary(report), err=True)


def report(
    ctx: typer.Context, logs: list[str] = LOGS,
    since: str | None = typer.Option(None, "--since", help="The period starts here (ISO 8601); the headline "
                                     "compares it with the previous period of the same length."),
    until: str | None = typer.Option(None, "--until", help="The period ends before this time (default: the "
                                     "midnight after the newest log)."),
    out: Path | None = typer.Option(None, "--out", help="The HTML file to write (required unless --format json)."),
    repo_url: str | None = typer.Option(None, "--repo-url", help="The repository's web URL for the Create Expert "
                                        "Answer links (default: from `git remote get-url origin`)."),
    top: int = typer.Option(10, "--top", help="How many unaddressed issues the queue shows."),
    strict: bool = STRICT,
    fmt: str = typer.Option("html", "--format", help="html (to --out) or json (to stdout, or to --out)."),
    engine: str = ENGINE, ray_address: str | None = RAY_ADDRESS,
) -> None:
    """One self-contained HTML page: headline, over time, root causes, remediations, contributions, the queue.

    Example: remedy report --logs 'exports/*.jsonl.gz' --since 2026-10-01 --out report.html
    """
    from remedy.analytics.github_links import check_repo_url
    from remedy.analytics.report import build_report
    from remedy.files.atomic import write_atomically
    from remedy.files.outputs import refuse_output_in_project, refuse_output_over_inputs
    from remedy.logs.reading import resolve_log_paths
    from remedy.report.html_page import render_page

    choose(fmt, ("html", "json"), "--format")
    check_engine(engine, ray_address)
    if top < 1:
        raise UsageError(f"--top must be at least 1, not {top}")
    if repo_url is not None:  # before reading any log: the address goes into every link of the page
        check_repo_url(repo_url)
    if fmt == "html" and out is None:
        raise UsageError("--out FILE.html is required (or --format json to print the data)")
    config = config_from(ctx)
    if out is not None:  # URIs (s3://…, on --engine ray) cannot be the local --out file
        local = [path for path in logs if "://" not in path]
        refuse_output_over_inputs(out, [log_file.path for log_file in resolve_log_paths(local, quiet=True)],
                                  option="--out")
        refuse_output_in_project(out, config, option="--out")
    data = build_report(config, logs, since=parse_time(since, "--since"), until=parse_time(until, "--until"),
                        top=top, repo_url=repo_url, strict=strict, progress=progress_for(fmt), engine=engine,
                        ray_address=ray_address)
    report_skipped(data.skipped_lines, data.first_skipped)
    if fmt == "json":
        text = json_document(data)
        if out is None:
            write(text)
            return
    else:
        text = render_page(data)
    assert out is not None
    write_atomically(out, text)
    typer.echo(f"wrote {out} ({len(text.encode()):,} bytes)", err=True)
