"""Which thresholds the queue groups with: the static model's own topics, else offsets from its threshold;
the verifier's pass only where the verifier decides."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from remedy.logs.clustering import topic_thresholds
from remedy.matching.embedding import _read_defaults, bundled_defaults
from remedy.matching.matcher import Matcher


def defaults_file(folder: Path, **extra: object) -> Path:
    (folder / "remedy_defaults.json").write_text(json.dumps({"threshold": 0.8, "margin": 0.02, **extra}))
    return folder


def matcher(defaults: object, verifier_merge: float | None = None) -> Matcher:
    static = SimpleNamespace(defaults=defaults)
    embedder = static if verifier_merge is None else SimpleNamespace(
        static=static, verifier=SimpleNamespace(settings=SimpleNamespace(topic_merge=verifier_merge)))
    return Matcher(index=None, embedder=embedder, encode=lambda t: None, threshold=0.7, margin=0.0,  # type: ignore[arg-type]
                   by_id={}, verifier_encode=(lambda t: None) if verifier_merge is not None else None)


def test_a_model_with_topics_groups_with_them_whatever_the_project_threshold(tmp_path: Path) -> None:
    topics = {"leader": 0.86, "merge": 0.56, "merge_before_verifier": 0.68, "verifier_screen": 0.5}
    defaults = _read_defaults(defaults_file(tmp_path, topics=topics))
    assert defaults is not None and (defaults.threshold, defaults.topic_merge) == (0.8, 0.56)
    static = matcher(defaults).topic_settings()
    assert (static.leader, static.merge, static.verifying) == (0.86, 0.56, False)  # not the project's 0.7
    verified = matcher(defaults, verifier_merge=0.55).topic_settings()
    assert (verified.merge, verified.screen, verified.verified_merge, verified.verifying) == (0.68, 0.5, 0.55, True)


def test_a_model_without_topics_keeps_the_offsets_and_a_bad_topics_entry_is_ignored(tmp_path: Path) -> None:
    defaults = _read_defaults(defaults_file(tmp_path, topics="not a table"))
    assert defaults is not None and defaults.topic_leader is None and defaults.threshold == 0.8
    settings = matcher(defaults).topic_settings()
    assert (settings.leader, settings.merge) == topic_thresholds(0.7)  # the matcher's static-scale threshold
    assert not matcher(defaults, verifier_merge=0.55).topic_settings().verifying  # no screen: no pass


def test_the_shipped_model_carries_topic_thresholds() -> None:
    shipped = bundled_defaults()
    assert shipped is not None and shipped.topic_leader is not None and shipped.topic_merge is not None
    assert shipped.topic_merge <= (shipped.topic_merge_verified or 1.0) <= shipped.topic_leader
