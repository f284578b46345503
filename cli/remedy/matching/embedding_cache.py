"""An on-disk cache of embeddings, keyed by model fingerprint and text hash (DESIGN 2.4).

Layout: `.remedy/embeddings/<fingerprint>/part-*.keys.npy` and `part-*.vectors.npy`: each shard holds
the 16-byte BLAKE2b keys of its texts, sorted, and their vectors as float16 in the same order. A
lookup memory-maps each shard's keys, finds the wanted ones by binary search and reads only their
vectors, then unmaps: nothing is held between calls, so memory stays flat however many distinct
texts the cache holds. Vectors are always returned as they are stored (rounded to float16), whether
they came from the cache or were just computed, so a warm run decides exactly like a cold one.
Each file is written atomically, the vectors before the keys, so a shard without its keys file is
unfinished and ignored; a shard that fails to read is deleted and its texts are embedded again.
Beyond MAX_SHARDS shards, a write merges them into one, in chunks. Deleting the folder only costs time.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from remedy.files.atomic import discard, replaced_atomically, write_atomically
from remedy.files.regular import is_regular_file

Encode = Callable[[Sequence[str]], np.ndarray]
MAX_SHARDS = 32  # beyond this, shards are merged so a lookup stays a few binary searches
# Texts embedded per call: the word path's fixed cost per call is paid less often (125k texts: 3.9 -> 3.5 s).
BATCH = 16_384
_MERGE_ROWS = 16_384  # rows copied at a time when merging shards (8 MB of float16 vectors at 256)
_KEY = np.dtype("S16")
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

    def encode(self, texts: Sequence[str], encode: Encode, *,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """float32 (n, dim) vectors for `texts`, embedding (and storing) only the ones not cached yet."""
        keys = np.array([text_key(text) for text in texts], dtype=_KEY).reshape(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float16)
        found = np.zeros(len(texts), dtype=bool)
        for shard in self._shards():
            if found.all():
                break
            self._read_shard(shard, keys, out, found)
        missing = np.flatnonzero(~found)
        if missing.size:
            # one embedding per distinct missing text, in first-seen order
            unique_keys, first = np.unique(keys[missing], return_index=True)
            order = np.sort(first)
            new_texts = [texts[missing[i]] for i in order]
            parts = []
            for start in range(0, len(new_texts), BATCH):
                parts.append(np.asarray(encode(new_texts[start:start + BATCH])).astype(np.float16))
                if progress:
                    progress(min(start + BATCH, len(new_texts)))
            vectors = np.concatenate(parts)
            new_keys = keys[missing][order]
            position = np.searchsorted(np.sort(new_keys), keys[missing])
            sorting = np.argsort(new_keys)
            out[missing] = vectors[sorting][position]
            self._write_shard(new_keys[sorting], vectors[sorting])
        return out.astype(np.float32)

    def _shards(self) -> list[Path]:
        """The complete shards (with a keys file), newest first."""
        if not self.folder.is_dir():
            return []
        keys = [p for p in self.folder.glob("part-*.keys.npy")]
        return sorted(keys, key=lambda p: p.stat().st_mtime_ns if p.exists() else 0, reverse=True)

    def _read_shard(self, keys_path: Path, keys: np.ndarray, out: np.ndarray, found: np.ndarray) -> None:
        vectors_path = _vectors_path(keys_path)
        try:
            if not (is_regular_file(keys_path) and is_regular_file(vectors_path)):
                raise ValueError("not a regular file")  # a FIFO would block np.load for good
            stored = np.load(keys_path, mmap_mode="r")
            vectors = np.load(vectors_path, mmap_mode="r")
            if stored.dtype != _KEY or vectors.shape != (len(stored), self.dim) or vectors.dtype != np.float16:
                raise ValueError("unexpected shape")
            wanted = np.flatnonzero(~found)
            if len(stored):
                index = np.minimum(np.searchsorted(stored, keys[wanted]), len(stored) - 1)
                hit = stored[index] == keys[wanted]
                rows = index[hit]
                if rows.size:
                    order = np.argsort(rows)  # read the file front to back
                    picked = np.asarray(vectors[rows[order]], dtype=np.float16)
                    _check_vectors(picked)
                    targets = wanted[hit][order]
                    out[targets] = picked
                    found[targets] = True
            del stored, vectors  # unmap: the pages read leave memory with them
        except Exception as error:  # a corrupt cache is rebuilt, never trusted
            log.warning("ignoring unreadable cache file %s (%s); it will be rebuilt", keys_path, error)
            discard(keys_path)
            discard(vectors_path)

    def _write_shard(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder.parents[1] / ".gitignore"
            if not ignore.exists():
                write_atomically(ignore, "*\n")
            name = f"part-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            _save(self.folder / f"{name}.vectors.npy", vectors)
            _save(self.folder / f"{name}.keys.npy", keys)
            for legacy in self.folder.glob("shard-*.npz"):  # the format before memory-mapped shards
                legacy.unlink(missing_ok=True)
            shards = self._shards()
            if len(shards) > MAX_SHARDS:
                self._merge(shards)
        except OSError as error:  # a read-only checkout still works, just without a cache
            log.warning("cannot write the embedding cache in %s (%s)", self.folder, error.strerror)

    def _merge(self, shards: list[Path]) -> None:
        """One sorted shard from many, copied in chunks so memory holds keys and positions, not vectors.

        Neither side stays memory-mapped: the merged file is written with plain writes, and each source
        is mapped for one chunk at a time, so the pages it touched leave with it (a mapped file's pages
        count in the process's resident memory: a merge of 500 MB of vectors once added 1 GB to it)."""
        try:
            if not all(is_regular_file(path) and is_regular_file(_vectors_path(path)) for path in shards):
                raise ValueError("a shard is not a regular file")
            keys = [np.load(path, mmap_mode="r") for path in shards]
            for path in shards:  # a source that fails to open is found before anything is written
                np.load(_vectors_path(path), mmap_mode="r")
        except Exception as error:
            log.warning("cannot merge the embedding cache in %s (%s)", self.folder, error)
            return
        all_keys = np.concatenate([np.asarray(k) for k in keys])
        unique, first = np.unique(all_keys, return_index=True)
        shard_of = np.repeat(np.arange(len(keys)), [len(k) for k in keys])[first]
        offsets = np.concatenate([[0], np.cumsum([len(k) for k in keys])])
        row_of = first - offsets[shard_of]
        del keys, all_keys
        name = f"part-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)), "fortran_order": False,
                  "shape": (len(unique), self.dim)}
        with replaced_atomically(self.folder / f"{name}.vectors.npy") as temporary, temporary.open("wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            for start in range(0, len(unique), _MERGE_ROWS):
                stop = min(start + _MERGE_ROWS, len(unique))
                chunk = np.empty((stop - start, self.dim), dtype=np.float16)
                for shard in np.unique(shard_of[start:stop]):
                    inside = np.flatnonzero(shard_of[start:stop] == shard)
                    source = np.load(_vectors_path(shards[shard]), mmap_mode="r")
                    chunk[inside] = source[row_of[start:stop][inside]]
                    del source  # unmapped: its pages leave resident memory
                handle.write(chunk.tobytes())
        _save(self.folder / f"{name}.keys.npy", unique)
        for path in shards:
            path.unlink(missing_ok=True)
            _vectors_path(path).unlink(missing_ok=True)


def _vectors_path(keys_path: Path) -> Path:
    return keys_path.with_name(keys_path.name.replace(".keys.npy", ".vectors.npy"))


def _save(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    write_atomically(path, buffer.getvalue())
