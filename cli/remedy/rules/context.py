"""What a rule may look at: the folder as read, the configuration, today's date, and the matcher."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from remedy.config import Config
from remedy.files.folder import Folder, display_path
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import Document, Position, line_starts, offset_of, position_of
from remedy.problems import Problem, as_severity


@dataclass
class RuleContext:
    folder: Folder
    config: Config
    today: datetime.date
    # Built on first use, so only the semantic rules pay for loading the model; None skips them.
    matcher: Callable[[], Any] | None = None

    def problem(self, where: Document | Remediation, position: Position, code: str, severity: str,
                message: str) -> Problem:
        return Problem(display_path(where.path), position.line, position.column, code, as_severity(severity), message)


def triage_problems(context: RuleContext, code: str, severity: str) -> Iterator[Problem]:
    """The problems with one code in the triage folder (the T rules)."""
    from remedy.files.triage import load_triage

    for problem in load_triage(context.config.triage_dir).problems:
        if problem.code == code:
            yield Problem(display_path(problem.path), problem.position.line, problem.position.column, code,
                          as_severity(severity), problem.message)


def locate(remediation: Remediation, key: str, needle: str) -> Position:
    """The exact position of `needle` inside `key`'s value in the file (block scalars included)."""
    document = remediation.document
    if document is None:
        return remediation.position(key)
    starts = line_starts(document.text)
    found = document.text.find(needle, offset_of(document.text, remediation.position(key), starts))
    if found < 0:
        return remediation.position(key)
    return position_of(document.text, found, starts)
