"""One loaded, validated remediations folder as the server serves it, and what `/v1/health` says about it.

A `ServedFolder` is built completely before anyone sees it and never changes afterwards: the reloader
swaps whole objects, so a request sees either the old folder or the new one, never a mixture.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remedy.config import Config, load_config
from remedy.files.folder import DocumentCache, Folder
from remedy.git import head_commit
from remedy.logs.settings import log_settings
from remedy.matching.matcher import Matcher, build_matcher, rounded_encoder


@dataclass(frozen=True)
class ServedFolder:
    matcher: Matcher
    encode: Callable[[Sequence[str]], np.ndarray]  # run-time queries: no disk cache, same vectors as `match`
    config: Config
    loaded_at: datetime.datetime
    revision: str | None  # the git commit checked out where the folder lives, if it is in a repository
    model_fingerprint: str
    log_fields: Mapping[str, str]  # canonical log field -> the project's name for it (`[logs]`)

    def describe(self) -> dict[str, Any]:
        """The folder part of `/v1/health`: model and pin, settings in force, entries, revision, load time."""
        remediations = self.matcher.by_id.values()
        statuses = Counter(r.status for r in remediations)
        active_kinds = Counter(r.kind for r in remediations if r.status == "active")
        return {
            "model": {"name": self.config.model, "fingerprint": self.model_fingerprint,
                      "verifier": self.matcher.verified},
            "settings": {"threshold": self.matcher.threshold, "margin": self.matcher.margin,
                         "source": self._settings_source(), "calibrated_for": self._pin()},
            "entries": len(self.matcher.by_id),
            "by_status": {status: statuses.get(status, 0) for status in ("active", "draft", "paused")},
            "active_by_kind": {kind: active_kinds.get(kind, 0) for kind in ("answer", "guidance", "review")},
            "revision": self.revision,
            "loaded_at": iso_utc(self.loaded_at),
        }

    def _settings_source(self) -> str:
        """Where threshold and margin come from: `calibrate --write`, hand-set in the config, or the model."""
        if self.config.threshold is not None or self.config.margin is not None:
            return "calibrated" if self.config.calibration.get("fingerprint") else "config"
        defaults = getattr(self.matcher.embedder, "defaults", None)
        return "model defaults" if defaults is not None else "fallback"

    def _pin(self) -> dict[str, Any] | None:
        pinned = self.config.calibration.get("fingerprint")
        if not pinned:
            return None
        return {"model": self.config.calibration.get("model"), "fingerprint": pinned,
                "matches": pinned == self.model_fingerprint}


def read_servable_folder(config_file: str | None, remediations_dir: str | None,
                         documents: DocumentCache | None = None) -> tuple[Config, Folder]:
    """Read the config and the folder afresh and check them like `Remediations.load`; InputError if invalid.

    With `documents`, only files changed since the last read are parsed again.
    """
    from remedy.validation import load_servable_folder

    config = load_config(Path(config_file) if config_file else None,
                         Path(remediations_dir) if remediations_dir else None)
    return config, load_servable_folder(config, documents)


def load_served_folder(config_file: str | None, remediations_dir: str | None,
                       documents: DocumentCache | None = None) -> ServedFolder:
    """The folder read, checked and indexed (the model loaded once per process), ready to serve."""
    from remedy.matching.explain import explain_query

    config, folder = read_servable_folder(config_file, remediations_dir, documents)
    matcher = build_matcher(folder.remediations, config)
    encode = matcher.query_encode or rounded_encoder(matcher.embedder)
    # Build every view a decision uses now, in the loading thread, so the first request after a swap
    # does no set-up work (and the index is never modified while requests read it).
    explain_query(matcher, "", encode=encode)
    return ServedFolder(matcher=matcher, encode=encode, config=config,
                        loaded_at=datetime.datetime.now(datetime.timezone.utc),
                        revision=head_commit(config.remediations_dir),
                        model_fingerprint=matcher.embedder.fingerprint,
                        log_fields=log_settings(config).fields)


def iso_utc(moment: datetime.datetime) -> str:
    """ISO 8601 UTC with `Z` and milliseconds, as every remedy output writes timestamps."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
