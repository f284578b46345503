"""Two files have the same id.

Ids are unique in the whole folder, across kinds and sub-folders.

Bad: `answers/refund-policy.yaml` and `drafts/refund-policy.yaml`.

Good: one `refund-policy.yaml`; a rewrite gets a new id such as `refund-policy-v2`.
"""

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S008"
NAME = "schema.duplicate-id"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    first_seen: dict[str, object] = {}
    for document in context.folder.documents:
        value = document.values.get("id")
        if not isinstance(value, str):
            continue
        if value in first_seen:
            other = display_path(first_seen[value].path)  # type: ignore[attr-defined]
            yield context.problem(document, document.value_positions["id"], CODE, SEVERITY,
                                  f"id '{value}' is also used by {other}")
        else:
            first_seen[value] = document
