"""A remediations folder made ready to match: configured model, verifier, embedding cache, decision settings.

`remedy match`, `remedy test`, the semantic validate rules, the run-time API, `serve` and log coverage
all build their matcher here, so they all decide the same way. With the verifier installed (the
`precise` extra) and not turned off (`verifier = false` in the config), the decision score is the
fused score of the static screen and the verifier (`remedy.matching.fused`); otherwise the static
model's cosine, as before.
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
from remedy.matching.verifier import FUSED_PREFIX

if TYPE_CHECKING:  # both import the model's libraries: loaded only when a matcher is built
    from remedy.logs.topic_settings import TopicSettings
    from remedy.matching.decision import MatchIndex
    from remedy.matching.embedding import Embedder

FALLBACK_THRESHOLD = 0.80
FALLBACK_MARGIN = 0.0


@dataclass
class Matcher:
    """The decision index over a set of remediations, with the model, encoder and settings it decides with."""

    index: MatchIndex
    embedder: Embedder  # or a FusedEmbedder (static + verifier): its fingerprint pins calibrations
    encode: Callable[[Sequence[str]], np.ndarray]  # decision vectors, cached, float16-rounded
    threshold: float
    margin: float
    by_id: dict[str, Remediation]  # the remediations it decides among, by id
    # The same vectors as `encode` without the disk cache: run-time queries are new text every call.
    query_encode: Callable[[Sequence[str]], np.ndarray] | None = None
    # The static model's vectors alone (cached): clustering and grouping of log texts, which never
    # decide what is served and must stay cheap over millions of rows.
    static_encode: Callable[[Sequence[str]], np.ndarray] | None = None
    # Two texts compared with each other (a response and a reviewed one): every model, no screen, rounded.
    pair_encode: Callable[[Sequence[str]], np.ndarray] | None = None
    # The verifier's vectors alone (cached), when it is in force: the queue's merges of topics.
    verifier_encode: Callable[[Sequence[str]], np.ndarray] | None = None

    @property
    def verified(self) -> bool:
        """True when the verifier is in force (the decision score is the fused one)."""
        return hasattr(self.embedder, "verifier")

    def index_encoder(self, entry_texts: Sequence[str]) -> Callable[[Sequence[str]], np.ndarray]:
        """The decision encoder for another index over `entry_texts` (triage files): its own screen."""
        with_screen = getattr(self.encode, "with_screen", None)
        return self.encode if with_screen is None else with_screen(entry_texts)  # type: ignore[no-any-return]

    @property
    def cluster_encode(self) -> Callable[[Sequence[str]], np.ndarray]:
        """Vectors for grouping log texts into topics: the static model's (cheap at any number of rows)."""
        return self.static_encode or self.encode

    @property
    def cluster_fingerprint(self) -> str:
        """The fingerprint of `cluster_encode`'s model (what a cached topic result depends on)."""
        model = self.embedder if self.static_encode is None else getattr(self.embedder, "static", self.embedder)
        return str(model.fingerprint)

    @property
    def cluster_threshold(self) -> float:
        """`cluster_encode`'s similarity scale: the static model's threshold when the score is fused."""
        if not self.verified:
            return self.threshold
        defaults = getattr(getattr(self.embedder, "static", None), "defaults", None)
        return float(getattr(defaults, "threshold", FALLBACK_THRESHOLD))

    def topic_settings(self, *, static_only: bool = False) -> TopicSettings:
        """How the queue groups failures: on the verifier's vectors with its own thresholds when it is in force
        and carries them (and `static_only` is not asked); else on the static model's, with its topic thresholds
        (its defaults file), else offsets from `cluster_threshold`."""
        from remedy.logs.clustering import topic_thresholds
        from remedy.logs.topic_settings import VERIFIER, TopicSettings

        settings = getattr(getattr(self.embedder, "verifier", None), "settings", None)
        leader, merge = getattr(settings, "topic_leader", None), getattr(settings, "topic_merge", None)
        if not static_only and self.verifier_encode is not None and leader is not None and merge is not None \
                and merge <= leader:
            return TopicSettings(float(leader), float(merge), VERIFIER)
        static = getattr(self.embedder, "static", self.embedder)
        defaults = getattr(static, "defaults", None)
        leader, merge = topic_thresholds(self.cluster_threshold)
        if getattr(defaults, "topic_leader", None) is not None and getattr(defaults, "topic_merge", None) is not None:
            leader, merge = float(defaults.topic_leader), float(defaults.topic_merge)  # type: ignore[union-attr]
        return TopicSettings(leader, merge)

    def topic_encoder(self, settings: TopicSettings) -> tuple[Callable[[Sequence[str]], np.ndarray], str]:
        """The encoder `settings` group on (cached vectors) and its model's fingerprint (the topic cache's key)."""
        from remedy.logs.topic_settings import VERIFIER

        if settings.model == VERIFIER and self.verifier_encode is not None:
            return self.verifier_encode, str(self.embedder.verifier.fingerprint)  # type: ignore[attr-defined]
        return self.cluster_encode, self.cluster_fingerprint


