"""The serving log: every decision `remedy serve` makes, one JSON line in remedy's log format (DESIGN 2.3).

`remedy coverage --logs DIR` reads it as it reads any export: `served_remediation` names the answer that
was served, so preventions are counted exactly rather than inferred. Fields are written under the
project's own `[logs]` names, so the same configuration reads them back.

A line carries `id` (returned to the caller as `log_id`), `timestamp` (ISO 8601 UTC, `Z`), `query`,
`response` when the caller sent one, `served_remediation` (the answer's id or null) and `metadata`:
`{"source": "remedy serve", "similarity", "guidance": [ids], "review": verdict or null, "review_id",
"revision"}`. No scores and no `is_bad`: a served decision is not a failure by itself, and coverage
counts it as a log, not a failure. Scores and the response, known later, are joined by `id`
(docs/serving.md).

One file a day, `serve-YYYY-MM-DD.jsonl` (UTC), shared by every worker: each line is written with one
`write()` on a descriptor opened with O_APPEND, and Linux appends each such write to a regular file on a
local file system as one piece, so lines from several processes never interleave (a short write, e.g.
a full disk, is completed by further writes and reported). Keep `--log-dir` on a local disk, one per
replica: NFS does not honour O_APPEND across machines.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from remedy.logs.settings import LogSettings
from remedy.serving.served_folder import iso_utc

IDENTITY_FIELDS: Mapping[str, str] = LogSettings().fields  # canonical names, no `[logs]` table
FILE_PREFIX = "serve-"
SOURCE = "remedy serve"


def log_file_name(day: datetime.date) -> str:
    return f"{FILE_PREFIX}{day.isoformat()}.jsonl"


def log_record(decision: Mapping[str, Any], *, log_id: str, at: datetime.datetime, response: str | None,
               revision: str | None) -> dict[str, Any]:
    """The canonical log row for one `explain_query` decision."""
    answer, review = decision["answer"], decision["review"]
    row: dict[str, Any] = {"id": log_id, "timestamp": iso_utc(at), "query": decision["query"]}
    if response is not None:
        row["response"] = response
    row["served_remediation"] = answer["id"] if answer else None
    row["metadata"] = {
        "source": SOURCE,
        "similarity": answer["similarity"] if answer else None,
        "guidance": [guidance["id"] for guidance in decision["guidance"]],
        "review": review["verdict"] if review and review["applies"] else None,
        "review_id": review["id"] if review else None,
        "revision": revision,
    }
    return row


class ServingLog:
    """Appends decisions to `<log_dir>/serve-<UTC day>.jsonl`, under the field names it is given.

    The names come with each decision (the served folder's `[logs]` names), so a reload that changes the
    configuration changes the names from the next line on.
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._lock = threading.Lock()
        self.errors = 0
        self.last_error: str | None = None

    def append(self, decision: Mapping[str, Any], *, response: str | None, revision: str | None,
               fields: Mapping[str, str] = IDENTITY_FIELDS, at: datetime.datetime | None = None) -> str | None:
        """Write one line; its id, or None when it could not be written (counted, never raised)."""
        at = at or datetime.datetime.now(datetime.timezone.utc)
        log_id = uuid.uuid4().hex
        row = log_record(decision, log_id=log_id, at=at, response=response, revision=revision)
        named = {fields[key]: value for key, value in row.items()}
        line = (json.dumps(named, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        path = self.log_dir / log_file_name(at.astimezone(datetime.timezone.utc).date())
        try:
            append_line(path, line)
        except OSError as error:
            with self._lock:
                self.errors += 1
                self.last_error = f"{path.name}: {error.strerror or error}"
            return None
        return log_id


def append_line(path: Path, line: bytes) -> None:
    """One O_APPEND write per line, opened per call: a file moved or deleted meanwhile is simply recreated."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        view = memoryview(line)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
    finally:
        os.close(descriptor)
