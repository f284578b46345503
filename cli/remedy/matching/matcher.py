"""A remediations folder made ready to match: configured model, embedding cache, decision settings.

`remedy match`, `remedy test`, the semantic validate rules, the run-time API and log coverage all
build their matcher here, so they all decide the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from remedy.config import Config
from remedy.files.folder import Folder
from remedy.files.remediation import Remediation

if TYPE_CHECKING:  # both import the model's libraries: loaded only when a matcher is built
    from remedy.matching.decision import MatchIndex
    from remedy.matching.embedding import Embedder

FALLBACK_THRESHOLD = 0.80
FALLBACK_MARGIN = 0.0


@dataclass
class Matcher:
    """The decision index over a set of remediations, with the model, encoder and settings it decides with."""

    index: MatchIndex
    embedder: Embedder
    encode: Callable[[Sequence[str]], np.ndarray]  # cached, float16-rounded
    threshold: float
    margin: float
    by_id: dict[str, Remediation]  # the remediations it decides among, by id


def decision_settings(config: Config, embedder: Any) -> tuple[float, float]:
    """Threshold and margin: the config's, else the model's calibrated defaults, else fallbacks."""
    defaults = getattr(embedder, "defaults", None)
    threshold = config.threshold if config.threshold is not None else getattr(defaults, "threshold", FALLBACK_THRESHOLD)
    margin = config.margin if config.margin is not None else getattr(defaults, "margin", FALLBACK_MARGIN)
    return float(threshold), float(margin)


def uncalibrated_notice(config: Config, embedder: Any) -> str | None:
    """A line for stderr when the settings in force were not certified by `remedy calibrate` for this model."""
    pinned = config.calibration.get("fingerprint")
    if pinned and pinned == getattr(embedder, "fingerprint", None):
        return None
    threshold, margin = decision_settings(config, embedder)
    if pinned:
        how = f"calibrated for another model ({config.calibration.get('model')!r}, {pinned})"
    elif config.threshold is not None or config.margin is not None:
        how = "set by hand, not calibrated"
    else:
        how = "the model's uncalibrated defaults"
    return (f"note: threshold {threshold:g}, margin {margin:g} are {how}; certify settings on your own queries "
            "with `remedy calibrate --sample 200 --logs LOGS --out labels.yaml` (docs/matching.md)")


def load_configured_embedder(config: Config) -> Any:
    """The configured model, loaded once per process for as long as its weights file is unchanged.

    `check --logs` builds five indexes (validate, base and head twice) and `preview` two; each used to
    load the model again. The embedder is read-only once loaded, so sharing it is safe.
    """
    from remedy.matching.embedding import resolve_model_folder

    folder, _ = resolve_model_folder(config.model, config.root)
    weights = (folder / "model.safetensors").stat()
    return _load_embedder(config.model, str(config.root), str(folder), weights.st_size, weights.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_embedder(spec: str, root: str, folder: str, size: int, mtime_ns: int) -> Any:
    # folder, size and mtime only key the cache: a rewritten model is loaded afresh
    from remedy.matching.embedding import load_embedder

    return load_embedder(spec, Path(root))


def cached_encoder(config: Config, embedder: Any) -> Callable[[Sequence[str]], np.ndarray]:
    from remedy.matching.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(config.cache_dir, embedder.fingerprint, embedder.dim)
    return lambda texts: cache.encode(list(texts), embedder.encode)


def rounded_encoder(embedder: Any) -> Callable[[Sequence[str]], np.ndarray]:
    """The model's vectors rounded to float16 like the embedding cache returns them, without the cache.

    For run-time queries: new text every call, so nothing is worth storing, yet the decision must equal
    `remedy match`'s, whose query vectors come through the cache.
    """
    return lambda texts: np.asarray(embedder.encode(list(texts))).astype(np.float16).astype(np.float32)


def match_entries(remediations: Sequence[Remediation]) -> list[Any]:
    """The remediations as the matcher sees them (`MatchEntry`)."""
    from remedy.matching.decision import MatchEntry

    return [MatchEntry(id=r.id, kind=r.kind, status=r.status, question=r.question,
                       also_matches=tuple(r.also_matches), threshold=r.threshold) for r in remediations]


def build_matcher(remediations: Sequence[Remediation], config: Config, *, embedder: Any = None,
                  threshold: float | None = None, margin: float | None = None) -> Matcher:
    from remedy.matching.decision import MatchIndex

    embedder = embedder or load_configured_embedder(config)
    encode = cached_encoder(config, embedder)
    default_threshold, default_margin = decision_settings(config, embedder)
    threshold = default_threshold if threshold is None else threshold
    margin = default_margin if margin is None else margin
    index = MatchIndex(match_entries(remediations), encode, threshold, margin)
    return Matcher(index=index, embedder=embedder, encode=encode, threshold=threshold, margin=margin,
                   by_id={r.id: r for r in remediations})


def lazy_matcher(folder: Folder, config: Config) -> Callable[[], Matcher]:
    """A builder that loads the model on its first call only, so rules that never need it cost nothing."""
    built: dict[str, Matcher] = {}

    def build() -> Matcher:
        if "index" not in built:
            built["index"] = build_matcher(folder.remediations, config)
        return built["index"]

    return build
