"""The file uses YAML anchors or aliases.

Anchors (`&name`) and aliases (`*name`) make a file hard to review and can expand into huge
values (a "YAML bomb"). Remediations are short: write each value out.

Bad:

    question: &q Can I get a refund?
    also_matches: [*q]

Good:

    question: Can I get a refund?
    also_matches: [can I have my money back]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.FILE_ANCHORS  # F004 (files/ reports it too)
NAME = "file.anchors"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
