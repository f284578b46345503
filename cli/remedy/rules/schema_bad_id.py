"""The id is not a slug.

An id is lower-case letters, digits and dashes, starting with a letter or digit, at most 80
characters. It names the file and appears in logs (`served_remediation`), so it must be plain.

Bad:

    id: Refund Policy!

Good:

    id: refund-policy
"""

from collections.abc import Iterator

from remedy.files.schema import MAX_ID_LENGTH, is_slug
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S006"
NAME = "schema.bad-id"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        value = document.values.get("id")
        if not isinstance(value, str) or not value:
            continue
        if not is_slug(value):
            yield context.problem(document, document.value_positions["id"], CODE, SEVERITY,
                                  f"id {value!r} is not a slug: use a-z, 0-9 and '-', starting with a letter or digit")
        elif len(value) > MAX_ID_LENGTH:
            yield context.problem(document, document.value_positions["id"], CODE, SEVERITY,
                                  f"id is {len(value)} characters long; at most {MAX_ID_LENGTH}")
