"""The topic cache: a hit gives exactly the clusters a fresh run gives, any change to the inputs misses,
and a damaged file is rebuilt, never trusted and never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import remedy.analytics.issue_queue as issue_queue
from remedy.logs.clustering import TopicClustering
from remedy.logs.topic_cache import FOLDER, KEEP_FILES, cached_topics, topic_key

SETTINGS = {"leader": 0.8, "merge": 0.6, "max_leaders": 20_000, "neighbours": 32, "model": "test-model"}


def inputs(seed: int = 1, n: int = 300) -> tuple[list[str], list[int], list[float], list[float], np.ndarray]:
    """n distinct queries in frequency order around a few topics, with vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 16))
    vectors = centres[rng.integers(0, 6, n)] + 0.3 * rng.normal(size=(n, 16))
    weights = sorted(rng.integers(1, 50, n).tolist(), reverse=True)
    texts = [f"query {i:04d}" for i in range(n)]  # distinct, and in text order within a weight
    severities = (rng.random(n) * np.asarray(weights)).tolist()
    impacts = (np.asarray(severities) * rng.random(n)).tolist()
    return texts, weights, severities, impacts, vectors.astype(np.float32)


def cluster(texts, weights, severities, impacts, vectors, calls: list[int]):
    def compute():
        calls.append(1)
        topics = TopicClustering(vectors.shape[1], leader_threshold=SETTINGS["leader"],
                                 merge_threshold=SETTINGS["merge"])
        for start in range(0, len(texts), 64):
            part = slice(start, start + 64)
            topics.add(vectors[part], weights[part], severities[part], impacts[part], texts[part])
        return topics.clusters()
    return compute


def test_a_hit_returns_the_clusters_a_fresh_run_gives(tmp_path: Path) -> None:
    texts, weights, severities, impacts, vectors = inputs()
    calls: list[int] = []
    compute = cluster(texts, weights, severities, impacts, vectors, calls)
    key = topic_key(texts, weights, severities, impacts, settings=SETTINGS)
    fresh = cached_topics(tmp_path, key, texts, compute)
    assert len(fresh) > 3 and any(len(c.members) > 1 for c in fresh)  # topics of several queries
    again = cached_topics(tmp_path, key, texts, compute)
    assert calls == [1]  # read back, not computed
    assert again == fresh  # ids, members, queries, sizes, severities and impacts to the last bit, in order
    assert cached_topics(None, key, texts, compute) == fresh and calls == [1, 1]  # None: no cache


def test_any_change_to_the_inputs_is_another_key() -> None:
    texts, weights, severities, impacts, _ = inputs()
    key = topic_key(texts, weights, severities, impacts, settings=SETTINGS)
    assert topic_key(list(texts), list(weights), list(severities), list(impacts), settings=dict(SETTINGS)) == key
    nudged = list(impacts)
    nudged[7] = np.nextafter(nudged[7], np.inf)  # one bit of one impact (another decay, another newest log)
    changed = [
        topic_key(texts[:-1], weights[:-1], severities[:-1], impacts[:-1], settings=SETTINGS),
        topic_key([*texts[:5], texts[5] + "!", *texts[6:]], weights, severities, impacts, settings=SETTINGS),
        topic_key(texts, [weights[0] + 1, *weights[1:]], severities, impacts, settings=SETTINGS),
        topic_key(texts, weights, [0.0, *severities[1:]], impacts, settings=SETTINGS),
        topic_key(texts, weights, severities, nudged, settings=SETTINGS),
        topic_key(texts, weights, severities, impacts, settings={**SETTINGS, "merge": 0.61}),
        topic_key(texts, weights, severities, impacts, settings={**SETTINGS, "model": "other-model"}),
        topic_key(["ab", "c"], [1, 1], [0.0, 0.0], [0.0, 0.0], settings=SETTINGS),
    ]
    assert key not in changed and len(set(changed)) == len(changed)
    assert topic_key(["a", "bc"], [1, 1], [0.0, 0.0], [0.0, 0.0], settings=SETTINGS) != changed[-1]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "indices", "other inputs"])
def test_a_damaged_file_is_rebuilt(tmp_path: Path, damage: str, caplog) -> None:
    texts, weights, severities, impacts, vectors = inputs()
    calls: list[int] = []
    compute = cluster(texts, weights, severities, impacts, vectors, calls)
    key = topic_key(texts, weights, severities, impacts, settings=SETTINGS)
    fresh = cached_topics(tmp_path, key, texts, compute)
    path = tmp_path / FOLDER / f"{key}.npz"
    if damage == "garbage":
        path.write_bytes(b"not a numpy file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        with np.load(path) as stored:
            arrays = dict(stored)
        if damage == "indices":
            arrays["members"] = arrays["members"] + len(texts)
        else:
            arrays["inputs"] = arrays["inputs"] + 1
        with path.open("wb") as handle:
            np.savez(handle, **arrays)
    assert cached_topics(tmp_path, key, texts, compute) == fresh
    assert calls == [1, 1]  # computed again
    assert "ignoring unreadable topic cache" in caplog.text
    assert cached_topics(tmp_path, key, texts, compute) == fresh and calls == [1, 1]  # the rebuilt file is read


def test_only_the_newest_results_are_kept(tmp_path: Path) -> None:
    for n in range(KEEP_FILES + 3):
        texts = [f"q{n}"]
        cached_topics(tmp_path, topic_key(texts, [1], [0.5], [0.5], settings=SETTINGS), texts,
                      lambda: [])
    assert len(list((tmp_path / FOLDER).glob("*.npz"))) == KEEP_FILES + 1


def test_warm_issues_read_the_topics_back(repo: Path, run, monkeypatch) -> None:
    rows = [{"id": f"l{i}", "timestamp": f"2026-10-{1 + i % 20:02d}T10:00:00Z", "is_bad": True, "severity": 0.5,
             "query": ["Where can I download lecture notes", "download the lecture notes please",
                       "Explain how a bicycle derailleur is adjusted", "my derailleur needs adjusting",
                       "what is the weather on mars"][i % 5] + ("" if i % 3 else "?")} for i in range(40)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cold = run("issues", "--logs", "logs.jsonl", "--format", "json", "--top", "0")
    assert cold.exit_code == 0 and json.loads(cold.stdout)["issues"]
    assert len(list((repo / ".remedy" / FOLDER).glob("*.npz"))) == 1
    adds: list[int] = []
    original = issue_queue.TopicClustering.add
    monkeypatch.setattr(issue_queue.TopicClustering, "add", lambda self, *a: adds.append(1) or original(self, *a))
    warm = run("issues", "--logs", "logs.jsonl", "--format", "json", "--top", "0")
    assert adds == [] and warm.stdout == cold.stdout and warm.stderr == cold.stderr
    other = run("issues", "--logs", "logs.jsonl", "--format", "json", "--top", "0", "--half-life", "3d")
    assert other.exit_code == 0 and adds  # other impacts: clustered again
    assert len(list((repo / ".remedy" / FOLDER).glob("*.npz"))) == 2
