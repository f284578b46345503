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

from remedy.problems import Problem

# The file reader (files/yaml_source.py, files/triage.py) imports this module for CODE: no runtime
# import of the reading code here, or the two would import each other.
if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = "F003"
NAME = "file.not-a-mapping"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
