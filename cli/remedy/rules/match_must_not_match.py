"""A `must_not_match` example matches its own remediation.

Since the decision reads `must_not_match` (a query as near to one of them as to the entry is refused it,
docs/matching.md), a listed near miss is refused by itself; it still matches when the same text is also
the entry's question or one of its `also_matches` (after normalization): an exact match is the expert's
"yes" and wins, so the "no" does nothing. Keep the text in one list only.

Bad (the same text said both ways):

    question: Can I get a refund if my flight is cancelled?
    also_matches:
      - can I get a refund on a hotel booking
    must_not_match:
      - Can I get a refund on a hotel booking?

Good: the hotel question in `must_not_match` only (or in another entry's `also_matches`).
"""

from collections.abc import Iterator

from remedy.matching.self_test import decide_examples
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "M003"
NAME = "match.must-not-match-matches"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    if context.matcher is None:
        return
    for example in decide_examples(context.matcher(), context.folder.remediations, "must_not_match"):
        decision = example.listed
        if decision.entry_id == example.entry.id:
            yield context.problem(example.entry, example.entry.item_position("must_not_match", example.position),
                                  CODE, SEVERITY, f"must_not_match {example.text!r} matches this entry (similarity "
                                  f"{decision.similarity:.2f}, margin {decision.margin:.2f})")
