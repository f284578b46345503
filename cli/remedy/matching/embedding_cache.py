"""An on-disk cache of embeddings, keyed by model fingerprint and text hash (DESIGN 2.4).

Layout: `.remedy/embeddings/<fingerprint>/shard-*.npz`, each shard holding the 16-byte BLAKE2b keys
of its texts and their vectors as float16. Vectors are always returned as they are stored (rounded
to float16), whether they came from the cache or were just computed, so a warm run decides exactly
like a cold one. Shards are written atomically; a shard that fails to read is deleted and its texts
are embedded again. Deleting the folder only costs time.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from remedy.files.atomic import discard, write_atomically

Encode = Callable[[Sequence[str]], np.ndarray]
MAX_SHARDS = 32  # beyond this, shards are merged so start-up stays one read per few files
BATCH = 4096
# float16 storage rounds each component by up to 2^-11 relatively: a unit row stays within this of 1.
_NORM_TOLERANCE = 1e-2
log = logging.getLogger("remedy")


def _check_vectors(vectors: np.ndarray) -> None:
    """The model gives unit rows (or zero rows for text without known tokens): a shard holding anything
    else (NaN, infinities, other lengths) was damaged or written by something else."""
    as_float = vectors.astype(np.float32)
    if not np.isfinite(as_float).all():
        raise ValueError("vectors that are not finite numbers")
    norms = np.linalg.norm(as_float, axis=1)
    if not np.all((np.abs(norms - 1.0) <= _NORM_TOLERANCE) | (norms == 0.0)):
        raise ValueError("vectors that are not of unit length")


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    def __init__(self, cache_dir: Path, fingerprint: str, dim: int):
        self.folder = cache_dir / "embeddings" / fingerprint
        self.dim = dim
        self._rows: dict[bytes, int] = {}
        self._vectors = np.zeros((0, dim), dtype=np.float16)
        self._loaded = False

    def encode(self, texts: Sequence[str], encode: Encode, *,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """float32 (n, dim) vectors for `texts`, embedding (and storing) only the ones not cached yet."""
        self._load()
        keys = [text_key(text) for text in texts]
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._rows and key not in missing:
                missing[key] = text
        if missing:
            new_keys = list(missing)
            new_texts = list(missing.values())
            parts = []
            for start in range(0, len(new_texts), BATCH):
                parts.append(encode(new_texts[start:start + BATCH]).astype(np.float16))
                if progress:
                    progress(min(start + BATCH, len(new_texts)))
            self._add(new_keys, np.concatenate(parts))
        rows = np.fromiter((self._rows[key] for key in keys), dtype=np.int64, count=len(keys))
        return self._vectors[rows].astype(np.float32)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.folder.is_dir():
            return
        all_keys, all_vectors = [], []
        for shard in sorted(self.folder.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                if keys.ndim != 2 or keys.shape[1] != 16 or vectors.shape != (len(keys), self.dim):
                    raise ValueError("unexpected shape")
                _check_vectors(vectors)
            except Exception as error:  # a corrupt cache is rebuilt, never trusted
                log.warning("ignoring unreadable cache file %s (%s); it will be rebuilt", shard, error)
                discard(shard)
                continue
            all_keys.append(keys)
            all_vectors.append(vectors.astype(np.float16))
        if all_keys:
            self._vectors = np.concatenate(all_vectors)
            self._rows = {bytes(key): row for row, key in enumerate(np.concatenate(all_keys))}
            if len(all_keys) > MAX_SHARDS:
                self._compact()

    def _add(self, keys: list[bytes], vectors: np.ndarray) -> None:
        start = len(self._vectors)
        self._vectors = np.concatenate([self._vectors, vectors])
        self._rows.update((key, start + offset) for offset, key in enumerate(keys))
        self._write_shard(f"shard-{os.getpid()}-{start:012d}-{len(keys)}.npz", keys, vectors)

    def _compact(self) -> None:
        keys = sorted(self._rows, key=self._rows.__getitem__)
        old = list(self.folder.glob("shard-*.npz"))
        self._write_shard(f"shard-0-compact-{len(keys)}.npz", keys, self._vectors)
        for shard in old:
            if shard.name != f"shard-0-compact-{len(keys)}.npz":
                discard(shard)

    def _write_shard(self, name: str, keys: list[bytes], vectors: np.ndarray) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder.parents[1] / ".gitignore"
            if not ignore.exists():
                write_atomically(ignore, "*\n")
            buffer = io.BytesIO()
            key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
            np.savez(buffer, keys=key_array, vectors=vectors)
            write_atomically(self.folder / name, buffer.getvalue())
        except OSError as error:  # a read-only checkout still works, just without a cache
            log.warning("cannot write the embedding cache in %s (%s)", self.folder, error.strerror)
