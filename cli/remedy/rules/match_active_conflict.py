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
    matcher = context.matcher()
    for kind in ("answer", "guidance", "review"):
        active = sorted((r for r in context.folder.remediations if r.kind == kind and r.status == "active"),
                        key=lambda r: r.id)
        if len(active) < 2:
            continue
        ids, scores = matcher.index.scores(matcher.encode([r.question for r in active]), kind=kind,
                                          statuses=("active",))
        column = {entry_id: position for position, entry_id in enumerate(ids)}
        # similarity[i, j]: entry i's question against entry j's texts; a hit reaches j's threshold
        similarity = scores[:, [column[r.id] for r in active]]
        thresholds = np.array([r.threshold if r.threshold is not None else matcher.threshold for r in active])
        hits = similarity >= thresholds[np.newaxis, :]
        np.fill_diagonal(hits, False)
        normalized = [r.normalized_question for r in active]
        reported: set[tuple[int, int]] = set()
        for i, j in zip(*np.nonzero(hits), strict=True):
            pair = (min(i, j), max(i, j))
            if pair in reported or normalized[i] == normalized[j]:  # identical questions are L001
                continue
            reported.add(pair)
            entry, other = active[i], active[j]
            value = float(similarity[i, j])
            yield context.problem(entry, entry.position("question"), CODE, SEVERITY,
                                  f"active {kind}s '{entry.id}' and '{other.id}' ({display_path(other.path)}) "
                                  f"match each other (similarity {value:.2f} >= {thresholds[j]:.2f}): merge them "
                                  "or make the questions distinct")