def decision_settings(config: Config, embedder: Any) -> tuple[float, float]:
    """Threshold and margin: the config's, else the model's calibrated defaults, else fallbacks.

    Settings certified for the verifier's fused score are not used on the static model's cosine (the
    verifier is not installed here): its defaults are, and `validate` (C003) says why.
    """
    defaults = getattr(embedder, "defaults", None)
    pinned = str(config.calibration.get("fingerprint") or "")
    own = not (pinned.startswith(FUSED_PREFIX) and not hasattr(embedder, "verifier"))
    threshold = config.threshold if own and config.threshold is not None else getattr(defaults, "threshold",
                                                                                      FALLBACK_THRESHOLD)
    margin = config.margin if own and config.margin is not None else getattr(defaults, "margin", FALLBACK_MARGIN)
    return float(threshold), float(margin)


def uncalibrated_notice(config: Config, embedder: Any) -> str | None:
    """A line for stderr when the settings in force were not certified by `remedy calibrate` for this model."""
    from remedy.matching.settings_origin import settings_origin, settings_text

    origin = settings_origin(config, embedder)
    if origin.certified:
        return None
    return (f"note: {settings_text(*decision_settings(config, embedder))} are {origin.text}; certify settings on "
            "your own queries with `remedy calibrate --sample 200 --logs LOGS --out labels.yaml` (docs/matching.md)")


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
                       also_matches=tuple(r.also_matches), threshold=r.threshold,
                       must_not_match=tuple(r.must_not_match)) for r in remediations]


def verifier_for(config: Config) -> tuple[Any, str | None]:
    """(the verifier, None) when it decides; else (None, why not), or (None, None) when turned off.

    Settings in the config are for the score they were made for: calibrated for the static model (a pin
    that is not the fused score's) or set by hand before the verifier (no pin), they keep deciding with
    the static model until `remedy calibrate --write` certifies verifier settings or `verifier = true`
    says the numbers are meant for the fused score.
    """
    if config.verifier is False:
        return None, None
    from remedy.matching.verifier import available_verifier

    verifier, why = available_verifier()
    if verifier is None:
        return None, why
    pinned = str(config.calibration.get("fingerprint") or "")
    own_settings = config.threshold is not None or config.margin is not None
    if config.verifier is None and own_settings and not pinned.startswith(FUSED_PREFIX):
        how = "calibrated for the static model" if pinned else "set by hand"
        return None, (f"the verifier is installed but not in force: threshold and margin in the config were {how}; "
                       "run `remedy calibrate --labels … --write` to certify settings for it (or set verifier = true)")
    return verifier, None


def build_matcher(remediations: Sequence[Remediation], config: Config, *, embedder: Any = None,
                  threshold: float | None = None, margin: float | None = None) -> Matcher:
    from remedy.matching.decision import MatchIndex

    static = embedder or load_configured_embedder(config)
    static_encode = cached_encoder(config, static)
    entries = match_entries(remediations)
    verifier, _ = verifier_for(config)
    scorer: Any = static
    encode: Callable[[Sequence[str]], np.ndarray] = static_encode
    query_encode = rounded_encoder(static)
    verifier_encode = None
    if verifier is not None:
        from remedy.matching.embedding_cache import EmbeddingCache
        from remedy.matching.fused import FusedEmbedder, ScreenedEncoder

        scorer = FusedEmbedder(static, verifier)
        verifier_cache = EmbeddingCache(config.cache_dir, verifier.fingerprint, verifier.dim)
        def verifier_encode(texts: Sequence[str]) -> np.ndarray:
            return verifier_cache.encode(list(texts), verifier.encode)

        encode = ScreenedEncoder(scorer, static_encode, verifier_encode)
        query_encode = ScreenedEncoder(scorer, query_encode, rounded_encoder(verifier))
        screened = [(text, entry.id) for entry in entries
                    for text in dict.fromkeys((entry.question, *entry.also_matches))]
        encode.set_screen([text for text, _ in screened], [owner for _, owner in screened])
        query_encode.share_screen(encode)  # the same rounded static vectors: the entry texts embedded once
    default_threshold, default_margin = decision_settings(config, scorer)
    threshold = default_threshold if threshold is None else threshold
    margin = default_margin if margin is None else margin
    index = MatchIndex(entries, encode, threshold, margin, entry_encode=getattr(encode, "entry_vectors", None))
    return Matcher(index=index, embedder=scorer, encode=encode, threshold=threshold, margin=margin,
                   by_id={r.id: r for r in remediations}, query_encode=query_encode,
                   static_encode=static_encode, pair_encode=rounded_encoder(scorer), verifier_encode=verifier_encode)


def lazy_matcher(folder: Folder, config: Config) -> Callable[[], Matcher]:
    """A builder that loads the model on its first call only, so rules that never need it cost nothing."""
    built: dict[str, Matcher] = {}

    def build() -> Matcher:
        if "index" not in built:
            built["index"] = build_matcher(folder.remediations, config)
        return built["index"]

    return build
