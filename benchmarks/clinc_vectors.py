"""Both models' vectors of every CLINC150 text, computed once and kept on disk (benchmarks/out/).

The static model (bundled) and the verifier (all-MiniLM-L6-v2 int8), each row rounded to float16 as the
embedding caches store them, so a benchmark decides on the vectors `remedy` itself would use. Embedding
the 24k texts with the verifier takes minutes on two shared cores; every later run reads the file.

Run alone to fill the cache: python benchmarks/clinc_vectors.py [--data DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# beside the checkout, or two levels up for a worktree under /work/wt/
DEFAULT_DATA = next((root / "shared" / "data" / "clinc150" for root in (REPO.parent, REPO.parents[1])
                     if (root / "shared" / "data" / "clinc150").is_dir()), REPO.parent / "shared" / "data" / "clinc150")
DEFAULT_CACHE = REPO / "benchmarks" / "out" / "clinc_vectors.npz"


class ClincVectors:
    """text -> (static row, verifier row), for every text of the data set (queries and out-of-scope)."""

    def __init__(self, texts: Sequence[str], static: np.ndarray, verifier: np.ndarray) -> None:
        self.row = {t: i for i, t in enumerate(texts)}
        self.static = static
        self.verifier = verifier

    def parts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = [self.row[t] for t in texts]
        return self.static[rows], self.verifier[rows]


def load_vectors(data: Path = DEFAULT_DATA, cache: Path = DEFAULT_CACHE) -> ClincVectors:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from clinc150 import read_jsonl

    texts = list(dict.fromkeys(r["text"] for name in ("queries.jsonl", "oos.jsonl")
                               for r in read_jsonl(data / name)))
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if list(stored["texts"]) == texts:
                return ClincVectors(texts, stored["static"], stored["verifier"])
    from remedy.matching.embedding import load_embedder
    from remedy.matching.verifier import available_verifier

    verifier, why = available_verifier()
    if verifier is None:
        raise SystemExit(f"the verifier is needed: {why}")
    start = time.perf_counter()
    static = np.asarray(load_embedder("bundled").encode(texts), np.float32).astype(np.float16).astype(np.float32)
    parts = []
    for first in range(0, len(texts), 2000):  # in parts, to say how far it got
        parts.append(np.asarray(verifier.encode(texts[first:first + 2000]), np.float32))
        print(f"verifier: {first + len(parts[-1])} of {len(texts)} texts", file=sys.stderr)
    judged = np.vstack(parts).astype(np.float16).astype(np.float32)
    print(f"embedded {len(texts)} texts in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = cache.with_name(cache.stem + ".tmp.npz")
    np.savez(staging, texts=np.asarray(texts), static=static, verifier=judged)
    staging.replace(cache)
    return ClincVectors(texts, static, judged)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    vectors = load_vectors(args.data, args.cache)
    print(f"{len(vectors.row)} texts: static {vectors.static.shape}, verifier {vectors.verifier.shape}")
