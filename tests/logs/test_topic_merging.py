"""The verifier's pass over the static topics: who joins whom, what a merged topic carries, what stays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from remedy.logs.clustering import Cluster, cluster_id
from remedy.logs.topic_merging import TopicSettings, merge_verified

SETTINGS = TopicSettings(leader=0.9, merge=0.5, screen=0.5, verified_merge=0.8)


def topic(text: str, members: Sequence[int], size: int, impact: float, severity: float = 0.5) -> Cluster:
    queries = tuple(f"{text} #{m}" if i else text for i, m in enumerate(members))
    return Cluster(id=cluster_id(text), representative=text, members=tuple(members), queries=queries, size=size,
                   mean_severity=severity, impact=impact)


def encoder(vectors: dict[str, Sequence[float]], calls: list[list[str]] | None = None):
    def encode(texts: Sequence[str]) -> np.ndarray:
        if calls is not None:
            calls.append(list(texts))
        return np.asarray([vectors[t] for t in texts], dtype=np.float32)
    return encode


def test_a_topic_joins_the_earlier_head_the_verifier_calls_the_same_question() -> None:
    clusters = [topic("visa layover frankfurt", [0, 3], 5, 4.0), topic("can i bring a drone", [1], 4, 3.0),
                topic("transit visa istanbul", [2, 5], 3, 2.0, severity=1.0)]
    static = encoder({"visa layover frankfurt": [1, 0.2, 0], "can i bring a drone": [0, 0, 1],
                      "transit visa istanbul": [1, 0.9, 0]})  # cosine 0.81 to the first: passes the screen
    verifier = encoder({"visa layover frankfurt": [1, 0.1], "transit visa istanbul": [1, 0.2],
                        "can i bring a drone": [0, 1]})
    merged = merge_verified(clusters, static, verifier, SETTINGS)
    assert [c.id for c in merged] == [cluster_id("visa layover frankfurt"), cluster_id("can i bring a drone")]
    head = merged[0]
    assert head.representative == "visa layover frankfurt"  # the head keeps its id and representative
    assert head.members == (0, 2, 3, 5) and head.queries[1] == "transit visa istanbul"  # in the order fed
    assert (head.size, head.impact) == (8, 6.0)
    assert head.mean_severity == pytest.approx((5 * 0.5 + 3 * 1.0) / 8)


def test_the_static_screen_decides_who_is_compared_and_only_those_reach_the_verifier() -> None:
    clusters = [topic("a", [0], 3, 2.5), topic("b", [1], 2, 2.0), topic("c", [2], 1, 1.0)]
    calls: list[list[str]] = []
    static = encoder({"a": [1, 0], "b": [0, 1], "c": [0.1, 1]})  # a is far from both; b and c are close
    same = encoder({"a": [1, 0], "b": [1, 0], "c": [1, 0]}, calls)  # the verifier would merge them all
    merged = merge_verified(clusters, static, same, SETTINGS)
    assert [c.representative for c in merged] == ["b", "a"]  # c joined b: together they outweigh a
    assert calls == [["b", "c"]]  # a passed no screen: never run through the verifier


def test_no_chains_and_ties_go_to_the_earlier_head() -> None:
    clusters = [topic("x", [0], 4, 4.0), topic("y", [1], 3, 3.0), topic("z", [2], 2, 2.0), topic("w", [3], 1, 1.0)]
    static = encoder({t: [1, 0] for t in "xyzw"})
    verifier = encoder({"x": [1, 0], "y": [1, 0], "z": [0.6, 0.8], "w": [0, 1]})
    merged = merge_verified(clusters, static, verifier, SETTINGS)
    # y joins x (cosine 1); z is 0.6 from x and was never compared with y as a head; w reaches z only (0.8)
    assert [(c.representative, c.members) for c in merged] == [("x", (0, 1)), ("z", (2, 3))]


def test_topics_past_the_verified_head_are_left_as_they_are() -> None:
    clusters = [topic("p", [0], 3, 3.0), topic("q", [1], 2, 2.0), topic("r", [2], 1, 1.0)]
    both = encoder({t: [1, 0] for t in "pqr"})
    merged = merge_verified(clusters, both, both, TopicSettings(0.9, 0.5, 0.5, 0.8, verified_topics=2))
    assert [(c.representative, c.size) for c in merged] == [("p", 5), ("r", 1)]
    assert merge_verified(clusters[:1], both, both, SETTINGS) == clusters[:1]
    assert not TopicSettings(0.9, 0.5).verifying and SETTINGS.verifying
