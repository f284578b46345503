"""`kind`, `status` or `verdict` is outside its set.

kind: answer | guidance | review. status: draft | active | paused. verdict: good | bad | skip.

Bad:

    status: live

Good:

    status: active
"""

import difflib
from collections.abc import Iterator

from remedy.files.schema import FIELDS
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S005"
NAME = "schema.bad-value"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        for field in FIELDS:
            value = document.values.get(field.name)
            if not field.choices or not isinstance(value, str) or value in field.choices:
                continue
            hint = difflib.get_close_matches(value.lower(), field.choices, n=1, cutoff=0.5)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            yield context.problem(document, document.value_positions[field.name], CODE, SEVERITY,
                                  f"'{field.name}' must be one of {', '.join(field.choices)}, not '{value}'"
                                  f"{suggestion}")
