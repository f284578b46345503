"""Which thresholds the queue groups with: the static model's own topics, else offsets from its threshold;
the verifier's pass only where the verifier decides."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

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


BAD_TOPICS = [{"leader": "high", "merge": 0.56}, {"leader": -0.5, "merge": -0.9},
              {"leader": float("nan"), "merge": 0.5}, {"leader": True, "merge": 0.5},
              {"leader": 5, "merge": 3}, {"leader": 0.5, "merge": 0.9}]


def test_a_malformed_topics_entry_keeps_the_model_threshold_and_groups_with_offsets(tmp_path: Path) -> None:
    for number, topics in enumerate(BAD_TOPICS):
        folder = tmp_path / str(number)
        folder.mkdir()
        defaults = _read_defaults(defaults_file(folder, topics=topics))
        assert defaults is not None and (defaults.threshold, defaults.margin) == (0.8, 0.02), topics
        assert (defaults.topic_leader, defaults.topic_merge) == (None, None), topics


def test_issues_with_a_model_whose_topics_are_malformed_groups_with_offsets_and_says_so(
        repo: Path, run, caplog: pytest.LogCaptureFixture) -> None:
    import shutil

    from remedy.matching.embedding import BUNDLED_DIR

    logs = repo / "logs.jsonl"
    rows = [{"id": f"l{i}", "timestamp": "2026-08-01T00:00:00Z", "query": query, "response": "no idea", "is_bad": True}
            for i, query in enumerate(["can i bring a drone", "can i bring my drone", "is wifi free on board"])]
    logs.write_text("".join(json.dumps(row) + "\n" for row in rows))
    expected = None
    for name, topics in [("good", None), ("nan", {"leader": float("nan"), "merge": 0.5}),
                         ("negative", {"leader": -0.5, "merge": -0.9})]:
        model = repo / "models" / name
        shutil.copytree(BUNDLED_DIR, model)
        data = json.loads((model / "remedy_defaults.json").read_text())
        if topics is None:
            del data["topics"]  # the offsets: what a malformed table must fall back to
        else:
            data["topics"] = topics
        (model / "remedy_defaults.json").write_text(json.dumps(data))
        (repo / "remedy.toml").write_text(f'model = "models/{name}"\nverifier = false\n')
        shutil.rmtree(repo / ".remedy", ignore_errors=True)
        caplog.clear()
        result = run("issues", "--logs", str(logs), "--format", "json", "--top", "0")
        assert result.exit_code == 0, result.output  # NaN crashed the clustering; negatives made one issue
        issues = [(issue["id"], issue["size"]) for issue in json.loads(result.stdout)["issues"]]
        expected = expected or issues
        assert issues == expected and len(issues) > 1
        assert (topics is not None) == ("ignoring the topic thresholds" in caplog.text)
