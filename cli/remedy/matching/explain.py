"""`remedy match` and `remedy serve`'s `POST /v1/match`: what the assistant would do for one query, with the
numbers behind it. One function builds that document for both, so the server decides like the command."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from remedy.json_fields import OMIT_NONE
from remedy.matching.decision import Decision
from remedy.matching.matcher import Matcher
from remedy.normalize import normalize_question


def _optional() -> Any:
    """A field left out of JSON when None (a function: `MatchedText` has a field named `field`)."""
    return field(default=None, metadata={OMIT_NONE: True})


@dataclass(frozen=True)
class MatchedText:
    """The entry text the similarity is of: its question, or one of its `also_matches` (0-based position)."""

    field: str  # question | also_matches
    text: str
    position: int | None = _optional()


@dataclass(frozen=True)
class BlockingText:
    """The entry's `must_not_match` nearest the query, which refused it (decision rule 4)."""

    text: str
    position: int
    similarity: float


@dataclass(frozen=True)
class Hit:
    """An entry the decision rule accepted for the query."""

    id: str
    similarity: float
    margin: float
    exact: bool
    # With the verifier: what each model said of the query and this entry's closest text.
    static_similarity: float | None = field(default=None, kw_only=True, metadata={OMIT_NONE: True})
    verifier_similarity: float | None = field(default=None, kw_only=True, metadata={OMIT_NONE: True})
    matched: MatchedText | None = field(default=None, kw_only=True, metadata={OMIT_NONE: True})


@dataclass(frozen=True)
class NearAnswer:
    """The best active answer when none is served, and what refused it: `screen` (the static screen stopped
    the query before the verifier), `must_not_match` (one of its negatives is as near), `threshold`, `margin`."""

    id: str
    similarity: float
    margin: float
    refused_by: str
    matched: MatchedText | None = field(default=None, metadata={OMIT_NONE: True})
    blocked_by: BlockingText | None = field(default=None, metadata={OMIT_NONE: True})
    static_similarity: float | None = field(default=None, metadata={OMIT_NONE: True})


@dataclass(frozen=True)
class Screen:
    """With the verifier: the static screen's value and the query's best static similarity to any entry text."""

    value: float
    best_static_similarity: float
    passed: bool


@dataclass(frozen=True)
class TextHit(Hit):
    text: str  # the answer served verbatim, or the guidance added to the prompt


@dataclass(frozen=True)
class ReviewHit(Hit):
    verdict: str | None
    applies: bool  # good or bad (not skip), and the response similar enough when one was given
    response_similarity: float | None = field(default=None, metadata={OMIT_NONE: True})  # with --response only


@dataclass(frozen=True)
class Nearest:
    id: str
    kind: str
    status: str
    similarity: float
    # When the screen stopped the query: the static model's similarity, which orders the list.
    static_similarity: float | None = field(default=None, metadata={OMIT_NONE: True})


@dataclass(frozen=True)
class MatchReport:
    """`remedy match` / `POST /v1/match` (DESIGN 3.1), plus what drafts would do and the settings used."""

    query: str
    answer: TextHit | None
    guidance: tuple[TextHit, ...]
    review: ReviewHit | None
    nearest: tuple[Nearest, ...]
    drafts: Mapping[str, Hit | None]  # kind -> the draft that would match once active
    threshold: float
    margin: float
    # Which stage decided: "static" (no verifier installed or it is off), "screen" (the verifier is on,
    # but the query is far from every entry: refused without running it), "verifier" (it scored the query).
    # An exact match is accepted by the rule itself whatever the stage (`exact` on the hit).
    stage: str = "static"
    scorer: str = ""  # the model(s) behind the score
    near_answer: NearAnswer | None = None  # the best active answer, when none is served
    screen: Screen | None = field(default=None, metadata={OMIT_NONE: True})  # with the verifier only


