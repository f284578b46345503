"""The memory-mapped embedding cache: only new texts are embedded, vectors round-trip as float16, shards
merge, and a damaged shard is rebuilt instead of trusted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import remedy.matching.embedding_cache as embedding_cache
from remedy.matching.embedding_cache import EmbeddingCache

DIM = 8


class Counting:
    """A fake model: a text's vector is derived from its hash; counts the texts it is asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        vectors = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=DIM) for t in texts])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)  # unit rows, as the model gives


def test_only_new_texts_are_embedded_and_vectors_round_trip(tmp_path: Path) -> None:
    model = Counting()
    first = EmbeddingCache(tmp_path, "m", DIM).encode(["a", "b", "a", "c"], model)
    assert model.seen == ["a", "b", "c"]  # each distinct text once, in first-seen order
    assert np.array_equal(first[0], first[2])
    assert np.array_equal(first, first.astype(np.float16).astype(np.float32))  # stored precision

    again = EmbeddingCache(tmp_path, "m", DIM).encode(["c", "d", "a"], model)  # a new process
    assert model.seen == ["a", "b", "c", "d"]
    assert np.array_equal(again[0], first[3]) and np.array_equal(again[2], first[0])


def test_shards_merge_and_keep_every_vector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding_cache, "MAX_SHARDS", 2)
    model = Counting()
    texts = [f"text {i}" for i in range(10)]
    expected = {}
    for start in range(0, 10, 2):
        cache = EmbeddingCache(tmp_path, "m", DIM)
        expected |= dict(zip(texts[start:start + 2], cache.encode(texts[start:start + 2], model), strict=True))
    assert len(list((tmp_path / "embeddings" / "m").glob("part-*.keys.npy"))) <= 2
    model.seen.clear()
    found = EmbeddingCache(tmp_path, "m", DIM).encode(texts, model)
    assert model.seen == []
    assert all(np.array_equal(found[i], expected[text]) for i, text in enumerate(texts))


def test_a_damaged_shard_is_rebuilt(tmp_path: Path) -> None:
    model = Counting()
    EmbeddingCache(tmp_path, "m", DIM).encode(["a", "b"], model)
    [vectors] = (tmp_path / "embeddings" / "m").glob("part-*.vectors.npy")
    vectors.write_bytes(b"not a numpy file")
    model.seen.clear()
    EmbeddingCache(tmp_path, "m", DIM).encode(["a", "b"], model)
    assert model.seen == ["a", "b"]
