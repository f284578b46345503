"""The run-time API and the matching commands on real files, with the bundled model."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from tests.conftest import write, write_answer, write_small_folder

from remedy import Remediations
from remedy.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(repo: Path) -> Path:
    return write_small_folder(repo)


def test_api_serves_active_answers_only(folder: Path) -> None:
    rem = Remediations.load(folder / "remediations")
    hit = rem.answer_for("can i get a REFUND if my flight is cancelled")
    assert hit is not None and hit.id == "refund" and hit.similarity == pytest.approx(1.0)
    assert hit.text.startswith("Yes: a full refund")
    assert rem.answer_for("how do i bake sourdough bread") is None
    assert rem.guidance_for("I am furious about my lost luggage!") == [
        "Apologise first, then explain the delayed-baggage process."]
    assert rem.review_for("Will I get compensation for a two hour delay?",
                          "Yes, every delay is compensated with 600 euros.") == "bad"
    assert rem.review_for("Will I get compensation for a two hour delay?",
                          "Compensation depends on the cause of the delay; see our policy.") is None


def test_api_is_safe_to_share_between_threads(folder: Path) -> None:
    rem = Remediations.load(folder / "remediations")
    queries = ["can i get a refund if my flight is cancelled", "can i bring my dog on the plane"] * 50
    expected = [rem.answer_for(q).id for q in queries]  # type: ignore[union-attr]
    results: list[list[str]] = []

    def worker() -> None:
        results.append([rem.answer_for(q).id for q in queries])  # type: ignore[union-attr]

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


def test_api_refuses_a_folder_with_errors(folder: Path) -> None:
    write(folder / "remediations/broken.yaml", "kind: answer\nid: broken\n")
    with pytest.raises(InputError, match="broken.yaml"):
        Remediations.load(folder / "remediations")


def test_match_json_shape(folder: Path, run) -> None:
    result = run("match", "can I get a refund if my flight is cancelled", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"query", "answer", "guidance", "review", "nearest"} <= set(document)
    assert document["answer"]["id"] == "refund" and document["answer"]["similarity"] == 1.0
    assert document["nearest"][0]["id"] in ("refund", "refund-v2")
    assert all(set(n) >= {"id", "similarity"} for n in document["nearest"])
    assert document["drafts"]["answer"]["id"] == "refund-v2"
    text = run("match", "how do i bake sourdough bread").stdout
    assert "answer: none" in text and "nearest:" in text


def test_match_with_response_applies_a_review(folder: Path, run) -> None:
    result = run("match", "Will I get compensation for a two hour delay?", "--response",
                 "Yes, every delay is compensated with 600 euros.", "--format", "json")
    review = json.loads(result.stdout)["review"]
    assert review["id"] == "bad-refund" and review["verdict"] == "bad" and review["applies"] is True


def test_test_command_passes_then_fails_on_a_conflict(folder: Path, run) -> None:
    result = run("test")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "2 examples, 0 failed" in result.stdout
    # the same paraphrase listed under another entry: one of the two must lose it
    pets = folder / "remediations/answers/pets.yaml"
    pets.write_text(pets.read_text() + "also_matches:\n  - my flight got cancelled, can i get my money back\n")
    failed = run("test", "--format", "json")
    assert failed.exit_code == 1
    failures = json.loads(failed.stdout)["failures"]
    assert [(f["id"], f["field"], f["winner"]) for f in failures] == [("refund", "also_matches", "pets")] or \
        [(f["id"], f["field"], f["winner"]) for f in failures] == [("pets", "also_matches", "refund")]


def test_must_not_match_that_matches_fails_test_and_validate(folder: Path, run) -> None:
    # a near miss listed is refused by the decision itself (rule 4): test and validate pass
    write_answer(folder, "sourdough", "How do I bake sourdough bread?", status="active",
                 extra="must_not_match:\n  - how do i bake sourdough bread at home\n")
    assert run("test").exit_code == 0
    assert "M003" not in run("validate").stdout
    # the same text as the question: the exact "yes" wins, so the "no" does nothing
    write_answer(folder, "sourdough", "How do I bake sourdough bread?", status="active",
                 extra="must_not_match:\n  - how do i bake sourdough bread\n")
    result = run("test")
    assert result.exit_code == 1
    validate = run("validate")
    assert validate.exit_code == 1 and "M003" in validate.stdout


def test_validate_flags_two_active_entries_that_match_each_other(folder: Path, run) -> None:
    write_answer(folder, "refund-again", "can i get a refund if my flight is cancelled please",
                 answer="Yes. See https://example.com/refunds")
    result = run("validate")
    assert result.exit_code == 1 and "M001" in result.stdout and "'refund'" in result.stdout


def test_validate_is_clean_on_the_demo_folder(run, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("validate")
    assert result.exit_code == 0, result.stdout
    assert run("test").exit_code == 0


def test_calibrate_recommends_and_writes_the_config(folder: Path, run) -> None:
    result = run("calibrate", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert 0 < document["threshold"] <= 1 and 0 <= document["margin"] <= 1 and document["curve"]
    pairs = folder / "pairs.jsonl"
    pairs.write_text('{"query": "flight cancelled, refund?", "expected": "refund"}\n'
                     '{"query": "what is the capital of peru", "expected": null}\n', encoding="utf-8")
    # two pairs cannot certify 95% precision: a recommendation, but --write is refused and nothing written
    refused = run("calibrate", "--pairs", "pairs.jsonl", "--write")
    assert refused.exit_code == 1 and "nothing written" in refused.stderr
    # the verdict is the report's headline (stdout); the refusal is a message (stderr)
    assert "more label(s)" in refused.stdout and not (folder / "remedy.toml").exists()
    from remedy.matching.embedding import load_embedder

    fingerprint = load_embedder("bundled").fingerprint
    (folder / "remedy.toml").write_text(f'threshold = 0.8\n[calibration]\nmodel = "bundled"\n'
                                        f'fingerprint = "{fingerprint}"\n', encoding="utf-8")
    validated = run("validate")
    assert validated.exit_code == 0 and "C001" not in validated.stdout
    # the pin names the model the values were tuned for: another model's hash gets a warning
    config = (folder / "remedy.toml").read_text()
    (folder / "remedy.toml").write_text(config.replace(fingerprint, "0" * 16))
    warned = run("validate")
    assert warned.exit_code == 0 and "C001" in warned.stdout and "calibrate --write" in warned.stdout
    pairs.write_text('{"query": "x", "expected": "no-such-entry"}\n', encoding="utf-8")
    bad = run("calibrate", "--pairs", "pairs.jsonl")
    assert bad.exit_code == 2 and "pairs.jsonl:1" in bad.stderr


def test_model_adapt_writes_a_guided_model_the_project_can_use(folder: Path, run,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.matching.test_adapt import bag_of_words_teacher

    import remedy.matching.adapt_project as adapt_project

    monkeypatch.setattr(adapt_project, "load_teacher", lambda spec: bag_of_words_teacher(384))
    logs = folder / "logs.jsonl"
    queries = ["my flight got cancelled can i get my money back please", "how do i bake sourdough bread",
               "can i bring my dog on the plane with me"]
    logs.write_text("".join(json.dumps({"id": f"q{i}", "timestamp": "2026-08-01T00:00:00Z", "query": q,
                                        "response": "…"}) + "\n" for i, q in enumerate(queries))
                    + '{"id": "q9", "query": \n', encoding="utf-8")
    before = logs.read_bytes()
    refused = run("model", "adapt", "--logs", "logs.jsonl", "--out", "models/strict", "--strict")
    assert refused.exit_code == 2 and "logs.jsonl:4" in refused.stderr and not (folder / "models/strict").exists()
    result = run("model", "adapt", "--logs", "logs.jsonl", "--out", "models/adapted")
    assert result.exit_code == 0, result.stderr
    assert "skipped 1 malformed log line(s)" in result.stderr and "logs.jsonl:4" in result.stderr
    assert "guided by the folder:" in result.stdout and "held-out also_matches" in result.stdout
    assert (folder / "models/adapted/model.safetensors").is_file() and logs.read_bytes() == before
    # its own decision defaults, never the base model's; with 3 log queries nothing can be certified
    defaults = json.loads((folder / "models/adapted/remedy_defaults.json").read_text())
    assert defaults["adapted_from"] == "bundled_model" and "inherited_from" not in defaults
    assert defaults["threshold"] == 1.0 and defaults["certified"] is False
    assert "decision defaults written for the adapted model: threshold 1" in result.stdout
    # the adapted model's own defaults decide on its cosine (with the verifier it would only screen)
    (folder / "remedy.toml").write_text('model = "models/adapted"\nverifier = false\n', encoding="utf-8")
    matched = run("match", "Can I get a refund if my flight is cancelled?", "--format", "json")
    assert matched.exit_code == 0, matched.stderr
    assert "threshold 1, margin 0 are the model's uncalibrated defaults" in matched.stderr
    assert json.loads(matched.stdout)["answer"]["id"] == "refund"

    again = run("model", "adapt", "--logs", "logs.jsonl", "--out", "models/adapted", "--no-guide")
    # an existing model is never overwritten silently; here it is also the model being adapted (an input)
    assert again.exit_code == 2 and "is the input" in again.stderr
    plain = run("model", "adapt", "--logs", "logs.jsonl", "--out", "models/plain", "--no-guide")
    assert plain.exit_code == 0, plain.stderr
    assert "not guided by the folder" in plain.stdout
