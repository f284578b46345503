"""The run-time API an assistant imports (DESIGN 4): load the folder once, then ask per query.

    from remedy import Remediations
    rem = Remediations.load("remediations")
    hit = rem.answer_for("can i get my money back for a cancelled flight")
    if hit: reply = hit.text          # serve verbatim, log hit.id as served_remediation

Only **active** remediations are served. Everything is computed at load (remediation vectors from
the on-disk cache, the candidate matrices per kind), so a call only embeds the query and does one
matrix product; the object is read-only afterwards and safe to share between threads.

A single-query product is tiny: multi-threaded BLAS only wakes its thread pool for it, which cost
3-4 ms a call on these 2-core machines against 0.5 ms single-threaded, so each call runs its
product with one BLAS thread (threadpoolctl; the setting is process-wide for the call's duration).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from remedy.config import load_config
from remedy.matching.decision import Decision
from remedy.matching.matcher import Matcher, build_matcher
from remedy.normalize import encodable, normalize_question

SERVED = ("active",)
_BLAS = ThreadpoolController()


@dataclass(frozen=True)
class AnswerHit:
    id: str
    text: str
    similarity: float
    margin: float


class Remediations:
    def __init__(self, matcher: Matcher):
        self._matcher = matcher
        # Queries are new text: no disk cache at run time, the same (rounded, screened) vectors as `match`.
        self._encode = matcher.query_encode or matcher.embedder.encode
        self._pair_encode = matcher.pair_encode or matcher.embedder.encode  # response vs reviewed: no screen
        for kind in ("answer", "guidance", "review"):
            self._matcher.index.decide([""], kind=kind, statuses=SERVED)  # builds each view once, up front

    @classmethod
    def load(cls, folder: str | Path = "remediations", *, config_file: str | Path | None = None) -> Remediations:
        """Read the folder and its project config once. Raises InputError if a file has errors."""
        from remedy.validation import load_servable_folder

        config = load_config(Path(config_file) if config_file else None, Path(folder))
        return cls(build_matcher(load_servable_folder(config).remediations, config))

    def answer_for(self, query: str) -> AnswerHit | None:
        """The active Expert Answer to serve verbatim for `query`, or None."""
        decision = self._decide(_text(query, "answer_for", "query"), "answer")
        if decision.entry_id is None:
            return None
        return AnswerHit(decision.entry_id, self._matcher.by_id[decision.entry_id].text,
                         decision.similarity, decision.margin)

    def guidance_for(self, query: str) -> list[str]:
        """Guidance texts to add to the prompt for `query` (the matching active guidance, if any)."""
        decision = self._decide(_text(query, "guidance_for", "query"), "guidance")
        return [self._matcher.by_id[decision.entry_id].text] if decision.entry_id else []

    def review_for(self, query: str, response: str) -> str | None:
        """"good" or "bad" when an active review matches the query and judged a similar response; else None.

        The response must be as close to the reviewed one as the entry's threshold asks of queries:
        a verdict is about that answer to that question, not about every answer to it.
        """
        query, response = _text(query, "review_for", "query"), _text(response, "review_for", "response")
        decision = self._decide(query, "review")
        if decision.entry_id is None:
            return None
        review = self._matcher.by_id[decision.entry_id]
        if review.verdict not in ("good", "bad"):
            return None  # `skip` only marks the case addressed
        with _BLAS.limit(limits=1, user_api="blas"):
            vectors = self._pair_encode([response, review.text])
        similarity = float(np.dot(vectors[0], vectors[1]))
        threshold = review.threshold if review.threshold is not None else self._matcher.threshold
        return review.verdict if similarity >= threshold else None

    def _decide(self, query: str, kind: str) -> Decision:
        with _BLAS.limit(limits=1, user_api="blas"):
            vector = self._encode([query])
            return self._matcher.index.decide_vectors(vector, [normalize_question(query)], kind=kind,
                                                     statuses=SERVED)[0]


def _text(value: object, method: str, name: str) -> str:
    """Any str is a valid query (lone surrogates become U+FFFD); anything else is the caller's mistake."""
    if not isinstance(value, str):
        raise TypeError(f"Remediations.{method}() takes the {name} as a str, not {type(value).__name__}")
    return encodable(value)
