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

from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "M002"
NAME = "match.also-matches-lost"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    if context.matcher is None:
        return
    folder = context.matcher()
    for entry in context.folder.remediations:
        if entry.status == "paused" or not entry.also_matches:
            continue
        texts = list(entry.also_matches)
        statuses = (entry.status,)
        listed = folder.index.decide(texts, kind=entry.kind, statuses=statuses)
        unlisted = folder.index.decide(texts, kind=entry.kind, statuses=statuses, leave_out_exact=True)
        for position, (text, as_listed, as_paraphrase) in enumerate(zip(texts, listed, unlisted, strict=True)):
            winner = as_listed.entry_id if as_listed.entry_id != entry.id else as_paraphrase.entry_id
            if winner is None or winner == entry.id:
                continue
            how = "wins it" if as_listed.entry_id != entry.id else "would win it as an unlisted paraphrase"
            similarity = as_listed.similarity if as_listed.entry_id != entry.id else as_paraphrase.similarity
            yield context.problem(entry, entry.item_position("also_matches", position), CODE, SEVERITY,
                                  f"also_matches {text!r}: '{winner}' {how} (similarity {similarity:.2f})")
