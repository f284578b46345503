"""`remedy suggest`: suggest -> fill in -> apply -> test, on files in a temp git repository, with the shipped
model; and every way a labels file can no longer fit the folder, each refused with nothing changed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.conftest import git, write, write_answer
from tests.serving.server_process import start_server

from remedy import Remediations

SERVED_NEAR_MISS = "can i get money back if my flight is delayed"  # refund serves it today
ITS_PARAPHRASE = "can i get my money back if my flight is delayed"  # too: the audit folds the two in one line
PARAPHRASE = "can my dog fly with me"  # in pets' band: its best entry, below the threshold
NEAR_MISS = "how do I get a refund when my flight is delayed"  # in refund's band, but not its question
REFUND_FILE = """\
kind: answer
id: refund
status: active   # served since November
question: Can I get a refund if my flight is cancelled?
answer: |
  Yes: a full refund to the original payment. See https://example.com/refunds
# the paraphrases the team checked
also_matches:
  - my flight got cancelled, can i get my money back   # from the October logs
tags: [refunds]
activated: 2026-11-03T10:00:00Z
"""


@pytest.fixture
def project(repo: Path) -> Path:
    write(repo / "remediations/answers/refund.yaml", REFUND_FILE)
    write_answer(repo, "pets", "Can I bring my dog on the plane?", answer="Small dogs travel in the cabin.",
                 extra="activated: 2026-11-03T10:00:00Z\n")
    queries = [PARAPHRASE] * 3 + ["Can my dog fly with me?", NEAR_MISS, NEAR_MISS,
                                  "cancelled flight refund", "what is the weather in paris",
                                  "can i get a refund for my hotel booking", SERVED_NEAR_MISS, ITS_PARAPHRASE]
    with (repo / "logs.jsonl").open("w", encoding="utf-8") as out:
        for i, query in enumerate(queries):
            out.write(json.dumps({"id": f"log-{i}", "timestamp": f"2026-11-2{i % 9}T10:00:00Z", "query": query,
                                  "is_bad": i % 2 == 0}) + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "folder")
    return repo


def folder_bytes(repo: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted((repo / "remediations").rglob("*.yaml"))}


def fill(path: Path, labels: dict[str, str]) -> None:
    """The expert: `label: <value>` on each row whose query is in `labels`."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for query, label in labels.items():
            if line.startswith("- {") and json.dumps(query) in line or f"query: {query}," in line:
                line = re.sub(r"label: ?\}$", f"label: {label}}}", line)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_suggest_lists_the_band_folded_with_counts(project: Path, run) -> None:
    result = run("suggest", "--logs", "logs.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    lines = {(s["id"], s["query"]): s for s in report["suggestions"]}
    pets = lines[("pets", PARAPHRASE)]
    # "can my dog fly with me" and "Can my dog fly with me?" are one normalized query: four rows, one line
    assert pets["count"] == 4 and pets["variants"] == 1 and pets["served"] is False
    assert report["threshold"] - report["band"] <= pets["similarity"] < report["threshold"]
    assert lines[("refund", NEAR_MISS)]["count"] == 2
    # what refund already serves is not a suggestion, nor what is in its texts, nor what leads elsewhere
    assert ("refund", "cancelled flight refund") not in lines
    assert not any(s["query"] == "what is the weather in paris" for s in report["suggestions"])
    assert {e["id"] for e in report["entries"]} == {"pets", "refund"}
    audit = json.loads(run("suggest", "refund", "--logs", "logs.jsonl", "--served", "--format", "json").stdout)
    served = [s for s in audit["suggestions"] if s["served"]]
    # the two delayed-flight queries are near-duplicates: one line (the nearer), two variants, two rows
    assert {(s["query"], s["variants"], s["count"]) for s in served} == {("cancelled flight refund", 1, 1),
                                                                         (ITS_PARAPHRASE, 2, 2)}
    for fmt in ("table", "csv", "markdown"):
        shown = run("suggest", "--logs", "logs.jsonl", "--format", fmt)
        assert shown.exit_code == 0 and PARAPHRASE in shown.stdout


def test_suggest_fill_apply_then_test_passes_and_the_paraphrase_is_served(project: Path, run) -> None:
    before = (project / "remediations/answers/refund.yaml").read_text(encoding="utf-8")
    assert Remediations.load(project / "remediations").answer_for(PARAPHRASE) is None
    wrote = run("suggest", "--logs", "logs.jsonl", "--out", "labels.yaml")
    assert wrote.exit_code == 0 and "remedy suggest --apply labels.yaml" in wrote.stderr
    text = (project / "labels.yaml").read_text(encoding="utf-8")
    assert text.startswith("# remedy suggestion labels; model ") and "# pets   Q: Can I bring my dog" in text
    fill(project / "labels.yaml", {PARAPHRASE: "yes", NEAR_MISS: "no"})
    applied = run("suggest", "--apply", "labels.yaml", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    document = json.loads(applied.stdout)
    assert document["yes"] == 1 and document["no"] == 1
    after = (project / "remediations/answers/refund.yaml").read_text(encoding="utf-8")
    # every byte kept: the comments, the order; the no went in as a new list after also_matches
    assert after == before.replace("tags: [refunds]\n", f"must_not_match:\n  - {NEAR_MISS}\ntags: [refunds]\n")
    pets = (project / "remediations/answers/pets.yaml").read_text(encoding="utf-8")
    assert f"  Small dogs travel in the cabin.\nalso_matches:\n  - {PARAPHRASE}\nactivated:" in pets
    assert run("test").exit_code == 0
    assert run("validate").exit_code == 0
    # served now, by the API, `match` and `coverage` alike
    assert Remediations.load(project / "remediations").answer_for(PARAPHRASE).id == "pets"  # type: ignore[union-attr]
    assert json.loads(run("match", PARAPHRASE, "--format", "json").stdout)["answer"]["id"] == "pets"
    coverage = json.loads(run("coverage", "--logs", "logs.jsonl", "--format", "json").stdout)
    pets_row = next(r for r in coverage["remediations"] if r["id"] == "pets")
    assert pets_row["covered_logs"] >= 4
    # the same file again no longer fits: refused, nothing changed
    snapshot = folder_bytes(project)
    again = run("suggest", "--apply", "labels.yaml")
    assert again.exit_code == 2 and "labels.yaml:" in again.stderr and "field 'query'" in again.stderr
    assert "already in also_matches of 'pets'" in again.stderr
    assert folder_bytes(project) == snapshot
    # and the suggestions left: the judged queries are not asked again
    left = json.loads(run("suggest", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert not {PARAPHRASE, NEAR_MISS} & {s["query"] for s in left["suggestions"]}


def _labels(project: Path, rows: list[str]) -> Path:
    path = project / "labels.yaml"
    path.write_text("# hand-written\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("rows", "message"), [
    (["- {id: pets, query: can my dog fly with me, label: yes}", "- {id: nope, query: hello there, label: no}"],
     r"labels.yaml:3: field 'id': no remediation 'nope'"),
    (["- {id: pets, query: can my dog fly with me, label: maybe}"], r"labels.yaml:2: field 'label' must be yes, no"),
    (["- {id: pets, query: Can I bring my dog on the plane, label: yes}"],
     r"labels.yaml:2: field 'query': .* is already the question of 'pets'"),
    (["- {id: pets, query: can my dog fly with me, label: yes}", "- {id: pets, query: \"Can my dog fly with me?\", "
      "label: no}"], r"labels.yaml:3: field 'label': .* labelled no here and yes at line 2"),
    (["- {id: pets, query: \"two\\nlines\", label: yes}"], r"labels.yaml:2: field 'query' holds a line break"),
    (["- {id: pets, quary: can my dog fly with me, label: yes}"], r"labels.yaml:2: unknown field 'quary'"),
    # the adversarial round on suggestion labels (docs/security.md): each was exit 3, a hang or accepted
    (["- {id: pets, query: can my dog fly with me, label: on}"], r"labels.yaml:2: field 'label' must be yes, no"),
    (["- {id: pets, query: 2026-02-30, label: yes}"], r"labels.yaml:2: field 'query' is not a value YAML can read"),
    (["- {id: pets, query: \"can my dog \u202efly\", label: yes}"],
     r"labels.yaml:2: field 'query' holds U\+202E"),
    (["- {id: pets, query: " + "a" * 2_001 + ", label: yes}"], r"labels.yaml:2: field 'query' is 2,001 characters"),
    (["[" * 3_000], r"labels.yaml: nested too deeply"),
])
def test_a_labels_file_that_does_not_fit_is_refused_and_nothing_changes(project: Path, run, rows: list[str],
                                                                       message: str) -> None:
    _labels(project, rows)
    snapshot = folder_bytes(project)
    result = run("suggest", "--apply", "labels.yaml")
    assert result.exit_code == 2, result.stdout
    assert re.search(message, result.stderr), result.stderr
    assert folder_bytes(project) == snapshot


def test_an_edit_the_gate_forbids_is_refused_and_nothing_changes(project: Path, run) -> None:
    # "cancelled flight refund" is refund's: listed under pets, refund would win it as an unlisted paraphrase
    _labels(project, ["- {id: pets, query: can my dog fly with me, label: yes}",
                      "- {id: pets, query: cancelled flight refund, label: yes}"])
    snapshot = folder_bytes(project)
    result = run("suggest", "--apply", "labels.yaml")
    assert result.exit_code == 1
    assert "nothing written" in result.stderr and "M002" in result.stderr and "cancelled flight refund" in result.stderr
    assert folder_bytes(project) == snapshot


def test_a_flow_style_file_is_refused_with_its_name(project: Path, run) -> None:
    write(project / "remediations/answers/pets.yaml",
          "{kind: answer, id: pets, status: active, question: Can I bring my dog on the plane?, answer: Yes.}\n")
    _labels(project, ["- {id: pets, query: can my dog fly with me, label: yes}"])
    snapshot = folder_bytes(project)
    result = run("suggest", "--apply", "labels.yaml")
    assert result.exit_code == 1 and "pets.yaml: written as a one-line" in result.stderr
    assert folder_bytes(project) == snapshot


def test_usage_errors(project: Path, run) -> None:
    assert run("suggest").exit_code == 2
    assert "--apply FILE takes no ids" in run("suggest", "pets", "--apply", "x.yaml").stderr
    assert "no remediation with id 'nope'" in run("suggest", "nope", "--logs", "logs.jsonl").stderr
    assert run("suggest", "--logs", "logs.jsonl", "--limit", "0").exit_code == 2
    (project / "labels.yaml").write_text("", encoding="utf-8")
    exists = run("suggest", "--logs", "logs.jsonl", "--out", "labels.yaml")
    assert exists.exit_code == 2 and "exists" in exists.stderr
    assert run("suggest", "--logs", "logs.jsonl", "--out", "logs.jsonl").exit_code == 2


def test_a_named_draft_gets_its_band_as_if_active(project: Path, run) -> None:
    write_answer(project, "dogs", "Can my dog travel in the cabin with me?", status="draft")
    report = json.loads(run("suggest", "dogs", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert [e["id"] for e in report["entries"]] == ["dogs"] and report["entries"][0]["status"] == "draft"
    assert all(s["id"] == "dogs" for s in report["suggestions"])


def test_a_no_from_the_audit_is_refused_by_the_api_match_serve_and_coverage(project: Path, run) -> None:
    """The audit (`--served`) shows a near miss refund serves today; the expert says no: after --apply it and
    its paraphrase are refused everywhere (the decision reads must_not_match), the real paraphrases stay."""
    assert Remediations.load(project / "remediations").answer_for(ITS_PARAPHRASE).id == "refund"  # type: ignore[union-attr]
    before = json.loads(run("coverage", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert run("suggest", "refund", "--logs", "logs.jsonl", "--served", "--out", "labels.yaml").exit_code == 0
    fill(project / "labels.yaml", {ITS_PARAPHRASE: "no", "cancelled flight refund": "yes"})
    applied = run("suggest", "--apply", "labels.yaml")
    assert applied.exit_code == 0, applied.stderr
    assert f"must_not_match:\n  - {ITS_PARAPHRASE}\n" in (project / "remediations/answers/refund.yaml").read_text()
    assert run("test").exit_code == 0
    api = Remediations.load(project / "remediations")
    assert api.answer_for(SERVED_NEAR_MISS) is None and api.answer_for(ITS_PARAPHRASE) is None
    assert api.answer_for("cancelled flight refund").id == "refund"  # type: ignore[union-attr]
    assert api.answer_for("they cancelled my flight, do i get a refund").id == "refund"  # type: ignore[union-attr]
    assert json.loads(run("match", ITS_PARAPHRASE, "--format", "json").stdout)["answer"] is None
    after = json.loads(run("coverage", "--logs", "logs.jsonl", "--format", "json").stdout)
    covered = {r["id"]: r["covered_logs"] for r in after["remediations"]}
    assert covered["refund"] == {r["id"]: r["covered_logs"] for r in before["remediations"]}["refund"] - 2
    server = start_server(project)
    try:
        for query, expected in ((ITS_PARAPHRASE, None), ("cancelled flight refund", "refund")):
            reply = server.request("POST", "/v1/match", {"query": query}, token=None)
            assert reply.status == 200 and (reply.body["answer"] or {}).get("id") == expected, reply.body
    finally:
        server.stop()


def test_a_fifo_as_the_labels_file_is_refused_not_waited_on(project: Path, run) -> None:
    import os

    os.mkfifo(project / "labels.yaml")
    result = run("suggest", "--apply", "labels.yaml")
    assert result.exit_code == 2 and "not a regular file" in result.stderr


def test_suggest_out_is_refused_inside_the_remediations_folder(project: Path, run) -> None:
    snapshot = folder_bytes(project)
    result = run("suggest", "--logs", "logs.jsonl", "--out", "remediations/labels.yaml")
    assert result.exit_code == 2 and "inside the remediations folder" in result.stderr, result.stderr
    assert folder_bytes(project) == snapshot
