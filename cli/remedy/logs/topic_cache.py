"""An on-disk cache of the topic clustering (`TopicClustering.clusters()`), for warm runs.

Clustering the distinct failure queries is the largest part of a warm `remedy report` or `remedy
issues` (8 s of 10 at 1M log rows), and its result depends only on what goes in: the queries in
their order with their weights, severity sums and impacts, the two thresholds, the leader and
neighbour limits, and the model that embeds the queries (its fingerprint: the verifier's or the
static model's). `topic_key` hashes all of them (the numbers bit for bit), so any change to the
logs, the period, the triage files, the decay or the model gives a new key, and a hit returns
exactly the clusters a fresh run would.

Layout: `.remedy/topics/<key>.npz`: per cluster its id, its representative and members as indices
into the inputs, its size, mean severity and impact (float64, exact); the member texts come from
the inputs again. Files are written atomically; one that cannot be read, or does not fit the
inputs, is deleted and the clustering runs again. Only the KEEP_FILES most recent results are kept.
Deleting the folder only costs time.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from remedy.files.atomic import discard, write_atomically
from remedy.logs.clustering import Cluster

# Bump when the clustering would group the same inputs differently.
TOPIC_VERSION = 2  # 2: the verifier's vectors group where it is in force
FOLDER = "topics"
KEEP_FILES = 8  # results of other inputs (other periods, filters, log files) kept besides the newest
log = logging.getLogger("remedy")


def topic_key(texts: Sequence[str], weights: Sequence[int], severity_sums: Sequence[float],
              impacts: Sequence[float], *, settings: dict[str, object]) -> str:
    """A hash of the clustering's inputs in order (texts, and the numbers bit for bit) and its `settings`
    (thresholds, limits, the model's fingerprint: anything else the result depends on)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps({"version": TOPIC_VERSION, **settings}, sort_keys=True).encode("utf-8"))
    digest.update(np.asarray([len(text) for text in texts], dtype=np.int64).tobytes())
    digest.update("".join(texts).encode("utf-8", "surrogatepass"))
    digest.update(np.asarray(weights, dtype=np.int64).tobytes())
    digest.update(np.asarray(severity_sums, dtype=np.float64).tobytes())
    digest.update(np.asarray(impacts, dtype=np.float64).tobytes())
    return digest.hexdigest()


def cached_topics(cache_dir: Path | None, key: str, texts: Sequence[str],
                  compute: Callable[[], list[Cluster]]) -> list[Cluster]:
    """The clusters stored under `key` (inputs `texts`, in order), else `compute()`'s, then stored.
    `cache_dir` None: no cache."""
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / FOLDER / f"{key}.npz"
    if path.is_file():
        try:
            return _load(path, texts)
        except Exception as error:  # a corrupt cache is rebuilt, never trusted
            log.warning("ignoring unreadable topic cache %s (%s); it will be rebuilt", path, error)
            discard(path)
    clusters = compute()
    _store(path, clusters, texts)
    return clusters


def _store(path: Path, clusters: list[Cluster], texts: Sequence[str]) -> None:
    members = [index for cluster in clusters for index in cluster.members]
    position = {text: index for index, text in enumerate(texts)} if clusters else {}
    arrays = {
        "inputs": np.asarray([len(texts)], dtype=np.int64),
        "ids": np.asarray([cluster.id for cluster in clusters], dtype=str),
        "representatives": np.asarray([position[cluster.representative] for cluster in clusters], dtype=np.int64),
        "ends": np.cumsum([len(cluster.members) for cluster in clusters], dtype=np.int64),
        "members": np.asarray(members, dtype=np.int64),
        "sizes": np.asarray([cluster.size for cluster in clusters], dtype=np.int64),
        "mean_severities": np.asarray([cluster.mean_severity for cluster in clusters], dtype=np.float64),
        "impacts": np.asarray([cluster.impact for cluster in clusters], dtype=np.float64),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parents[1] / ".gitignore"
        if not ignore.exists():
            write_atomically(ignore, "*\n")
        write_atomically(path, buffer.getvalue())
    except OSError as error:  # a read-only checkout still works, just without the cache
        log.warning("cannot write the topic cache in %s (%s)", path.parent, error.strerror)
        return
    others = _oldest_first([p for p in path.parent.glob("*.npz") if p != path])
    for old in others[:max(0, len(others) - KEEP_FILES)]:
        discard(old)


def _oldest_first(paths: list[Path]) -> list[Path]:
    """`paths` by modification time, oldest first; one another run removed meanwhile is left out."""
    stamped = []
    for path in paths:
        try:
            stamped.append((path.stat().st_mtime_ns, str(path), path))
        except OSError:
            continue
    return [path for _, _, path in sorted(stamped)]


def _load(path: Path, texts: Sequence[str]) -> list[Cluster]:
    with np.load(path, allow_pickle=False) as stored:
        inputs, ids, representatives, ends, members, sizes, severities, impacts = (stored[name] for name in (
            "inputs", "ids", "representatives", "ends", "members", "sizes", "mean_severities", "impacts"))
    count = len(ids)
    if inputs.tolist() != [len(texts)] or not all(len(a) == count for a in (representatives, ends, sizes,
                                                                           severities, impacts)):
        raise ValueError("the arrays do not fit together")
    if len(members) != (int(ends[-1]) if count else 0) or np.any(np.diff(ends) <= 0) \
            or (count and ends[0] <= 0):
        raise ValueError("the member lists do not fit together")
    if len(members) and (members.min() < 0 or members.max() >= len(texts)) \
            or len(representatives) and (representatives.min() < 0 or representatives.max() >= len(texts)):
        raise ValueError("an index outside the inputs")
    clusters = []
    starts = np.concatenate([[0], ends[:-1]]).tolist() if count else []
    member_list = members.tolist()
    for number, (start, end) in enumerate(zip(starts, ends.tolist(), strict=True)):
        own = tuple(member_list[start:end])
        clusters.append(Cluster(id=str(ids[number]), representative=texts[int(representatives[number])],
                                members=own, queries=tuple(texts[i] for i in own), size=int(sizes[number]),
                                mean_severity=float(severities[number]), impact=float(impacts[number])))
    return clusters
