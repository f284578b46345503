"""cluster_failures: groups, representatives, impact, stable ids, determinism, bounded leaders."""

from __future__ import annotations

import numpy as np
import pytest

from remedy.logs.clustering import Cluster, TopicClustering, cluster_failures, cluster_id


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


@pytest.mark.parametrize(("block", "dims", "topics", "n", "noise", "threshold"), [
    (1, 16, 12, 300, 0.5, 0.75), (7, 16, 12, 300, 0.5, 0.75), (64, 16, 12, 300, 0.5, 0.75),
    (1024, 16, 12, 300, 0.5, 0.75),
    # 96 dimensions: the bound keeps 32 of them, so it really prunes (with 16 it is exact)
    (64, 96, 40, 1200, 0.35, 0.8), (1024, 96, 40, 1200, 0.35, 0.8)])
def test_blocked_walk_equals_the_one_by_one_walk(monkeypatch, block, dims, topics, n, noise, threshold):
    import remedy.logs.clustering as clustering

    monkeypatch.setattr(clustering, "_BLOCK", block)
    monkeypatch.setattr(clustering, "_LEADER_SLICE", 50)  # several slices: ties across slices
    rng = np.random.default_rng(block + dims)
    centres = rng.standard_normal((topics, dims))
    noisy = centres[rng.integers(0, topics, n)] + noise * rng.standard_normal((n, dims))
    vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    weights = rng.integers(1, 6, n).tolist()
    keys = [f"k{i:04d}" for i in range(n)]
    got = cluster_failures(vectors, weights, np.ones(n), keys, threshold=threshold)
    assert {c.representative: c.queries for c in got} == naive_clusters(vectors, weights, keys, threshold)
    assert topics <= len(got) < n


# ---- topics: average linkage over the micro-clusters ----------------------------------------------


def naive_average_linkage(vectors: np.ndarray, threshold: float) -> set[frozenset[int]]:
    """Textbook UPGMA on the points: merge the pair with the highest mean pairwise cosine while >= threshold."""
    groups = [[i] for i in range(len(vectors))]
    sims = vectors @ vectors.T
    while len(groups) > 1:
        best, pair = -np.inf, None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                mean = float(sims[np.ix_(groups[a], groups[b])].mean())
                if mean > best:
                    best, pair = mean, (a, b)
        if best < threshold or pair is None:
            break
        a, b = pair
        groups[a] = groups[a] + groups[b]
        del groups[b]
    return {frozenset(g) for g in groups}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_topics_are_exact_average_linkage(seed):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, 12))
    noisy = centres[rng.integers(0, 6, 60)] + 0.9 * rng.standard_normal((60, 12))
    vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    keys = [f"q{i:02d}" for i in range(60)]
    # leader threshold 0.999: every query is its own micro-cluster, so stage 2 sees the points themselves
    got = cluster_failures(vectors, np.ones(60, dtype=int), np.ones(60), keys, threshold=0.999, merge_threshold=0.3)
    assert {frozenset(c.members) for c in got} == naive_average_linkage(vectors.astype(np.float64), 0.3)
    assert 1 < len(got) < 60


def test_topics_merge_paraphrase_groups_but_not_other_topics():
    # two tight groups that belong together (cosine ~0.6 between them) and a third topic far away
    vectors = unit([1, 0.05, 0, 0], [1, -0.05, 0, 0], [0.6, 0.8, 0, 0], [0.62, 0.78, 0.02, 0], [0, 0, 0, 1])
    keys = ["refund", "refund please", "money back", "money back please", "seats"]
    clusters = cluster_failures(vectors, [5, 1, 3, 1, 2], [1.0] * 5, keys, threshold=0.9, merge_threshold=0.5)
    assert sorted(sorted(c.queries) for c in clusters) == [
        ["money back", "money back please", "refund", "refund please"], ["seats"]]
    assert cluster_failures(vectors, [5, 1, 3, 1, 2], [1.0] * 5, keys, threshold=0.9, merge_threshold=0.7)[0].size == 6


