"""A placeholder left in the text.

"[URL]", "TODO", "TBD", "lorem ipsum", "<insert …>" and "{{…}}" would be served to users verbatim.

Bad:

    answer: See our refund page at [URL]. TODO confirm with legal.

Good:

    answer: See our refund page at https://example.com/refunds
"""

from collections.abc import Iterator

from remedy.files.schema import TEXT_FIELD_BY_KIND
from remedy.placeholders import PLACEHOLDER
from remedy.problems import Problem
from remedy.rules.context import RuleContext, locate

CODE = "W003"
NAME = "lint.placeholder"
SEVERITY = "warning"

def check(context: RuleContext) -> Iterator[Problem]:
    for remediation in context.folder.remediations:
        key = TEXT_FIELD_BY_KIND[remediation.kind]
        texts = [(key, remediation.text), ("question", remediation.question)]
        for field, text in texts:
            for match in PLACEHOLDER.finditer(text):
                yield context.problem(remediation, locate(remediation, field, match.group()), CODE, SEVERITY,
                                      f"placeholder {match.group()!r} in '{field}'")
