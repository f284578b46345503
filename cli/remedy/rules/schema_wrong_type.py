"""A field holds the wrong type of value.

Texts must be text, lists must be lists of text, `threshold` a number between 0 and 1, `review_by` a
date, `activated` a timestamp. A common slip: a list written as one line of text.

Bad:

    also_matches: can I get my money back
    threshold: high

Good:

    also_matches:
      - can I get my money back
    threshold: 0.85
"""

from collections.abc import Iterator

from remedy.files.schema import FIELDS_BY_NAME, value_error
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S003"
NAME = "schema.wrong-type"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        for key, value in document.values.items():
            field = FIELDS_BY_NAME.get(key)
            message = value_error(field, value) if field else None
            if message:
                yield context.problem(document, document.value_positions[key], CODE, SEVERITY,
                                      f"'{key}' {message}")
