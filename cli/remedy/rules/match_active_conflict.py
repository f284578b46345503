"""Two active remediations of a kind match each other's question.

A user asking one entry's question could be served the other's answer: the similarity of the
question to the other entry (its question or any `also_matches`) reaches that entry's threshold.
Merge them, make the questions clearly different, or pause one. Exact duplicates are L001.

Bad (both active answers):

    question: Can I get a refund for a cancelled flight?
    question: My flight was cancelled, can I get my money back?

Good: one active entry with the other question in its `also_matches`.
"""

from collections.abc import Iterator

import numpy as np

from remedy.files.folder import display_path
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "M001"
NAME = "match.active-conflict"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    if context.matcher is None:
        return
    folder = context.matcher()
    for kind in ("answer", "guidance", "review"):
        active = [r for r in context.folder.remediations if r.kind == kind and r.status == "active"]
        if len(active) < 2:
            continue
        vectors = folder.encode([r.question for r in active])
        ids, similarity = folder.index.scores(vectors, kind=kind, statuses=("active",))
        column = {entry_id: position for position, entry_id in enumerate(ids)}
        by_id = {r.id: r for r in active}
        reported: set[frozenset[str]] = set()
        for row, entry in enumerate(active):
            for other_id, position in column.items():
                other = by_id[other_id]
                pair = frozenset((entry.id, other_id))
                if other_id == entry.id or pair in reported or other.normalized_question == entry.normalized_question:
                    continue
                threshold = other.threshold if other.threshold is not None else folder.threshold
                value = float(similarity[row, position])
                if value >= threshold and not np.isnan(value):
                    reported.add(pair)
                    yield context.problem(entry, entry.position("question"), CODE, SEVERITY,
                                          f"active {kind}s '{entry.id}' and '{other_id}' ({display_path(other.path)}) "
                                          f"match each other (similarity {value:.2f} >= {threshold:.2f}): merge them "
                                          "or make the questions distinct")
