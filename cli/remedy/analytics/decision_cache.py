"""An on-disk cache of attribution decisions per distinct normalized query (DESIGN 2.5).

A decision depends only on the query text, the folder's matchable fields (ids, kinds, statuses,
texts, must_not_match, thresholds), the model and the decision settings; the cache is keyed by all of them
(`decision_key`), so a warm run decides only queries it has not seen and a changed folder or model
starts afresh. Layout: `.remedy/decisions/<key>/part-*.parquet`, each row a (query, remediation,
kind, role, similarity, margin) decision, or a query with a NULL remediation when nothing was
accepted. Files are written atomically; a file that cannot be read is deleted and its queries are
decided again. Deleting the folder only costs time. Only the queries of the batch at hand are looked
up (DuckDB scans the files), so memory does not grow with the cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import stat
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from remedy.errors import is_interrupt
from remedy.files.atomic import discard, write_atomically

if TYPE_CHECKING:
    from remedy.matching.matcher import Matcher

# Bump when the decision rule or the screen changes what a query is attributed to (2: must_not_match decides).
DECISION_VERSION = 2
FOLDER = "decisions"
MAX_FILES = 16  # beyond this, a flush merges the files into one
KEEP_KEYS = 8  # folders of other keys (other folders, models, settings) kept besides the current one
log = logging.getLogger("remedy")


def decision_key(matcher: Matcher) -> str:
    """A short hash of everything a decision depends on besides the query."""
    entries = sorted((e.id, e.kind, e.status, e.question, list(e.also_matches), e.threshold, list(e.must_not_match))
                     for e in matcher.index.entries)
    shape = {"version": DECISION_VERSION, "model": matcher.embedder.fingerprint, "threshold": matcher.threshold,
             "margin": matcher.margin, "delta": matcher.index.delta, "entries": entries}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def regular_files(paths: Sequence[Path]) -> list[Path]:
    """The paths that are regular files; anything else named like a part (a FIFO would block the reader
    for good, a folder or a device is no cache) is removed, so the cache is rebuilt without it."""
    kept = []
    for path in paths:
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                kept.append(path)
                continue
        except OSError:
            continue
        log.warning("ignoring %s in the decision cache: not a regular file; it is rebuilt", path)
        if not path.is_dir():
            discard(path)
    return kept


class DecisionCache:
    def __init__(self, cache_dir: Path, key: str, schema: pa.Schema) -> None:
        self.folder = Path(cache_dir) / FOLDER / key
        self.schema = schema
        self._files = regular_files(sorted(self.folder.glob("part-*.parquet"))) if self.folder.is_dir() else []
        self._pending: list[pa.Table] = []
        self._con: Any = None

    @property
    def holds_decisions(self) -> bool:
        """Whether any file of decisions is there to look up."""
        return bool(self._files)

    def lookup(self, queries: Sequence[str]) -> tuple[set[str], pa.Table]:
        """(the queries the cache knows, their accepted decisions)."""
        known, accepted = self.lookup_arrow(pa.array(list(queries), pa.string()))
        return set(known.to_pylist()), accepted

    def lookup_arrow(self, queries: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Table]:
        """`lookup` in Arrow: (the queries the cache knows, distinct, in no set order; their accepted decisions)."""
        if not self._files or not len(queries):
            return pa.array([], pa.string()), self.schema.empty_table()
        import duckdb

        from remedy.sql import sql_string

        if self._con is None:
            self._con = duckdb.connect(":memory:")
            self._con.execute("SET threads = 1")
            self._con.execute("SET enable_progress_bar = false")
        files = "[" + ", ".join(sql_string(str(f)) for f in self._files) + "]"
        self._con.register("wanted", pa.table({"normalized_query": queries.cast(pa.string())}))
        try:
            found = self._con.sql(
                f"SELECT * FROM read_parquet({files}) WHERE normalized_query IN (SELECT normalized_query FROM wanted)"
            ).to_arrow_table()
        except duckdb.Error as error:  # a corrupt cache is rebuilt, never trusted
            if is_interrupt(error):  # Ctrl-C is not corruption: stop, and keep the cache
                raise
            log.warning("ignoring unreadable decision cache in %s (%s); it will be rebuilt", self.folder, error)
            for path in self._files:
                path.unlink(missing_ok=True)
            self._files = []
            return pa.array([], pa.string()), self.schema.empty_table()
        finally:
            self._con.unregister("wanted")
        known = pc.unique(found.column("normalized_query").combine_chunks().cast(pa.string()))
        accepted = found.filter(found.column("remediation_id").is_valid())
        return known, accepted.select(self.schema.names).cast(self.schema)

    def add(self, queries: Sequence[str], accepted: pa.Table) -> None:
        """Remember the decisions just made for `queries` (those without an accepted row: none)."""
        decided = set(accepted.column("normalized_query").to_pylist())
        unmatched = [q for q in queries if q not in decided]
        empty = {name: pa.nulls(len(unmatched), self.schema.field(name).type) for name in self.schema.names}
        empty["normalized_query"] = pa.array(unmatched, pa.string())
        self._pending.extend([accepted.cast(self.schema), pa.table(empty, schema=self.schema)])

    def flush(self) -> None:
        """Write what was added since the last flush as one file (merging the files when there are many)."""
        if not any(table.num_rows for table in self._pending):
            return
        parts = self._pending
        self._pending = []
        merge = len(self._files) + 1 > MAX_FILES
        if merge:
            parts = [pq.read_table(path, schema=self.schema) for path in self._files] + parts
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _ignore(self.folder.parents[1])
            buffer = io.BytesIO()
            pq.write_table(pa.concat_tables(parts), buffer, compression="zstd")
            path = self.folder / f"part-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"
            write_atomically(path, buffer.getvalue())
        except OSError as error:  # a read-only checkout still works, just without the cache
            log.warning("cannot write the decision cache in %s (%s)", self.folder, error.strerror)
            return
        if merge:
            for old in self._files:
                old.unlink(missing_ok=True)
            self._files = []
        self._files.append(path)
        _forget_other_keys(self.folder)


def _ignore(cache_dir: Path) -> None:
    ignore = cache_dir / ".gitignore"
    if not ignore.exists():
        write_atomically(ignore, "*\n")


def _forget_other_keys(folder: Path) -> None:
    """Keep the KEEP_KEYS most recently written folders of other keys (a base and a head, a few models)."""
    others = sorted((p for p in folder.parent.iterdir() if p.is_dir() and p != folder),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_KEYS:]:
        shutil.rmtree(old, ignore_errors=True)
