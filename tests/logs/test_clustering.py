"""cluster_failures: groups, representatives, impact, stable ids, determinism, bounded leaders."""

from __future__ import annotations

import numpy as np
import pytest

from remedy.logs.clustering import Cluster, cluster_failures, cluster_id


def unit(*rows: list[float]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_groups_similar_queries_led_by_the_most_frequent():
    vectors = unit([1, 0, 0], [0.95, 0.05, 0], [0, 1, 0], [0, 0.97, 0.03], [0, 0, 1])
    keys = ["refund please", "refund", "bags", "my bags", "seats"]
    weights = [2, 5, 1, 1, 4]
    severities = [1.0, 0.6, 0.5, 0.9, 0.25]
    clusters = cluster_failures(vectors, weights, severities, keys, threshold=0.9)
    assert [(c.representative, c.queries, c.size) for c in clusters] == [
        ("refund", ("refund", "refund please"), 7),
        ("bags", ("bags", "my bags"), 2),  # impact 1.4 beats seats' 1.0
        ("seats", ("seats",), 4),
    ]
    refund = clusters[0]
    assert refund.members == (1, 0)
    assert refund.impact == pytest.approx(5 * 0.6 + 2 * 1.0)
    assert refund.mean_severity == pytest.approx(5.0 / 7)
    assert refund.id == cluster_id("refund") and len(refund.id) == 12


def test_ties_in_frequency_are_broken_by_text():
    vectors = unit([1, 0], [0.99, 0.01])
    clusters = cluster_failures(vectors, [3, 3], [1.0, 1.0], ["b question", "a question"], threshold=0.9)
    assert clusters[0].representative == "a question"


def test_a_query_joins_the_most_similar_leader():
    # Two leaders; the third query reaches both but is closer to the second, rarer one.
    vectors = unit([1, 0, 0], [0, 1, 0], [0.6, 0.8, 0])
    clusters = cluster_failures(vectors, [9, 5, 1], [1, 1, 1], ["a", "b", "c"], threshold=0.55)
    assert {c.representative: c.queries for c in clusters} == {"a": ("a",), "b": ("b", "c")}


def test_leaders_born_in_the_same_block_take_later_queries():
    rng = np.random.default_rng(3)
    centres = unit(*rng.standard_normal((40, 32)).tolist())
    labels = np.arange(3000) % 40
    noisy = centres[labels] + 0.01 * rng.standard_normal((3000, 32)).astype(np.float32)
    vectors = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    keys = [f"q{i:05d}" for i in range(3000)]
    clusters = cluster_failures(vectors, np.ones(3000, dtype=int), np.ones(3000), keys, threshold=0.9)
    assert len(clusters) == 40
    assert sorted(len(c.members) for c in clusters) == [75] * 40
    for cluster in clusters:
        assert len({int(labels[i]) for i in cluster.members}) == 1


def test_same_clusters_and_ids_whatever_the_input_order():
    rng = np.random.default_rng(7)
    n = 2500
    centres = rng.standard_normal((60, 48)).astype(np.float32)
    noisy = centres[rng.integers(0, 60, n)] + 0.4 * rng.standard_normal((n, 48)).astype(np.float32)
    vectors = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    weights = rng.integers(1, 20, n)
    severities = rng.random(n)
    keys = [f"query {i}" for i in range(n)]
    first = cluster_failures(vectors, weights, severities, keys, threshold=0.8)
    perm = rng.permutation(n)
    second = cluster_failures(vectors[perm], weights[perm], severities[perm], [keys[i] for i in perm], threshold=0.8)

    def comparable(clusters: list[Cluster]) -> list[tuple]:
        return [(c.id, c.representative, c.queries, c.size, round(c.impact, 9)) for c in clusters]

    assert comparable(first) == comparable(second)
    assert len(first) > 1 and sum(c.size for c in first) == int(weights.sum())


def test_zero_vectors_match_nothing():
    vectors = np.zeros((3, 4), dtype=np.float32)
    clusters = cluster_failures(vectors, [1, 1, 1], [1, 1, 1], ["a", "b", "c"], threshold=0.8)
    assert len(clusters) == 3


def test_past_max_leaders_the_rarest_stay_alone():
    vectors = unit([1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0.1, 1])
    clusters = cluster_failures(vectors, [4, 3, 2, 1], [1, 1, 1, 1], ["a", "b", "c", "d"], threshold=0.9, max_leaders=2)
    assert sorted(c.queries for c in clusters) == [("a",), ("b",), ("c",), ("d",)]


def test_empty_and_invalid_input():
    assert cluster_failures(np.zeros((0, 8), dtype=np.float32), [], [], [], threshold=0.8) == []
    with pytest.raises(ValueError, match="distinct"):
        cluster_failures(unit([1, 0], [0, 1]), [1, 1], [1, 1], ["a", "a"], threshold=0.8)
    with pytest.raises(ValueError, match="same n"):
        cluster_failures(unit([1, 0]), [1, 1], [1], ["a"], threshold=0.8)


def naive_clusters(vectors: np.ndarray, weights, keys, threshold: float) -> dict[str, tuple[str, ...]]:
    """The one-by-one walk the blocked version must reproduce."""
    order = sorted(range(len(keys)), key=lambda i: (-weights[i], keys[i]))
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for i in order:
        sims = [float(vectors[i] @ vectors[j]) for j in leaders]
        if sims and max(sims) >= threshold:
            members[leaders[int(np.argmax(sims))]].append(i)
        else:
            leaders.append(i)
            members[i] = [i]
    return {keys[leader]: tuple(keys[i] for i in group) for leader, group in members.items()}


@pytest.mark.parametrize("block", [1, 7, 64, 1024])
def test_blocked_walk_equals_the_one_by_one_walk(monkeypatch, block):
    import remedy.logs.clustering as clustering

    monkeypatch.setattr(clustering, "_BLOCK", block)
    rng = np.random.default_rng(block)
    centres = rng.standard_normal((12, 16))
    noisy = centres[rng.integers(0, 12, 300)] + 0.5 * rng.standard_normal((300, 16))
    vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    weights = rng.integers(1, 6, 300).tolist()
    keys = [f"k{i:03d}" for i in range(300)]
    got = cluster_failures(vectors, weights, np.ones(300), keys, threshold=0.75)
    assert {c.representative: c.queries for c in got} == naive_clusters(vectors, weights, keys, 0.75)
