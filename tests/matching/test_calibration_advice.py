"""`calibrate` from the CLI says one consistent thing (issue 34): what it advises follows from the bound it
shows, and it never asks an expert about a query the judge has no opinion of."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.conftest import write_answer, write_small_folder
from tests.matching.test_verifier import QUERIES, tiny  # noqa: F401 (a fixture)

from remedy.matching.calibrate_folder import certificate_floor


def test_a_bound_above_the_target_on_too_few_labels_is_explained_not_contradicted(repo: Path, run) -> None:
    # 40 right labels: the 97.5 % bound is 0.025^(1/40) = 0.912 >= 0.9, but a certificate must rest on
    # twice the labels that could certify 0.9 (72): refused, and the headline says why in the bound's terms.
    (repo / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?")
    write_answer(repo, "pets", "Can I bring my dog on the plane?")
    rows = "".join(f"- query: refund for my cancelled flight number {n}\n  candidate: refund\n  label: yes\n"
                   for n in range(40))
    (repo / "labels.yaml").write_text(rows, encoding="utf-8")
    result = run("calibrate", "--labels", "labels.yaml", "--target-precision", "0.9", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert not document["met_target"] and document["precision_lower"] >= 0.9
    assert document["why_not"] == "floor" and document["floor"] == certificate_floor(0.9) == 72
    assert document["labels_needed"] == 32  # 40 labels like these, 1.8 times over
    text = run("calibrate", "--labels", "labels.yaml", "--target-precision", "0.9")
    assert "but it rests on 40 accepted label(s); a certificate needs the equivalent of 72" in text.stdout
    assert "roughly 32 more label(s)" in text.stdout


def test_at_a_precision_below_the_target_it_says_labels_cannot_reach_it(repo: Path, run) -> None:
    (repo / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?")
    write_answer(repo, "pets", "Can I bring my dog on the plane?")
    # the refund answer wins each of these queries and is wrong for every one: no setting is above 0.95
    rows = "".join(f"- query: refund for my cancelled train number {n}\n  candidate: refund\n  label: no\n"
                   "  correct: none\n" for n in range(40))
    (repo / "labels.yaml").write_text(rows, encoding="utf-8")
    document = json.loads(run("calibrate", "--labels", "labels.yaml", "--format", "json").stdout)
    assert not document["met_target"] and document["labels_needed"] is None and document["why_not"] == "precision"
    assert "cannot be reached by more labels at this precision" in run("calibrate", "--labels", "labels.yaml").stdout


def test_the_sample_leaves_out_queries_the_judge_has_no_opinion_of(repo: Path, run, tiny: None) -> None:  # noqa: F811
    # Issue 34: 77 of a sample's rows had similarity 0, all paired with the alphabetically first answer:
    # queries the verifier's screen cut, about which the expert can say nothing useful.
    write_small_folder(repo)
    far = ["how do i bake sourdough bread", "what is the capital of peru", "recipe for lemon cake"]
    queries = [*QUERIES, *far, "is a refund possible when the flight is cancelled", "can my dog fly with me"]
    (repo / "logs.jsonl").write_text("\n".join(json.dumps({"id": f"q{i}", "timestamp": "2026-08-01T00:00:00Z",
                                                          "query": q}) for i, q in enumerate(queries)) + "\n",
                                     encoding="utf-8")
    sampled = run("calibrate", "--sample", "50", "--logs", "logs.jsonl", "--out", "labels.yaml")
    assert sampled.exit_code == 0, sampled.stderr
    rows = yaml.safe_load((repo / "labels.yaml").read_text(encoding="utf-8"))
    asked = {row["query"] for row in rows}
    assert asked and not asked & set(far) and all(row["similarity"] > 0 for row in rows)
    assert "screened out (the judge has no opinion of them)" in sampled.stderr
    assert "the judge has no opinion of (screened out) left out" in (repo / "labels.yaml").read_text(encoding="utf-8")


NEAR_MISS = "refund for my cancelled train"


@pytest.mark.parametrize(("row", "field", "why"), [
    (f"- query: {NEAR_MISS.upper()}!\n  candidate: refund\n  label: yes\n", "must_not_match",
     "here 'refund' is right, there it is listed under must_not_match of 'refund'"),
    (f"- query: {NEAR_MISS}\n  candidate: pets\n  label: no\n  correct: refund\n", "must_not_match",
     "here 'refund' is right"),
    ("- query: my flight got cancelled, can i get my money back\n  candidate: refund\n  label: no\n",
     "also_matches", "here 'refund' is not right, there it is listed under also_matches of 'refund'"),
    ("- query: my flight got cancelled, can i get my money back\n  candidate: pets\n  label: no\n"
     "  correct: none\n", "also_matches", "here no entry is right (correct: none)"),
])
def test_a_label_that_contradicts_the_folders_examples_is_refused_with_both_places(
        repo: Path, run, row: str, field: str, why: str) -> None:
    (repo / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?",
                 extra="also_matches:\n  - my flight got cancelled, can i get my money back\n"
                       f"must_not_match:\n  - {NEAR_MISS}\n")
    write_answer(repo, "pets", "Can I bring my dog on the plane?")
    folder_text = (repo / "remediations/answers/refund.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(folder_text, 1) if text.strip().startswith("- ") and
                folder_text[i - 2].strip().startswith(field))
    (repo / "labels.yaml").write_text("- query: unrelated\n  candidate: pets\n  label: no\n" + row, encoding="utf-8")
    result = run("calibrate", "--labels", "labels.yaml")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith("remedy: labels.yaml:4: query ")
    assert f"contradicts remediations/answers/refund.yaml:{line}: {why}" in result.stderr
    # the same verdicts as the folder's are no contradiction: a "no" for the must_not_match, a "yes" for also_matches
    (repo / "labels.yaml").write_text(f"- query: {NEAR_MISS}\n  candidate: refund\n  label: no\n"
                                      "- query: my flight got cancelled, can i get my money back\n"
                                      "  candidate: refund\n  label: yes\n", encoding="utf-8")
    assert run("calibrate", "--labels", "labels.yaml").exit_code in (0, 1)


def test_a_must_not_match_is_a_no_and_is_never_asked_again(repo: Path, run) -> None:
    (repo / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?",
                 extra="also_matches:\n  - my flight got cancelled, can i get my money back\n"
                       f"must_not_match:\n  - {NEAR_MISS}\n")
    write_answer(repo, "pets", "Can I bring my dog on the plane?")
    # The folder alone: the also_matches held out is a "yes", the must_not_match its entry wins is a "no".
    document = json.loads(run("calibrate", "--format", "json").stdout)
    assert document["labels"] == 2 and document["positives"] == 1
    assert max(point["wrong"] for point in document["curve"]) == 1
    queries = [NEAR_MISS, "refund for my cancelled flight please", "can my dog come on the plane"]
    (repo / "logs.jsonl").write_text("\n".join(json.dumps({"id": f"q{i}", "timestamp": "2026-08-01T00:00:00Z",
                                                          "query": q}) for i, q in enumerate(queries)) + "\n",
                                     encoding="utf-8")
    assert run("calibrate", "--sample", "10", "--logs", "logs.jsonl", "--out", "labels.yaml").exit_code == 0
    asked = {row["query"] for row in yaml.safe_load((repo / "labels.yaml").read_text(encoding="utf-8"))}
    assert NEAR_MISS not in asked and "refund for my cancelled flight please" in asked
