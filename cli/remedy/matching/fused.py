"""One decision score from two models: the static screen and the verifier, as one vector per text.

A text's vector is ``[sqrt(1 - w) * static, sqrt(w) * verifier]`` (each part a unit row, w the
verifier's weight), so the cosine of two such vectors is ``(1 - w) * static_cosine + w *
verifier_cosine``: the decision rule (`MatchIndex`: threshold, margin, exact matches, tie-breaks),
`remedy calibrate`'s sweeps and the embedding caches all work on it unchanged, and every command
decides the same way.

The screen keeps the verifier's cost to the queries that could match: a query whose static cosine to
every entry text is below `screen` gets no verifier part (zeros), so its score is at most
``sqrt(1 - w) * screen`` — below any useful threshold — and its verifier run is saved. Entry texts
and texts compared with each other (`Matcher.pair_encode`: a review's response) always get both parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remedy.matching.embedding import DecisionDefaults
from remedy.matching.verifier import FUSED_PREFIX, Verifier, VerifierSettings

Encode = Callable[[Sequence[str]], np.ndarray]
# Queries screened at a time: bounds the (queries x entry texts) block to ~64 MB of float32.
_SCREEN_CELLS = 16_000_000


@dataclass(frozen=True)
class ScoreParts:
    """One entry's score split into what each model said (for `match`)."""

    static: float
    verifier: float


def fused_fingerprint(static_fingerprint: str, verifier: Verifier, settings: VerifierSettings | None = None) -> str:
    settings = settings or verifier.settings
    joined = f"{static_fingerprint}|{verifier.fingerprint}|{settings.weight}|{settings.screen}"
    return FUSED_PREFIX + hashlib.sha256(joined.encode()).hexdigest()[:16]


class FusedEmbedder:
    """The static embedder and the verifier as one model: what `Matcher.embedder` is when the verifier is on."""

    def __init__(self, static: Any, verifier: Verifier, settings: VerifierSettings | None = None) -> None:
        """`settings` other than the verifier's own: scripts/choose_defaults.py trying weights."""
        self.static = static
        self.verifier = verifier
        self.settings = settings or verifier.settings
        self.name = f"{static.name} + {verifier.name}"
        self.folder: Path = static.folder
        self.dim = int(static.dim) + verifier.dim
        self.defaults = DecisionDefaults(self.settings.threshold, self.settings.margin)
        self.static_scale = float(np.sqrt(1.0 - self.settings.weight))
        self.verifier_scale = float(np.sqrt(self.settings.weight))

    @property
    def fingerprint(self) -> str:
        """Both models and how they are joined: pins calibrated settings to exactly this score."""
        return fused_fingerprint(self.static.fingerprint, self.verifier, self.settings)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Both parts for every text (no screen): entry texts, and texts compared with each other."""
        return self.join(np.asarray(self.static.encode(texts), np.float32), self.verifier.encode(texts))

    def join(self, static: np.ndarray, verifier: np.ndarray) -> np.ndarray:
        return np.hstack([self.static_scale * static, self.verifier_scale * verifier]).astype(np.float32)

    def parts(self, query: str, text: str) -> ScoreParts:
        """What each model says of a query and an entry text (`remedy match` shows both)."""
        static = self.static.encode([query, text])
        verifier = self.verifier.encode([query, text])
        return ScoreParts(float(np.dot(static[0], static[1])), float(np.dot(verifier[0], verifier[1])))


class ScreenedEncoder:
    """Query texts -> joined vectors, the verifier run only for queries that pass the screen.

    `static_encode` and `verifier_encode` may be cached (each model has its own embedding cache, so a
    warm run pays no model at all); `set_screen` gives the entry texts the screen compares with.
    Counts what it did (`screened`, `verified`) for the benchmarks.
    """

    def __init__(self, fused: FusedEmbedder, static_encode: Encode, verifier_encode: Encode) -> None:
        self.fused = fused
        self._static = static_encode
        self._verifier = verifier_encode
        self._screen: np.ndarray | None = None  # (dim, entry texts) static vectors, transposed
        self._screen_owners: tuple[str, ...] = ()  # the entry id of each screen column, when known
        self.screened = 0
        self.verified = 0

    def with_screen(self, entry_texts: Sequence[str]) -> ScreenedEncoder:
        """The same models and caches, screening against other entry texts."""
        other = ScreenedEncoder(self.fused, self._static, self._verifier)
        other.set_screen(entry_texts)
        return other

    def share_screen(self, other: ScreenedEncoder) -> None:
        """Screen against `other`'s entry texts, already embedded (its static vectors equal this one's)."""
        self._screen = other._screen
        self._screen_owners = other._screen_owners

    def set_screen(self, entry_texts: Sequence[str], owners: Sequence[str] = ()) -> None:
        """`owners`: the entry id of each text (for `static_nearest`)."""
        vectors = np.asarray(self._static(list(entry_texts)), np.float32) if entry_texts else np.zeros((0, 0))
        self._screen = np.ascontiguousarray(vectors.T) if vectors.size else None
        self._screen_owners = tuple(owners)

    def static_nearest(self, text: str) -> list[tuple[str, float]]:
        """Each entry's best static cosine to `text` (what the screen compared), best first, ties by id.

        For `remedy match` on a query the screen stopped: its decision scores are all zero, these are not."""
        if self._screen is None or len(self._screen_owners) != self._screen.shape[1]:
            return []
        cosines = (np.asarray(self._static([text]), np.float32).reshape(1, -1) @ self._screen)[0].tolist()
        best: dict[str, float] = {}
        for owner, value in zip(self._screen_owners, cosines, strict=True):
            if value > best.get(owner, -2.0):
                best[owner] = value
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))

    def passes(self, static_vectors: np.ndarray) -> np.ndarray:
        """Which rows reach the verifier: best static cosine to any entry text >= the screen."""
        n = static_vectors.shape[0]
        if self._screen is None:
            return np.zeros(n, bool)
        block = max(1, _SCREEN_CELLS // max(1, self._screen.shape[1]))
        best = np.empty(n, np.float32)
        for start in range(0, n, block):
            best[start:start + block] = (static_vectors[start:start + block] @ self._screen).max(axis=1)
        return best >= self.fused.settings.screen

    def entry_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Both parts for every text, from the caches: entry texts and `must_not_match` (never screened out: a
        negative far from every question still blocks the queries near it)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.fused.dim), np.float32)
        static = np.asarray(self._static(texts), np.float32).reshape(len(texts), -1)
        return self.fused.join(static, np.asarray(self._verifier(texts), np.float32))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        static = np.asarray(self._static(texts), np.float32).reshape(len(texts), -1)
        verifier = np.zeros((len(texts), self.fused.verifier.dim), np.float32)
        passing = np.flatnonzero(self.passes(static)) if texts else np.zeros(0, np.int64)
        if passing.size:
            verifier[passing] = np.asarray(self._verifier([texts[i] for i in passing]), np.float32)
        self.screened += len(texts) - int(passing.size)
        self.verified += int(passing.size)
        return self.fused.join(static, verifier)
