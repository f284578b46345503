"""A text field, or an item of a list, is empty.

An empty answer would be served as an empty reply; an empty `also_matches` item matches nothing.

Bad:

    answer:
    also_matches:
      - ""

Good:

    answer: Yes, see https://example.com/refunds
    also_matches:
      - can I get my money back
"""

from collections.abc import Iterator

from remedy.files.schema import FIELDS_BY_NAME, LIST_TYPES, empty_items, is_empty
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S004"
NAME = "schema.empty-text"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        for key, value in document.values.items():
            field = FIELDS_BY_NAME.get(key)
            if field is None:
                continue
            if is_empty(value) and field.type not in LIST_TYPES:
                yield context.problem(document, document.value_positions[key], CODE, SEVERITY, f"'{key}' is empty")
            for index in empty_items(value):
                yield context.problem(document, document.item_positions[key][index - 1], CODE, SEVERITY,
                                      f"'{key}' item {index} is empty")
