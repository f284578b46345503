"""Commands that read and change remediation files: init, new, validate, activate, pause, list, owners, schema."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from remedy.commands.common import choose, config_from, write
from remedy.errors import EXIT_FINDINGS, EXIT_OK
from remedy.files.schema import KINDS, STATUSES
from remedy.report.tables import FORMATS

VALIDATE_FORMATS = ("auto", "text", "json", "github")


def register(app: typer.Typer) -> None:
    for command in (init, validate, activate, pause, list_command, owners, schema):
        name = "list" if command is list_command else command.__name__
        app.command(name)(command)
    app.add_typer(new_app, name="new")


def init(
    directory: Path = typer.Argument(Path("."), help="Where to create the project (default: here)."),
    install_from: str | None = typer.Option(
        None, "--install-from", help="Where CI and pre-commit install remedy from: git+https://HOST/ORG/REPO@TAG, "
        "a remedy_sme-….whl path (relative to DIR) or URL, or a checkout's folder (default: remedy-sme==THIS "
        "VERSION from the package index). docs/install.md."),
) -> None:
    """Start a project: remedy.toml, remediations/ with one example of each kind, a CI workflow.

    Prints the pre-commit lines for the same install source.
    Example: remedy init my-assistant --install-from git+https://github.com/acme/remedy@v0.1.0
    """
    from remedy.project_init import init_project

    done = init_project(directory, install_from)
    for result in done.files:
        write(f"{'created' if result.created else 'kept   '} {result.path}\n")
    workflow = next(result for result in done.files if result.path.name == "remedy.yml")
    verb = "installs" if workflow.created else "was kept as it was; for this source it would install"
    write(f"\nthe workflow {verb} {done.source.describe()}: pip install {done.source.pip_argument()}\n")
    if done.source.kind == "index":
        write("(until that release is on the package index, choose your own source with --install-from: "
              "docs/install.md)\n")
    write("\nfor pre-commit, add to .pre-commit-config.yaml:\n" + done.precommit)


def validate(
    ctx: typer.Context,
    fmt: str = typer.Option("auto", "--format", help="text, json, github (auto: github inside GitHub Actions)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too."),
    semantic: bool = typer.Option(True, "--semantic/--no-semantic", help="Also run the rules that need the model."),
) -> None:
    """Check every remediation file: schema, ids, duplicates, conflicts, lint.

    Prints `file:line:col: CODE severity: message`, then the totals; exits 1 when there are errors (or warnings
    with --strict).
    """
    from remedy.report.problems import github_notice, problems_github, problems_json, problems_summary, problems_text
    from remedy.validation import validate as validate_folder

    choose(fmt, VALIDATE_FORMATS, "--format")
    if fmt == "auto":
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    result = validate_folder(config_from(ctx), semantic=semantic)
    judge = result.judge.describe() if result.judge else None
    if fmt == "json":
        write(problems_json(result.problems, judge=result.judge.as_dict() if result.judge else None))
    elif fmt == "github":
        write(problems_github(result.problems) + (github_notice(judge) if judge else ""))
    else:
        write(problems_text(result.problems) + problems_summary(result.problems, result.files)
              + "\n" + (f"{judge}\n" if judge else ""))
    failed = any(p.severity == "error" or strict for p in result.problems)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def activate(ctx: typer.Context, ids: list[str] = typer.Argument(..., help="Ids to activate.")) -> None:
    """Make remediations active (served), stamping `activated`; refused if it would break a rule."""
    _set_status(ctx, ids, "active")


def pause(ctx: typer.Context, ids: list[str] = typer.Argument(..., help="Ids to pause.")) -> None:
    """Pause remediations: no longer served, history kept."""
    _set_status(ctx, ids, "paused")


def _set_status(ctx: typer.Context, ids: list[str], status: str) -> None:
    from remedy.lifecycle import change_status

    for change in change_status(config_from(ctx), ids, status):
        verb = f"{change.old_status} -> {change.new_status}" if change.changed else f"already {change.new_status}"
        write(f"{change.id}: {verb} ({change.file})\n")


def list_command(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="draft, active or paused."),
    kind: str | None = typer.Option(None, "--kind", help="answer, guidance or review."),
    owner: str | None = typer.Option(None, "--owner", help="Only entries this handle owns (@name, @org/team, "
                                                          "e-mail; own key or [owners] default)."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
) -> None:
    """List remediations with status, created, last edited and by whom (from git history), and owners."""
    from remedy.listing import COLUMNS, list_remediations
    from remedy.report.tables import View, render

    choose(fmt, FORMATS, "--format")
    if status:
        choose(status, STATUSES, "--status")
    if kind:
        choose(kind, KINDS, "--kind")
    listed = list_remediations(config_from(ctx), status=status, kind=kind, owner=owner)
    write(render(listed, fmt, View(rows="remediations", columns=COLUMNS)))


def owners(
    ctx: typer.Context,
    write_file: bool = typer.Option(False, "--write", help="Bring the remedy block of .github/CODEOWNERS up to "
                                                           "date (created when missing)."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
) -> None:
    """Who reviews each remediation: its own `owners`, else the last matching [owners] glob of the config.

    With --write, keeps the block between `# BEGIN remedy owners` and `# END remedy owners` of
    CODEOWNERS in sync, so GitHub asks the owners to review changes; the rest of the file is kept.
    Example: remedy owners --write && git add .github/CODEOWNERS
    """
    from remedy.owners.overview import owners_overview, write_owners
    from remedy.report.owners import OWNERS, owners_summary, write_result
    from remedy.report.tables import render

    choose(fmt, FORMATS, "--format")
    config = config_from(ctx)
    if write_file:
        write(write_result(write_owners(config), fmt))
        return
    report = owners_overview(config)
    write(render(report, fmt, OWNERS))
    if fmt == "csv":  # a CSV file is one table: its totals go beside it
        typer.echo(owners_summary(report), err=True)


def schema() -> None:
    """Print the JSON Schema of remediation files (for editor completion and checking)."""
    from remedy.files.schema import json_schema
    from remedy.report.tables import json_document

    write(json_document(json_schema()))


new_app = typer.Typer(no_args_is_help=True, help="Scaffold a draft remediation file.")


def _scaffold(ctx: typer.Context, draft_kind: str, question: str | None, text: str | None, *,
              verdict: str | None = None, note: str | None = None, also_match: list[str] | None = None,
              must_not_match: list[str] | None = None, tag: list[str] | None = None,
              remediation_id: str | None = None, from_log: str | None = None,
              from_issue: str | None = None, logs: list[str] | None = None, since: str | None = None,
              until: str | None = None, from_id: str | None = None) -> None:
    from remedy.commands.analytics import parse_time
    from remedy.errors import UsageError
    from remedy.files.folder import display_path
    from remedy.files.scaffold import Draft, write_draft

    config = config_from(ctx)
    if sum(bool(option) for option in (from_log, from_issue, from_id)) > 1:
        raise UsageError("use one of --from, --from-log and --from-issue")
    if (from_log or from_issue) and not logs:
        raise UsageError("--from-log and --from-issue need --logs PATH")
    if (since or until) and not from_issue:
        raise UsageError("--since and --until choose the logs of --from-issue; use them with --from-issue")
    if from_id:
        from remedy.files.scaffold import draft_replacing

        draft = draft_replacing(config.remediations_dir, from_id)
        draft.question = question or draft.question
        draft.text = text or draft.text
    elif from_log or from_issue:
        from remedy.analytics.drafts import draft_from_issue, draft_from_log

        draft = (draft_from_log(config, draft_kind, from_log, logs or [], text=text, verdict=verdict, note=note)
                 if from_log else
                 draft_from_issue(config, draft_kind, from_issue or "", logs or [], text=text, verdict=verdict,
                                  note=note, since=parse_time(since, "--since"), until=parse_time(until, "--until")))
        if question:
            draft.question = question
    else:
        if question is None:
            raise UsageError("--question is required (or --from-log / --from-issue with --logs)")
        draft = Draft(kind=draft_kind, question=question, text=text or "", verdict=verdict, note=note)
    draft.also_matches += list(also_match or [])
    draft.must_not_match += list(must_not_match or [])
    draft.tags += list(tag or [])
    draft.id = remediation_id or draft.id
    path = write_draft(config.remediations_dir, draft)
    write(f"created {display_path(path)} (status: draft; `remedy activate {path.stem}` to serve it)\n")
    if draft.replaces:
        write(f"it replaces {draft.replaces}: edit its text, then `remedy pause {draft.replaces}` and "
              f"`remedy activate {path.stem}` in the same pull request\n")


QUESTION = typer.Option(None, "--question", help="The user question.")
ALSO = typer.Option(None, "--also-match", help="A paraphrase that must match (repeatable).")
MUST_NOT = typer.Option(None, "--must-not-match", help="A near query that must not match (repeatable).")
TAG = typer.Option(None, "--tag", help="A tag (repeatable).")
ID = typer.Option(None, "--id", help="The id (default: a slug of the question).")
FROM_LOG = typer.Option(None, "--from-log", help="Prefill from this log id (with --logs).")
FROM_ISSUE = typer.Option(None, "--from-issue", help="Prefill from this issue id, or its rank in the queue "
                          "`remedy issues` printed last (refused if the queue has changed since).")
LOGS = typer.Option(None, "--logs", help="Log export(s) for --from-log / --from-issue (repeatable).")
SINCE = typer.Option(None, "--since", help="With --from-issue: the issues of logs at or after this time, as "
                     "`remedy issues --since`.")
UNTIL = typer.Option(None, "--until", help="With --from-issue: the issues of logs before this time.")


@new_app.command("answer")
def new_answer(ctx: typer.Context, question: str | None = QUESTION,
               answer: str | None = typer.Option(None, "--answer", help="The verbatim answer."),
               also_match: list[str] | None = ALSO, must_not_match: list[str] | None = MUST_NOT,
               tag: list[str] | None = TAG, remediation_id: str | None = ID, from_log: str | None = FROM_LOG,
               from_issue: str | None = FROM_ISSUE, logs: list[str] | None = LOGS, since: str | None = SINCE,
               until: str | None = UNTIL,
               from_id: str | None = typer.Option(None, "--from", help="Copy this answer as a new draft that "
                                                  "replaces it (`replaces: ID`), to edit its text.")) -> None:
    """A draft Expert Answer.

    Example: remedy new answer --question "..." --answer "..."; or from the issue queue:
    remedy new answer --from-issue 6ad3f8a27f30 --logs exports/logs.jsonl (the answer is left for you to write);
    or a new version of an answer users were served: remedy new answer --from cabin-bag-size.
    """
    _scaffold(ctx, "answer", question, answer, also_match=also_match, must_not_match=must_not_match, tag=tag,
              remediation_id=remediation_id, from_log=from_log, from_issue=from_issue, logs=logs, since=since,
              until=until, from_id=from_id)


@new_app.command("guidance")
def new_guidance(ctx: typer.Context, question: str | None = QUESTION,
                 guidance: str | None = typer.Option(None, "--guidance", help="The advice for the assistant."),
                 also_match: list[str] | None = ALSO, must_not_match: list[str] | None = MUST_NOT,
                 tag: list[str] | None = TAG, remediation_id: str | None = ID, from_log: str | None = FROM_LOG,
                 from_issue: str | None = FROM_ISSUE, logs: list[str] | None = LOGS, since: str | None = SINCE,
                 until: str | None = UNTIL) -> None:
    """A draft Expert Guidance (from flags, or --from-log / --from-issue with --logs)."""
    _scaffold(ctx, "guidance", question, guidance, also_match=also_match, must_not_match=must_not_match, tag=tag,
              remediation_id=remediation_id, from_log=from_log, from_issue=from_issue, logs=logs, since=since,
              until=until)


@new_app.command("review")
def new_review(ctx: typer.Context, question: str | None = QUESTION,
               response: str | None = typer.Option(None, "--response", help="The judged response."),
               verdict: str = typer.Option(..., "--verdict", help="good, bad or skip."),
               note: str | None = typer.Option(None, "--note", help="Why."),
               also_match: list[str] | None = ALSO, tag: list[str] | None = TAG, remediation_id: str | None = ID,
               from_log: str | None = FROM_LOG, from_issue: str | None = FROM_ISSUE,
               logs: list[str] | None = LOGS, since: str | None = SINCE, until: str | None = UNTIL) -> None:
    """A draft Expert Review (the response comes from the log with --from-log / --from-issue)."""
    _scaffold(ctx, "review", question, response, verdict=verdict, note=note, also_match=also_match, tag=tag,
              remediation_id=remediation_id, from_log=from_log, from_issue=from_issue, logs=logs, since=since,
              until=until)
