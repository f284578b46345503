"""An `also_matches` that another remediation wins.

Either the same text is listed under another entry (and the other one wins it), or, judged as an
unlisted paraphrase, it would be served the other entry's answer: users who type it slightly
differently get the wrong remediation. Move the paraphrase to the entry it belongs to, or reword
the questions so they are clearly different.

Bad (in `refund-cancelled-flight`):

    also_matches:
      - can I change my flight date for free

Good: that paraphrase belongs to `change-flight-date`.
"""

from collections.abc import Iterator

from remedy.matching.self_test import decide_examples
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "M002"
NAME = "match.also-matches-lost"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    if context.matcher is None:
        return
    for example in decide_examples(context.matcher(), context.folder.remediations, "also_matches"):
        entry, listed, unlisted = example.entry, example.listed, example.held_out
        assert unlisted is not None  # always decided for also_matches
        lost_as_listed = listed.entry_id != entry.id
        winner = listed.entry_id if lost_as_listed else unlisted.entry_id
        if winner is None or winner == entry.id:
            continue
        how = "wins it" if lost_as_listed else "would win it as an unlisted paraphrase"
        similarity = listed.similarity if lost_as_listed else unlisted.similarity
        yield context.problem(entry, entry.item_position("also_matches", example.position), CODE, SEVERITY,
                              f"also_matches {example.text!r}: '{winner}' {how} (similarity {similarity:.2f})")
