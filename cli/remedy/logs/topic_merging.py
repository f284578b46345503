"""Topics one answer would cover, merged by the verifier: the queue's second pass over the static topics.

The static topics (`clustering`) are cheap over every failure but split a topic the static model does
not know how to phrase ("can i stay airside in Istanbul without a visa" / "do i need a visa for a layover
in Frankfurt"). The verifier reads such pairs far better on a domain the static model was not fit to,
but costs a transformer run per text, so it sees only the topics' representatives, and only of the
`verified_topics` most impactful topics (the head of the queue, which is what experts read):

- in rank order, each of those topics is compared with the earlier ones that stayed topics of their own
  ("heads"); only heads whose representative's *static* cosine to its own reaches `screen` are
  candidates (one matrix product of a few thousand rows; most pairs stop here);
- it joins the candidate whose representative is nearest in the verifier's cosine, when that reaches
  `verified_merge`: an answer written for the head's question would be asked the same thing. Ties go to
  the earlier (more impactful) head; a joined topic never takes others (no chains).

The head keeps its id and representative, so ids stay stable; its failures, impact and members grow.
The verifier's vectors come through its embedding cache, so a warm run pays no model.
Settings were chosen on CLINC150 validation (`benchmarks/issues_quality.py --tune`); see docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from remedy.logs.clustering import Cluster

Encode = Callable[[Sequence[str]], np.ndarray]
VERIFIED_TOPICS = 2000  # <= 2,000 verifier runs cold (~3 s quiet on 2 cores), none warm: the head is what is read


@dataclass(frozen=True)
class TopicSettings:
    """How failures group into topics: the static stage's thresholds and the verifier's pass (or None)."""

    leader: float  # static cosine: a micro-cluster is what one question would match
    merge: float  # static average linkage between micro-clusters
    screen: float | None = None  # static cosine two representatives need before the verifier compares them
    verified_merge: float | None = None  # verifier cosine at which a topic joins an earlier one
    verified_topics: int = VERIFIED_TOPICS

    @property
    def verifying(self) -> bool:
        return self.screen is not None and self.verified_merge is not None and self.verified_topics > 0


def merge_verified(clusters: Sequence[Cluster], static_encode: Encode, verifier_encode: Encode,
                   settings: TopicSettings) -> list[Cluster]:
    """`clusters` ranked by impact (members in the order they were fed) -> the same, verified topics merged."""
    assert settings.screen is not None and settings.verified_merge is not None
    head = list(clusters[:settings.verified_topics])
    if len(head) < 2:
        return list(clusters)
    static = _unit(np.asarray(static_encode([c.representative for c in head]), np.float32))
    # candidates[i, j]: an earlier topic i that the screen lets the verifier compare with topic j
    candidates = np.triu(static @ static.T >= settings.screen, k=1)
    involved = np.flatnonzero(candidates.any(axis=0) | candidates.any(axis=1))
    if not involved.size:
        return list(clusters)
    vectors = _unit(np.asarray(verifier_encode([head[i].representative for i in involved]), np.float32))
    verifier = np.zeros((len(head), vectors.shape[1]), np.float32)
    verifier[involved] = vectors
    joins: dict[int, int] = {}  # topic -> the head it joins
    is_head = np.ones(len(head), dtype=bool)
    for j in np.flatnonzero(candidates.any(axis=0)).tolist():
        earlier = np.flatnonzero(candidates[:j, j] & is_head[:j])
        if not earlier.size:
            continue
        sims = verifier[earlier] @ verifier[j]
        best = int(np.argmax(sims))  # the first on ties: the more impactful head
        if sims[best] >= settings.verified_merge:
            joins[j] = int(earlier[best])
            is_head[j] = False
    if not joins:
        return list(clusters)
    parts: dict[int, list[Cluster]] = {i: [c] for i, c in enumerate(head) if is_head[i]}
    for j, i in sorted(joins.items()):
        parts[i].append(head[j])
    merged = [_joined(group) for group in parts.values()] + list(clusters[settings.verified_topics:])
    merged.sort(key=lambda c: (-c.impact, -c.size, c.id))
    return merged  # ids were unique before and no new one is made


def _joined(group: list[Cluster]) -> Cluster:
    """The head (first) with the others' failures: members back in the order they were fed."""
    if len(group) == 1:
        return group[0]
    pairs = sorted(zip((m for c in group for m in c.members), (q for c in group for q in c.queries), strict=True))
    size = sum(c.size for c in group)
    severity = sum(c.mean_severity * c.size for c in group)
    first = group[0]
    return Cluster(id=first.id, representative=first.representative, members=tuple(m for m, _ in pairs),
                   queries=tuple(q for _, q in pairs), size=size, mean_severity=severity / size if size else 0.0,
                   impact=sum(c.impact for c in group))


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
