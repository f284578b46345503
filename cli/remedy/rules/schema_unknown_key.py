"""A key that this kind of remediation does not take.

Usually a typo (`questoin`) or a field of another kind (`answer:` in a guidance file). The message
suggests the nearest known key.

Bad:

    kind: answer
    questoin: Can I get a refund?

Good:

    kind: answer
    question: Can I get a refund?
"""

import difflib
from collections.abc import Iterator

from remedy.files.schema import FIELDS, KINDS, fields_for
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "S001"
NAME = "schema.unknown-key"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        kind = document.values.get("kind")
        known = [field.name for field in (fields_for(kind) if kind in KINDS else FIELDS)]
        for key in document.values:
            if key in known:
                continue
            hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            owner = [field for field in FIELDS if field.name == key]
            if owner and not hint:
                suggestion = f" ('{key}' belongs to {', '.join(owner[0].kinds)} files)"
            articles = {"answer": "an answer", "guidance": "a guidance", "review": "a review"}
            what = articles.get(kind, "a remediation") if isinstance(kind, str) else "a remediation"
            yield context.problem(document, document.key_positions[key], CODE, SEVERITY,
                                  f"unknown key '{key}' for {what}{suggestion}")
