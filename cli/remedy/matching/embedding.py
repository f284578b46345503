"""Sentence embeddings for matching: the bundled static model, a local model2vec folder, or a cached id.

Never downloads at run time. model2vec's `StaticModel.from_pretrained` treats a path that does not
exist as a Hugging Face id and tries to fetch it, so every spec is resolved to an existing local
folder first (ids through the local Hugging Face cache only) and a clear `UsageError` says what to do
otherwise. model2vec is imported inside `load_embedder`, so `remedy --help` stays instant.

Texts are passed through `normalize_question` before encoding (docs/model.md, "Text preparation"):
the vocabulary is uncased already, so case-folding changes nothing, but dropping trailing
punctuation makes "Refund?" and "refund" one vector, as they are one question for the exact rule.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from remedy.errors import UsageError
from remedy.matching.word_pieces import WordPieceEncoder
from remedy.normalize import normalize_question

BUNDLED = "bundled"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled_model"
DEFAULTS_FILE = "remedy_defaults.json"
# Queries are short; anything past this many tokens adds little to a mean-pooled vector.
MAX_TOKENS = 256
BATCH_SIZE = 1024
# The word path pays a fixed cost per call (arrays of the memo, NumPy set-up): a query at a time at run
# time is faster through model2vec (answer_for median 0.35 ms against 1.0 ms). Both give the same bits.
WORD_PATH_MIN_TEXTS = 64
_MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")


@dataclass(frozen=True)
class DecisionDefaults:
    """Decision settings shipped beside a model (remedy_defaults.json)."""

    threshold: float
    margin: float
    # How this model's vectors group failures into topics ("topics" in the file; None: offsets from the
    # threshold). Static cosines, chosen on CLINC150 validation by benchmarks/issues_quality.py --tune.
    topic_leader: float | None = None
    topic_merge: float | None = None
    topic_screen: float | None = None  # two topics' representatives this close go to the verifier
    topic_merge_verified: float | None = None  # the static merge when the verifier's pass follows it


class Embedder:
    """A static embedding model: texts in, L2-normalized float32 rows out.

    Made from a loaded model2vec model, or (`Embedder.deferred`) from a function that loads it on the
    first `encode`: a warm run whose texts are all in the embedding cache never reads the model.
    """

    def __init__(self, model: Any, name: str, folder: Path) -> None:
        self._loaded = model
        self._load: Callable[[], Any] | None = None
        self.name = name
        self.folder = folder
        self.dim = int(model.dim) if model is not None else 0
        self.defaults = _read_defaults(folder)

    @classmethod
    def deferred(cls, load: Callable[[], Any], name: str, folder: Path, dim: int) -> Embedder:
        embedder = cls(None, name, folder)
        embedder._load = load
        embedder.dim = dim
        return embedder

    @property
    def _model(self) -> Any:
        if self._loaded is None and self._load is not None:
            self._loaded = self._load()
            if int(self._loaded.dim) != self.dim:
                raise UsageError(f"model {self.name!r} in {self.folder}: its vectors have {self._loaded.dim} "
                                 f"dimensions, its file header says {self.dim}")
        return self._loaded

    @property
    def tokenizer(self) -> Any:
        return self._model.tokenizer

    @cached_property
    def fingerprint(self) -> str:
        """Short sha256 of the model's files: pins a calibrated threshold to them (`model_fingerprint`)."""
        return model_fingerprint(self.folder)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, unit rows; a text with no known token gives a zero row."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [normalize_question(t) for t in texts]
        word_path = self._word_pieces if len(prepared) >= WORD_PATH_MIN_TEXTS else None
        if word_path is not None:
            pooled, rest = word_path.encode(prepared)
            if rest.any():  # long texts model2vec truncates: its own path
                pooled[rest] = self._model2vec([prepared[i] for i in np.flatnonzero(rest)])
        else:
            pooled = self._model2vec(prepared)
        vectors = np.asarray(pooled, dtype=np.float32).reshape(len(prepared), self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    @cached_property
    def _word_pieces(self) -> WordPieceEncoder | None:
        """The word path for this model, built on first use; None when it cannot give model2vec's bits."""
        return WordPieceEncoder.of(self._model, MAX_TOKENS, self._model2vec)

    def _model2vec(self, prepared: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(
            prepared,
            max_length=MAX_TOKENS,
            batch_size=BATCH_SIZE,
            use_multiprocessing=False,
            show_progress_bar=False,
            normalize=False,
        ))


def model_fingerprint(folder: Path) -> str:
    """Short sha256 over a model folder's files (names and bytes), without loading the model."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name in _MODEL_FILES):
        digest.update(path.name.encode())
        digest.update(b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def load_embedder(spec: str, base_dir: Path | None = None) -> Embedder:
    """"bundled", a local model2vec folder (relative to `base_dir`), or a locally cached model id.

    The model's vectors are read on the first `Embedder.encode` when the file's header gives their
    dimension (model2vec's `embeddings` tensor), else now."""
    folder, name = resolve_model_folder(spec, base_dir)
    dim = _header_dim(folder / "model.safetensors")

    def load() -> Any:
        # model2vec's import sets TOKENIZERS_PARALLELISM; keep the user's own setting if there is one.
        previous = os.environ.get("TOKENIZERS_PARALLELISM")
        from model2vec import StaticModel

        try:
            return _read_model(StaticModel, folder) or StaticModel.from_pretrained(folder, force_download=False)
        except Exception as error:  # a corrupt or foreign folder: any loader error means "cannot use it"
            raise UsageError(f"cannot load model {spec!r} from {folder}: {error}") from error
        finally:
            if previous is not None:
                os.environ["TOKENIZERS_PARALLELISM"] = previous

    return Embedder.deferred(load, name, folder, dim) if dim else Embedder(load(), name, folder)


def _read_model(static_model: Any, folder: Path) -> Any:
    """A model2vec folder in its own layout (model.safetensors with `embeddings`, tokenizer.json,
    config.json) read as `StaticModel.from_pretrained` reads it, or None for any other layout.

    `from_pretrained` imports model2vec's persistence module, which imports Hugging Face's hub client
    (0.8 s of a 1.2 s load here) to read model cards that never change a vector."""
    import safetensors
    from tokenizers import Tokenizer

    files = {name: folder / name for name in _MODEL_FILES}
    if not all(path.is_file() for path in files.values()):
        return None
    with safetensors.safe_open(str(files["model.safetensors"]), framework="numpy") as tensors:
        names = set(tensors.keys())
        if "embeddings" not in names:
            return None
        embeddings = tensors.get_tensor("embeddings")
        weights = tensors.get_tensor("weights") if "weights" in names else None
        mapping = tensors.get_tensor("mapping") if "mapping" in names else None
    config = json.loads(files["config.json"].read_text(encoding="utf-8"))
    # the same defaults as from_pretrained: the model's own when the config does not say
    options = {key: config[key] for key in ("normalize", "max_length") if key in config}
    return static_model(vectors=embeddings, tokenizer=Tokenizer.from_file(str(files["tokenizer.json"])),
                        weights=weights, token_mapping=mapping, config=config, **options)


def _header_dim(path: Path) -> int | None:
    """The width of the `embeddings` tensor from a safetensors header (8-byte length, then JSON), or None."""
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 0 < size <= 1 << 20:
                return None
            shape = json.loads(handle.read(size))["embeddings"]["shape"]
        return int(shape[1]) if len(shape) == 2 and int(shape[1]) > 0 else None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def resolve_model_folder(spec: str, base_dir: Path | None = None) -> tuple[Path, str]:
    """The existing local folder for a model spec, and the name to record; never touches the network."""
    if spec == BUNDLED:
        if not (BUNDLED_DIR / "model.safetensors").is_file():
            raise UsageError(f"the bundled model is missing from {BUNDLED_DIR}; reinstall remedy")
        return BUNDLED_DIR, BUNDLED
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_dir():
        if not (path / "model.safetensors").is_file():
            raise UsageError(f"model folder {path} has no model.safetensors: not a model2vec model")
        return path.resolve(), spec
    if _looks_like_path(spec):
        raise UsageError(f"model folder {path} does not exist")
    cached = _cached_hub_folder(spec)
    if cached is None:
        raise UsageError(
            f"model {spec!r} is not a local folder and is not in the local Hugging Face cache; "
            "remedy never downloads models at run time: save it to a folder "
            '(StaticModel.from_pretrained(id).save_pretrained("models/name")) and set model = "models/name"'
        )
    return cached, spec


def _looks_like_path(spec: str) -> bool:
    # A Hugging Face id is "name" or "owner/name"; anything else is meant as a path.
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec


def _cached_hub_folder(model_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(model_id, local_files_only=True))
    except Exception:  # not cached, malformed id, or huggingface_hub absent: all mean "not available"
        return None
    return folder if (folder / "model.safetensors").is_file() else None


def bundled_defaults() -> DecisionDefaults | None:
    """The bundled model's calibrated threshold and margin: what applies while the config sets none."""
    return _read_defaults(BUNDLED_DIR)


def _read_defaults(folder: Path) -> DecisionDefaults | None:
    path = folder / DEFAULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        threshold, margin = float(data["threshold"]), float(data["margin"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    topics = _topic_defaults(data.get("topics"), path)
    return DecisionDefaults(threshold=threshold, margin=margin, **topics)


_TOPIC_FIELDS = {"topic_leader": "leader", "topic_merge": "merge", "topic_screen": "verifier_screen",
                 "topic_merge_verified": "merge_before_verifier"}


def _topic_defaults(topics: object, path: Path) -> dict[str, float | None]:
    """The "topics" table's cosines; one that is not a number in (0, 1], or a merge above the leader, makes
    the whole table ignored (with a warning): the queue then groups with offsets from the threshold, and the
    model's threshold and margin still hold."""
    none: dict[str, float | None] = dict.fromkeys(_TOPIC_FIELDS)
    if not isinstance(topics, dict):
        return none
    values: dict[str, float | None] = {}
    for field, key in _TOPIC_FIELDS.items():
        value = topics.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0.0 < float(value) <= 1.0):
            return _ignored(path, f"{key} is {value!r}, not a cosine in (0, 1]")
        values[field] = None if value is None else float(value)
    leader = values["topic_leader"]
    for field in ("topic_merge", "topic_merge_verified"):
        merge = values[field]
        if leader is not None and merge is not None and merge > leader:
            return _ignored(path, f"{_TOPIC_FIELDS[field]} {merge} is above the leader {leader}")
    return values


def _ignored(path: Path, reason: str) -> dict[str, float | None]:
    import logging

    logging.getLogger("remedy").warning("ignoring the topic thresholds in %s (%s): issues group with offsets "
                                        "from the decision threshold", path, reason)
    return dict.fromkeys(_TOPIC_FIELDS)
