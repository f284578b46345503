"""`remedy match` and `remedy serve`'s `POST /v1/match`: what the assistant would do for one query, with the
numbers behind it. One function builds that document for both, so the server decides like the command."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from remedy.matching.decision import Decision
from remedy.matching.folder_index import FolderIndex
from remedy.normalize import normalize_question


def explain_query(folder: FolderIndex, query: str, response: str | None = None, *, top: int = 5,
                  encode: Callable[[Sequence[str]], np.ndarray] | None = None) -> dict[str, Any]:
    """DESIGN 3.1's `match` document, plus margins, the settings used, and what drafts would do.

    `encode` embeds the query and the response (default: the folder's cached encoder); the server passes
    `folder_index.rounded_encoder`, which gives the same vectors without writing each query to the cache.
    The query is embedded and compared with every entry once; every decision reuses those similarities.
    """
    index, remediations = folder.index, folder.remediations
    encode = encode or folder.encode
    vector = np.asarray(encode([query]), dtype=np.float32)
    normalized = normalize_question(query)
    every_entry = index.every_entry_scores(vector)  # one product; each decision below picks its columns

    def decide(kind: str, status: str) -> Decision:
        return index.decide_vectors(vector, [normalized], kind=kind, statuses=(status,), every_entry=every_entry)[0]

    def described(decision: Decision, with_text: bool = True) -> dict[str, Any] | None:
        if decision.entry_id is None:
            return None
        entry = remediations[decision.entry_id]
        found = {"id": entry.id, "similarity": round(decision.similarity, 4), "margin": round(decision.margin, 4),
                 "exact": decision.exact}
        return {**found, "text": entry.text} if with_text else found

    answer = described(decide("answer", "active"))
    guidance = [g for g in [described(decide("guidance", "active"))] if g]
    review_decision = decide("review", "active")
    review = described(review_decision, with_text=False)
    if review is not None:
        entry = remediations[review["id"]]
        review["verdict"] = entry.verdict
        review["applies"] = entry.verdict in ("good", "bad")
        if response is not None:
            vectors = encode([response, entry.text])
            response_similarity = float(np.dot(vectors[0], vectors[1]))
            threshold = entry.threshold if entry.threshold is not None else folder.threshold
            review["response_similarity"] = round(response_similarity, 4)
            review["applies"] = review["applies"] and response_similarity >= threshold
    nearest = [{"id": entry_id, "kind": remediations[entry_id].kind, "status": remediations[entry_id].status,
                "similarity": round(similarity, 4)}
               for entry_id, similarity in index.nearest_vector(vector, normalized, top=top, every_entry=every_entry)]
    drafts = {kind: described(decide(kind, "draft"), with_text=False) for kind in ("answer", "guidance", "review")}
    return {"query": query, "answer": answer, "guidance": guidance, "review": review, "nearest": nearest,
            "drafts": drafts, "threshold": folder.threshold, "margin": folder.margin}
