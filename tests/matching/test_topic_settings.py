"""Which vectors and thresholds the queue groups with: the verifier's where it is in force and carries them,
else the static model's own topics, else offsets from its threshold."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from remedy.logs.clustering import topic_thresholds
from remedy.logs.topic_settings import STATIC, VERIFIER
from remedy.matching.embedding import _read_defaults, bundled_defaults
from remedy.matching.matcher import Matcher


def defaults_file(folder: Path, **extra: object) -> Path:
    (folder / "remedy_defaults.json").write_text(json.dumps({"threshold": 0.8, "margin": 0.02, **extra}))
    return folder


def matcher(defaults: object, verifier_topics: tuple[float, float] | None = None) -> Matcher:
    static = SimpleNamespace(defaults=defaults)
    leader, merge = verifier_topics or (None, None)
    embedder = static if verifier_topics is None else SimpleNamespace(
        static=static, verifier=SimpleNamespace(settings=SimpleNamespace(topic_leader=leader, topic_merge=merge),
                                                fingerprint="verifier-x"))
    return Matcher(index=None, embedder=embedder, encode=lambda t: None, threshold=0.7, margin=0.0,  # type: ignore[arg-type]
                   by_id={}, verifier_encode=(lambda t: None) if verifier_topics is not None else None)


def test_a_model_with_topics_groups_with_them_whatever_the_project_threshold(tmp_path: Path) -> None:
    defaults = _read_defaults(defaults_file(tmp_path, topics={"leader": 0.86, "merge": 0.56}))
    assert defaults is not None and (defaults.threshold, defaults.topic_merge) == (0.8, 0.56)
    static = matcher(defaults).topic_settings()
    assert (static.leader, static.merge, static.model) == (0.86, 0.56, STATIC)  # not the project's 0.7


def test_the_verifier_groups_on_its_own_vectors_with_its_own_thresholds(tmp_path: Path) -> None:
    defaults = _read_defaults(defaults_file(tmp_path, topics={"leader": 0.86, "merge": 0.56}))
    judged = matcher(defaults, verifier_topics=(0.8, 0.6))
    settings = judged.topic_settings()
    assert (settings.leader, settings.merge, settings.model) == (0.8, 0.6, VERIFIER)
    assert judged.topic_encoder(settings)[1] == "verifier-x"  # the topic cache's key names the verifier
    # a verifier whose file has no (or inverted) topic thresholds: the static model groups
    assert matcher(defaults, verifier_topics=(0.5, 0.6)).topic_settings().model == STATIC


def test_a_model_without_topics_keeps_the_offsets_and_a_bad_topics_entry_is_ignored(tmp_path: Path) -> None:
    defaults = _read_defaults(defaults_file(tmp_path, topics="not a table"))
    assert defaults is not None and defaults.topic_leader is None and defaults.threshold == 0.8
    settings = matcher(defaults).topic_settings()
    assert (settings.leader, settings.merge) == topic_thresholds(0.7)  # the matcher's static-scale threshold


def test_the_shipped_models_carry_topic_thresholds() -> None:
    from remedy.matching.verifier import read_settings

    shipped = bundled_defaults()
    assert shipped is not None and shipped.topic_leader is not None and shipped.topic_merge is not None
    assert shipped.topic_merge <= shipped.topic_leader
    verifier = read_settings()
    assert verifier.topic_leader is not None and verifier.topic_merge is not None
    assert verifier.topic_merge <= verifier.topic_leader


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
