"""A required field is missing.

Every remediation needs `kind`, `id`, `status` and `question`; an answer needs `answer`, a guidance
`guidance`, a review `verdict` and `response`.

Bad:

    kind: answer
    id: refund-policy
    status: draft
    question: Can I get a refund?

Good:

    kind: answer
    id: refund-policy
    status: draft
    question: Can I get a refund?
    answer: Yes, see https://example.com/refunds
"""

from collections.abc import Iterator

from remedy.files.schema import FIELDS, KINDS, fields_for
from remedy.files.yaml_source import Position
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S002"
NAME = "schema.missing-field"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        kind = document.values.get("kind")
        required = [field for field in (fields_for(kind) if kind in KINDS else FIELDS) if field.required]
        for field in required:
            if field.name not in document.values and (kind in KINDS or field.kinds == KINDS):
                what = f"a {kind}" if kind in KINDS else "every remediation"
                yield context.problem(document, Position(1, 1), CODE, SEVERITY,
                                      f"missing '{field.name}': {what} needs it ({field.description})")
