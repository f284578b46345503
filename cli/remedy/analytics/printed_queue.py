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
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from remedy.analytics.analysis import Analysis
from remedy.config import Config
from remedy.errors import OutputError, UsageError, os_error_text

log = logging.getLogger("remedy")

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
    try:  # a cache: a command that succeeded is not failed by it (`.remedy` a file, a read-only folder)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / ".gitignore").exists():  # the cache folder never shows in `git status` (DESIGN 2.5)
            write_atomically(folder / ".gitignore", "*\n")
        write_atomically(folder / FILE, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    except (OSError, OutputError) as error:
        log.warning("the queue's ranks were not saved in %s (%s): give issue ids rather than ranks", folder,
                    os_error_text(error) if isinstance(error, OSError) else error)


def load_printed_queue(config: Config) -> PrintedQueue | None:
    """The last printed queue, or None when none was printed, or the file is unreadable or not what
    `save_printed_queue` writes: a cache, so it is treated as absent (with a warning when it is damaged:
    issue 35, a hand-edited `half_life: "nan"` or a list as `assignee` ended the command with exit 3)
    and the person is asked to print the queue again."""
    path = config.cache_dir / FILE
    try:
        if not path.is_file():  # a FIFO or a folder is never opened
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
        return _printed_queue(document)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("%s: not what `remedy issues` writes (%s); ignored: run `remedy issues` again", path, error)
        return None


def _printed_queue(document: Any) -> PrintedQueue | None:
    """The saved queue, checked field by field; ValueError naming the field that is wrong."""
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if document.get("version") != FORMAT_VERSION:
        return None
    raw = document["options"]
    if not isinstance(raw, dict):
        raise ValueError("options: not an object")
    for name in ("status", "primary_issue", "assignee"):
        if not (raw[name] is None and name != "status") and not isinstance(raw[name], str):
            raise ValueError(f"options.{name}: {raw[name]!r} is not text")
    states = raw["states"]
    if not isinstance(states, list) or not all(isinstance(state, str) for state in states):
        raise ValueError(f"options.states: {states!r} is not a list of text")
    half_life = raw["half_life"]
    if half_life == "inf":
        half_life = math.inf
    elif half_life is not None:
        if isinstance(half_life, bool) or not isinstance(half_life, (int, float)) or not 0 < half_life < math.inf:
            raise ValueError(f"options.half_life: {half_life!r} is not a positive number of seconds")
        half_life = float(half_life)
    options = QueueOptions(status=raw["status"], primary_issue=raw["primary_issue"], states=tuple(states),
                           assignee=raw["assignee"], half_life=half_life)
    ranks = []
    for row in document["ranks"]:
        if not (isinstance(row, list) and len(row) == 3 and type(row[0]) is int and row[0] > 0
                and isinstance(row[1], str) and isinstance(row[2], str)):
            raise ValueError(f"ranks: {row!r} is not [rank, id, query]")
        ranks.append(PrintedRank(*row))
    logs = document["logs"]
    if not isinstance(logs, list) or not all(isinstance(item, str) for item in logs):
        raise ValueError("logs: not a list of text")
    return PrintedQueue(str(document["printed_at"]), tuple(logs), options, tuple(ranks))


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
