"""What a rule may look at.

A validation rule gets a RuleContext: the folder as read, the configuration, today's date and the
matcher. A gate rule (the G codes, `remedy check`) gets a GateContext: both sides of the change, each
with the configuration it is read with.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from remedy.config import Config
from remedy.files.folder import Folder, display_path
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import Document, Position, line_starts, offset_of, position_of
from remedy.problems import Problem, as_severity

if TYPE_CHECKING:
    from remedy.gate.base_config import BaseConfig
    from remedy.gate.changes import Change
    from remedy.matching.matcher import Matcher


@dataclass
class RuleContext:
    folder: Folder
    config: Config
    today: datetime.date
    # Built on first use, so only the semantic rules pay for loading the model; None skips them.
    matcher: Callable[[], Matcher] | None = None

    def problem(self, where: Document | Remediation, position: Position, code: str, severity: str,
                message: str) -> Problem:
        return Problem(display_path(where.path), position.line, position.column, code, as_severity(severity), message)

    def read_problems(self, code: str) -> Iterator[Problem]:
        """What reading the folder's files found under one F rule's code (the reader raises them, see
        files/yaml_source.py; a rule module owns its code and its documentation)."""
        return (problem for problem in self.folder.file_problems if problem.code == code)

    def triage_problems(self, code: str, severity: str) -> Iterator[Problem]:
        """What reading the triage folder found under one T rule's code (see files/triage.py)."""
        from remedy.files.triage import load_triage

        for problem in load_triage(self.config.triage_dir).problems:
            if problem.code == code:
                yield Problem(display_path(problem.path), problem.position.line, problem.position.column, code,
                              as_severity(severity), problem.message)

    def topic_problems(self, code: str, severity: str) -> Iterator[Problem]:
        """What reading the topic files found under one T rule's code (see files/topic_files.py)."""
        from remedy.files.topic_files import load_topic_files, topics_dir

        for problem in load_topic_files(topics_dir(self.config.triage_dir)).problems:
            if problem.code == code:
                yield Problem(display_path(problem.path), problem.position.line, problem.position.column, code,
                              as_severity(severity), problem.message)


@dataclass(frozen=True)
class GateContext:
    """What a gate rule compares: the folder at the base revision and in the working tree, what changed
    between them, and each side's configuration (the base's as committed there, see gate/base_config.py)."""

    base: Folder
    current: Folder
    changes: list[Change]
    base_config: BaseConfig
    config: Config
    # Failures each answer prevented, from the logs (--logs); None: judged from the status history.
    preventions: dict[str, int] | None = None
    semantic: bool = True  # False skips the rules that need the model (G003)


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
