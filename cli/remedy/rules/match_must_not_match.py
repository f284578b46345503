"""A `must_not_match` example matches its own remediation.

The SME said this query must not get this entry, but the matcher would serve it. Raise the entry's
`threshold`, make its question more specific, or run `remedy calibrate`.

Bad (in an answer about refunds for cancelled flights, with a loose threshold):

    threshold: 0.5
    must_not_match:
      - can I get a refund on a hotel booking

Good: the project threshold from `remedy calibrate`, and a specific question.
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