def test_representative_is_the_most_central_leader_and_ids_are_stable():
    # three leaders on an arc: the middle one is central although the rarest
    vectors = unit([1, 0, 0], [0.8, 0.6, 0], [0.3, 0.95, 0])
    keys = ["edge a", "middle", "edge b"]
    clusters = cluster_failures(vectors, [9, 1, 5], [1, 1, 1], keys, threshold=0.95, merge_threshold=0.5)
    assert len(clusters) == 1 and clusters[0].representative == "middle"
    assert clusters[0].id == cluster_id("middle")
    again = cluster_failures(vectors[::-1], [5, 1, 9], [1, 1, 1], keys[::-1], threshold=0.95, merge_threshold=0.5)
    assert again[0].id == clusters[0].id


def test_streaming_in_batches_equals_one_call_and_impact_is_given():
    rng = np.random.default_rng(11)
    centres = rng.standard_normal((20, 24))
    noisy = centres[rng.integers(0, 20, 900)] + 0.5 * rng.standard_normal((900, 24))
    vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    weights = rng.integers(1, 9, 900)
    keys = [f"k{i:03d}" for i in range(900)]
    impacts = rng.random(900)
    whole = cluster_failures(vectors, weights, np.ones(900), keys, threshold=0.85, merge_threshold=0.5, impacts=impacts)
    order = sorted(range(900), key=lambda i: (-int(weights[i]), keys[i]))
    topics = TopicClustering(24, leader_threshold=0.85, merge_threshold=0.5)
    for start in range(0, 900, 137):
        part = order[start:start + 137]
        topics.add(vectors[part], weights[part], weights[part].astype(float), impacts[part], [keys[i] for i in part])
    streamed = topics.clusters()
    assert [(c.id, c.queries, c.size) for c in streamed] == [(c.id, c.queries, c.size) for c in whole]
    assert sum(c.impact for c in whole) == pytest.approx(float(impacts.sum()))
    with pytest.raises(ValueError, match="frequency order"):
        topics.add(vectors[:1], [1000], [1.0], [1.0], ["late and frequent"])


def test_bounded_leaders_still_join_topics_by_linkage():
    vectors = unit([1, 0, 0], [0, 1, 0], [0.75, 0.66, 0], [0, 0, 1])
    clusters = cluster_failures(vectors, [4, 3, 2, 1], [1] * 4, ["a", "b", "c", "d"], threshold=0.95,
                                merge_threshold=0.6, max_leaders=2)
    # c reaches no leader at 0.95 and there is no room for a third: it joins a (cosine 0.75 >= 0.6);
    # d reaches nothing and stays alone. a and b (cosine 0) never merge.
    assert sorted(c.queries for c in clusters) == [("a", "c"), ("b",), ("d",)]


# ---- the pruning bound: exact results with fewer products --------------------------------------------


def test_the_bound_is_an_upper_bound_on_every_pair():
    from remedy.logs.clustering import _Bound

    rng = np.random.default_rng(5)
    sample = rng.standard_normal((500, 96)).astype(np.float32)
    bound = _Bound(sample, 8)
    a, b = rng.standard_normal((200, 96)).astype(np.float32), rng.standard_normal((300, 96)).astype(np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b[:100] /= np.linalg.norm(b[:100], axis=1, keepdims=True)  # the rest: longer and shorter than unit
    upper = bound.project(a) @ bound.project(b).T
    exact = a.astype(np.float64) @ b.astype(np.float64).T
    assert (upper >= exact - 1e-5).all()


def test_pruned_search_finds_the_same_best_leaders_as_the_full_one():
    from remedy.logs.clustering import _best_leaders, _best_reaching, _Bound

    rng = np.random.default_rng(9)
    centres = rng.standard_normal((30, 64))
    points = centres[rng.integers(0, 30, 3000)] + 0.55 * rng.standard_normal((3000, 64))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    points[7] = 0.0  # a query without a vector reaches nothing
    leaders, block = points[:2000], points[2000:]
    bound = _Bound(points[:500], 16)
    full_sim, full = _best_leaders(block, leaders)
    sim, best = _best_reaching(block, bound.project(block), leaders, bound.project(leaders), 0.8)
    reach = full_sim >= 0.8
    assert reach.any() and (~reach).any()
    assert (best[reach] == full[reach]).all()
    np.testing.assert_allclose(sim[reach], full_sim[reach], atol=1e-6)
    assert (sim[~reach] < 0.8).all()
