"""A topic file that cannot be read as a YAML mapping.

Topic files (`topics/<issue-id>.yaml` beside the triage folder, written by `remedy topic split|merge|move`)
are YAML mappings; a syntax error, an empty file or a list instead of a mapping makes remedy ignore the
correction, so the issues group as the clustering says until the file is fixed.

Bad:

    merge: [4f856b205fdb

Good:

    merge: [4f856b205fdb]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.TOPIC_UNREADABLE  # T003 (files/ reports it too)
NAME = "topic.unreadable"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.topic_problems(CODE, SEVERITY)