def explain_query(matcher: Matcher, query: str, response: str | None = None, *, top: int = 5,
                  encode: Callable[[Sequence[str]], np.ndarray] | None = None) -> MatchReport:
    """DESIGN 3.1's `match` document, plus margins, the settings used, and what drafts would do.

    `encode` embeds the query and the response (default: the folder's cached encoder); the server passes
    `matcher.rounded_encoder`, which gives the same vectors without writing each query to the cache.
    The query is embedded and compared with every entry once; every decision reuses those similarities.
    """
    index, remediations = matcher.index, matcher.by_id
    encode = encode or matcher.encode
    vector = np.asarray(encode([query]), dtype=np.float32)
    normalized = normalize_question(query)
    every_entry = index.every_entry_scores(vector)  # one product; each decision below picks its columns

    def decide(kind: str, status: str) -> Decision:
        return index.decide_vectors(vector, [normalized], kind=kind, statuses=(status,), every_entry=every_entry)[0]

    fused = getattr(matcher.embedder, "parts", None) if matcher.verified else None
    if fused is None:
        stage = "static"
    else:
        cut = int(matcher.embedder.static.dim)  # type: ignore[attr-defined]
        stage = "verifier" if np.any(vector[0, cut:]) else "screen"
    static_nearest = getattr(encode, "static_nearest", None)
    static_scores = dict(static_nearest(query)) if static_nearest is not None else {}
    screen = None
    if fused is not None:
        value = float(matcher.embedder.settings.screen)  # type: ignore[attr-defined]
        screen = Screen(value, round(max(static_scores.values(), default=0.0), 4), stage == "verifier")

    def matched_text(entry_id: str, exact: bool) -> MatchedText | None:
        entry = remediations[entry_id]
        if exact:
            own = [t for t in (entry.question, *entry.also_matches) if normalize_question(t) == normalized]
            text = own[0] if own else None
        else:
            text = index.closest_text(entry_id, vector[0]) if np.any(vector) else None
        if text is None:
            return None
        if text == entry.question:
            return MatchedText("question", text)
        return MatchedText("also_matches", text, list(entry.also_matches).index(text))

    def hit(decision: Decision) -> Hit | None:
        if decision.entry_id is None:
            return None
        static = verifier = None
        if fused is not None and not decision.exact:
            text = index.closest_text(decision.entry_id, vector[0])
            if text is not None:
                parts = fused(query, text)
                static = round(parts.static, 4)
                verifier = round(parts.verifier, 4) if stage == "verifier" else None
        return Hit(decision.entry_id, round(decision.similarity, 4), round(decision.margin, 4), decision.exact,
                   static_similarity=static, verifier_similarity=verifier,
                   matched=matched_text(decision.entry_id, decision.exact))

    def near(decision: Decision) -> NearAnswer | None:
        """Why the best active answer was not served."""
        if decision.entry_id is not None:
            return None
        if stage == "screen":
            answers = [(i, v) for i, v in static_scores.items()
                       if remediations[i].kind == "answer" and remediations[i].status == "active"]
            if not answers:
                return None
            best_id, best_static = answers[0]
            return NearAnswer(best_id, 0.0, 0.0, "screen", matched_text(best_id, False) if np.any(vector) else None,
                              static_similarity=round(best_static, 4))
        if decision.best_id is None:
            return None
        blocked_by = None
        entry = remediations[decision.best_id]
        if decision.blocked:
            closest = index.closest_negative(decision.best_id, vector[0], normalized)
            if closest is not None:
                blocked_by = BlockingText(closest[0], list(entry.must_not_match).index(closest[0]),
                                          round(closest[1], 4))
            why = "must_not_match"
        else:
            threshold = entry.threshold if entry.threshold is not None else matcher.threshold
            why = "threshold" if decision.similarity < threshold else "margin"
        return NearAnswer(decision.best_id, round(decision.similarity, 4), round(decision.margin, 4), why,
                          matched_text(decision.best_id, False), blocked_by)

    def with_text(found: Hit | None) -> TextHit | None:
        return None if found is None else TextHit(**vars(found), text=remediations[found.id].text)

    served = decide("answer", "active")
    answer = with_text(hit(served))
    guidance = tuple(g for g in [with_text(hit(decide("guidance", "active")))] if g)
    found = hit(decide("review", "active"))
    review = None
    if found is not None:
        entry = remediations[found.id]
        applies, response_similarity = entry.verdict in ("good", "bad"), None
        if response is not None:
            vectors = (matcher.pair_encode or encode)([response, entry.text])
            similarity = float(np.dot(vectors[0], vectors[1]))
            threshold = entry.threshold if entry.threshold is not None else matcher.threshold
            applies, response_similarity = applies and similarity >= threshold, round(similarity, 4)
        review = ReviewHit(**vars(found), verdict=entry.verdict, applies=applies,
                           response_similarity=response_similarity)
    if stage == "screen" and static_scores:
        # Every decision score is zero (the verifier never ran): order by what the screen compared instead.
        ranked = index.nearest_vector(vector, normalized, top=len(remediations), every_entry=every_entry)
        decision_score = dict(ranked)
        exact_first = [i for i, v in ranked if v == 1.0]
        order = exact_first + [i for i in static_scores if i not in exact_first]
        nearest = tuple(Nearest(i, remediations[i].kind, remediations[i].status, round(decision_score.get(i, 0.0), 4),
                                static_similarity=round(static_scores.get(i, 1.0), 4)) for i in order[:top])
    else:
        nearest = tuple(Nearest(entry_id, remediations[entry_id].kind, remediations[entry_id].status,
                                round(similarity, 4))
                        for entry_id, similarity in index.nearest_vector(vector, normalized, top=top,
                                                                         every_entry=every_entry))
    drafts = {kind: hit(decide(kind, "draft")) for kind in ("answer", "guidance", "review")}
    return MatchReport(query=query, answer=answer, guidance=guidance, review=review, nearest=nearest,
                       drafts=drafts, threshold=matcher.threshold, margin=matcher.margin, stage=stage,
                       scorer=str(getattr(matcher.embedder, "name", "")), near_answer=near(served), screen=screen)
