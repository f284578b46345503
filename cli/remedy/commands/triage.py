"""Commands that record an expert's decision about an issue: triage, review."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from remedy.commands.common import config_from, write
from remedy.errors import UsageError

if TYPE_CHECKING:
    from remedy.analytics.topic_editing import TopicEdit

ISSUE = typer.Argument(..., help="The issue id, or its rank in the queue `remedy issues` printed last (refused "
                       "if the queue has changed since).")
LOGS = typer.Option(None, "--logs", help="Log export(s) to find the issue in (repeatable; globs allowed).")
STATE = typer.Option(None, "--state", help="Find the id among issues in these states, as `remedy issues --state` "
                     "(a rank uses the options the queue was printed with).")


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)
    app.command("review")(review)
    topic = typer.Typer(help="Correct how failures group into issues: split, merge, move (topics/<issue-id>.yaml).",
                        no_args_is_help=True)
    topic.command("split")(topic_split)
    topic.command("merge")(topic_merge)
    topic.command("move")(topic_move)
    app.add_typer(topic, name="topic")


def topic_split(
    ctx: typer.Context, key: str = ISSUE,
    query: list[str] = typer.Option(..., "--query", help="A query of the issue that is another question "
                                    "(repeatable; as `remedy issue` lists it)."),
    logs: list[str] | None = LOGS, state: str | None = STATE,
    note: str | None = typer.Option(None, "--note", help="Why, kept in the file."),
) -> None:
    """These queries of an issue are another question: a new issue, with a new id that stays.

    Example: remedy topic split 3 --logs exports/logs.jsonl --query "can i get a refund for a cancelled flight"
    """
    from remedy.analytics.issue_queue import parse_states
    from remedy.analytics.topic_editing import split_issue

    edit = split_issue(config_from(ctx), key, query, logs or [], note, states=parse_states(state))
    _say_topic(edit, f"issue {edit.topic.id} split out of {edit.topic.split_from}: {len(edit.topic.queries)} queries")


def topic_merge(
    ctx: typer.Context, key: str = ISSUE,
    other: str = typer.Argument(..., help="The issue that is one with the first (id or rank); it joins the first."),
    logs: list[str] | None = LOGS, state: str | None = STATE,
) -> None:
    """Two issues are one question: the second joins the first, which keeps its id.

    Example: remedy topic merge 5b57524401fe 4f856b205fdb --logs exports/logs.jsonl
    """
    from remedy.analytics.issue_queue import parse_states
    from remedy.analytics.topic_editing import merge_into

    if not logs:
        raise UsageError("--logs PATH is needed, so remedy can find both issues (rank or id as `remedy issues` "
                         "shows them)")
    edit = merge_into(config_from(ctx), key, other, logs, states=parse_states(state))
    _say_topic(edit, f"issue {edit.topic.id} merges {', '.join(edit.topic.merge)}")


def topic_move(
    ctx: typer.Context, query: str = typer.Argument(..., help="The query to move, as `remedy issue` lists it."),
    to: str = typer.Option(..., "--to", help="The issue it belongs to (id or rank)."),
    logs: list[str] | None = LOGS, state: str | None = STATE,
) -> None:
    """One query belongs to another issue.

    Example: remedy topic move "will my phone work in malaga" --to 4f856b205fdb --logs exports/logs.jsonl
    """
    from remedy.analytics.issue_queue import parse_states
    from remedy.analytics.topic_editing import move_query

    if not logs:
        raise UsageError("--logs PATH is needed, so remedy can find the issue and the query")
    edit = move_query(config_from(ctx), query, to, logs, states=parse_states(state))
    _say_topic(edit, f"{len(edit.topic.queries)} queries moved to issue {edit.topic.id}")


def _say_topic(edit: TopicEdit, what: str) -> None:
    from remedy.files.folder import display_path

    lines = [f"{'created' if edit.created else 'updated'} {display_path(edit.path)}: {what}"]
    lines += [f"updated {display_path(p)} (the query left it)" for p in edit.updated]
    lines += [f"removed {display_path(p)} (nothing left in it)" for p in edit.removed]
    write("\n".join(lines) + "\n")


def triage(
    ctx: typer.Context, key: str = ISSUE, logs: list[str] | None = LOGS,
    addressed: bool = typer.Option(False, "--addressed", help="Addressed, no answer needed."),
    no_action: bool = typer.Option(False, "--no-action", help="No action needed (e.g. the assistant was right)."),
    wont_fix: bool = typer.Option(False, "--wont-fix", help="Not ours to fix."),
    assign: str | None = typer.Option(None, "--assign", help="Assign to this handle (state: assigned)."),
    note: str | None = typer.Option(None, "--note", help="A note kept in the file ('' removes it)."),
    reopen: bool = typer.Option(False, "--reopen", help="Back to open (clears the assignee)."),
    state: str | None = STATE,
) -> None:
    """Record a decision about an issue in triage/<issue-id>.yaml (commit it; git keeps the history).

    A new decision needs --logs to find the issue and record its queries; an existing file is updated
    without. The decision keeps applying to new failures the decision rule matches to those queries.
    Example: remedy triage 3 --logs exports/logs.jsonl --assign @alice --note "checking with legal"
    """
    from remedy.analytics.issue_queue import parse_states
    from remedy.analytics.triage_decisions import Decision, triage_issue
    from remedy.files.folder import display_path
    from remedy.owner_handles import handle_from_option

    chosen = [name for name, on in (("--addressed", addressed), ("--no-action", no_action), ("--wont-fix", wont_fix),
                                    ("--assign", assign is not None), ("--reopen", reopen)) if on]
    if len(chosen) > 1:
        raise UsageError(f"use one of {', '.join(chosen)}, not several")
    if not chosen and note is None:
        raise UsageError("say what to record: --addressed, --no-action, --wont-fix, --assign HANDLE, --note TEXT "
                         "or --reopen")
    if assign is not None:
        assign = handle_from_option(assign, "--assign")
    decision = Decision(state="addressed" if addressed else "no_action_needed" if no_action else
                        "wont_fix" if wont_fix else None, assignee=assign, note=note, reopen=reopen)
    written = triage_issue(config_from(ctx), key, decision, logs or [], states=parse_states(state))
    done = written.triage
    who = f", assignee {done.assignee}" if done.assignee else ""
    topic = f" ({done.representative})" if done.representative else ""
    write(f"{'created' if written.created else 'updated'} {display_path(written.path)}{topic}: state {done.state}"
          f"{who}, {len(done.queries)} queries\n")


def review(
    ctx: typer.Context, key: str = ISSUE, logs: list[str] = typer.Option(..., "--logs", help=LOGS.help),
    good: bool = typer.Option(False, "--good", help="The response is acceptable."),
    bad: bool = typer.Option(False, "--bad", help="The response is not acceptable."),
    explanation: str | None = typer.Option(None, "--explanation", help="Why (kept as the review's note)."),
    guidance: bool = typer.Option(False, "--guidance", help="Also write a guidance draft from the explanation."),
    state: str | None = STATE,
) -> None:
    """Judge an issue's representative failure in one step: an Expert Review draft (and a guidance draft).

    The issue counts as addressed: the review covers its near queries, its triage file the rest.
    Example: remedy review 2 --logs exports/logs.jsonl --bad --explanation "never promise refunds" --guidance
    """
    from remedy.analytics.issue_queue import parse_states
    from remedy.analytics.triage_decisions import review_issue
    from remedy.files.folder import display_path

    if good == bad:
        raise UsageError("say --good or --bad")
    written = review_issue(config_from(ctx), key, "good" if good else "bad", logs, explanation=explanation,
                           guidance=guidance, states=parse_states(state))
    for path in written.drafts:
        write(f"created {display_path(path)} (status: draft; `remedy activate {path.stem}` to serve it)\n")
    topic = f" ({written.triage.representative})" if written.triage.representative else ""
    write(f"{'created' if written.created else 'updated'} {display_path(written.path)}{topic}: state addressed "
          "(the reviewed query)\n")
    if written.rest is not None:
        write(f"created {display_path(written.rest)}: the rest of the topic, not judged by this review, stays open\n")
