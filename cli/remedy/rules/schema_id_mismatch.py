"""The id differs from the file name.

`refund-policy.yaml` must say `id: refund-policy`, so an id in a log leads straight to its file.

Bad (in `refunds.yaml`):

    id: refund-policy

Good (in `refund-policy.yaml`):

    id: refund-policy
"""

from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S007"
NAME = "schema.id-mismatch"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        value = document.values.get("id")
        if isinstance(value, str) and value and value != document.path.stem:
            yield context.problem(document, document.value_positions["id"], CODE, SEVERITY,
                                  f"id '{value}' does not match the file name '{document.path.name}'")
