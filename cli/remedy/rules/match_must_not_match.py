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

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "M003"
NAME = "match.must-not-match-matches"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    if context.matcher is None:
        return
    folder = context.matcher()
    for entry in context.folder.remediations:
        if entry.status == "paused" or not entry.must_not_match:
            continue
        texts = list(entry.must_not_match)
        decisions = folder.index.decide(texts, kind=entry.kind, statuses=(entry.status,))
        for position, (text, decision) in enumerate(zip(texts, decisions, strict=True)):
            if decision.entry_id == entry.id:
                yield context.problem(entry, entry.item_position("must_not_match", position), CODE, SEVERITY,
                                      f"must_not_match {text!r} matches this entry (similarity "
                                      f"{decision.similarity:.2f}, margin {decision.margin:.2f})")
