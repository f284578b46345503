"""The file is not a mapping of fields.

A remediation is a YAML mapping (`kind: …`, `id: …`). An empty file, a list, or a single value is
refused.

Bad:

    - kind: answer
    - id: refund-policy

Good:

    kind: answer
    id: refund-policy
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.FILE_NOT_A_MAPPING  # F003 (files/ reports it too)
NAME = "file.not-a-mapping"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
