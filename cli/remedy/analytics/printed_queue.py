"""The queue as `remedy issues` last printed it, so that a rank typed afterwards means the issue the person saw.

Ranks move: after `remedy triage 6 --wont-fix` every issue below rank 6 moves up one, so a later
`remedy triage 10` would silently decide about what had been rank 11. `remedy issues` therefore saves
what it printed (each rank's id and topic, and the options it ranked with) in the project's cache
folder (`.remedy/printed-queue.json`). A rank given to `issue`, `triage`, `review` or
`new --from-issue` is resolved against that saved queue, and refused, naming the id to use, when the
same options rank a different issue there now (a triage decision, a new draft, other logs). Ids never
move: every hint remedy prints uses them.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from remedy.analytics.analysis import Analysis
from remedy.config import Config
from remedy.errors import UsageError

FILE = "printed-queue.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class QueueOptions:
    """The options that decide ranks, as `issue_queue` takes them (half_life in seconds; None: the config's)."""

    status: str = "unaddressed"
    primary_issue: str | None = None
    states: tuple[str, ...] = ("open", "assigned")
    assignee: str | None = None
    half_life: float | None = None

    def filters(self) -> dict[str, Any]:
        return {"status": self.status, "primary_issue": self.primary_issue, "states": self.states,
                "assignee": self.assignee, "half_life": self.half_life}


@dataclass(frozen=True)
class PrintedRank:
    rank: int
    id: str
    representative_query: str


@dataclass(frozen=True)
class PrintedQueue:
    printed_at: str  # ISO 8601 UTC
    logs: tuple[str, ...]
    options: QueueOptions
    ranks: tuple[PrintedRank, ...]


def save_printed_queue(config: Config, issues: Sequence[Any], log_paths: Sequence[str],
                       options: QueueOptions) -> None:
    """Remember the ranks `remedy issues` just printed (`issues`: its IssueSummary rows), replacing the last ones."""
    from remedy.files.atomic import write_atomically

    half_life = options.half_life
    document = {
        "version": FORMAT_VERSION,
        "printed_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "logs": list(log_paths),
        "options": {**options.filters(), "states": list(options.states),
                    "half_life": "inf" if half_life is not None and math.isinf(half_life) else half_life},
        "ranks": [[issue.rank, issue.id, issue.representative_query] for issue in issues],
    }
    folder = config.cache_dir
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / ".gitignore").exists():  # the cache folder never shows in `git status` (DESIGN 2.5)
        write_atomically(folder / ".gitignore", "*\n")
    write_atomically(folder / FILE, json.dumps(document, ensure_ascii=False, indent=1) + "\n")


def load_printed_queue(config: Config) -> PrintedQueue | None:
    """The last printed queue, or None when none was printed (or the file is unreadable: a cache, so it is
    treated as absent and the person is asked to print the queue again)."""
    try:
        document = json.loads((config.cache_dir / FILE).read_text(encoding="utf-8"))
        if document.get("version") != FORMAT_VERSION:
            return None
        raw = document["options"]
        half_life = raw["half_life"]
        options = QueueOptions(status=raw["status"], primary_issue=raw["primary_issue"], states=tuple(raw["states"]),
                               assignee=raw["assignee"],
                               half_life=math.inf if half_life == "inf" else None if half_life is None
                               else float(half_life))
        ranks = tuple(PrintedRank(int(rank), str(issue_id), str(query)) for rank, issue_id, query in document["ranks"])
        return PrintedQueue(str(document["printed_at"]), tuple(document["logs"]), options, ranks)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def issue_at_printed_rank(analysis: Analysis, rank: int, command: str, ranked: Callable[..., Sequence[Any]]) -> Any:
    """The issue printed at `rank` by the last `remedy issues`, if the queue still ranks it there.

    `command`: how the person would name the issue by id instead (e.g. "remedy triage"), for the message.
    `ranked(**filters)`: the queue's issues now, from the issue queue (which calls this, so not imported here).
    """
    if analysis.config is None:  # pragma: no cover - every command analyses a project
        raise UsageError("a rank needs a project; give the issue id")
    printed = load_printed_queue(analysis.config)
    if printed is None:
        raise UsageError(f"rank {rank} refers to the queue `remedy issues` printed last, and none was printed "
                         "here yet: run `remedy issues --logs …` first, or give the issue id (it never changes)")
    seen = next((row for row in printed.ranks if row.rank == rank), None)
    if seen is None:
        shown = f"ranks 1 to {len(printed.ranks)}" if printed.ranks else "no issues"
        raise UsageError(f"rank {rank} was not in the queue `remedy issues` printed last ({shown}, at "
                         f"{printed.printed_at}): give the issue id, or print more with --top")
    now = ranked(**printed.options.filters())
    current = now[rank - 1] if rank <= len(now) else None
    if current is not None and current.cluster.id == seen.id:
        return current
    moved = next((issue for issue in now if issue.cluster.id == seen.id), None)
    where = (f"it is rank {moved.rank} now" if moved else "it is no longer in that queue")
    instead = (f"; rank {rank} is now {current.cluster.id} ({current.representative_query})" if current else "")
    raise UsageError(f"the queue has changed since `remedy issues` printed it at {printed.printed_at}: rank {rank} "
                     f"was {seen.id} ({seen.representative_query}), and {where}{instead}. Nothing was done; "
                     f"give the id: `{command} {seen.id} …` (ids never move), or run `remedy issues` again")


__all__ = ["PrintedQueue", "PrintedRank", "QueueOptions", "issue_at_printed_rank", "load_printed_queue",
           "save_printed_queue"]
