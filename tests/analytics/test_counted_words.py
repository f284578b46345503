"""Each number is named for what it counts: serves are not failures prevented, scaffolds and activations are
not authorship, triage decisions show beside the addressed share, and a multi-passage context stays one block."""

from __future__ import annotations

import json
import os
from pathlib import Path

from remedy.analytics.drafts import PLACEHOLDER
from tests.conftest import git, write_answer

REFUND = "Can I get a refund if my flight is cancelled?"
PETS = "Can I bring my dog on the plane?"


def log(n: int, day: int, query: str, **fields) -> dict:
    return {"id": f"l{n}", "timestamp": f"2026-10-{day:02d}T10:00:00Z", "query": query, "response": "…", **fields}


def write_logs(repo: Path, rows: list[dict]) -> None:
    (repo / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_answers_served_are_not_failures_prevented(repo: Path, run) -> None:
    write_answer(repo, "refund", REFUND)
    write_answer(repo, "pets", PETS)
    rows = [log(i, 2, REFUND, served_remediation="refund", is_bad=False) for i in range(200)]  # 200 identical serves
    rows += [log(300, 1, PETS, is_bad=True),  # the assistant's own answer failed first ...
             log(301, 3, PETS, served_remediation="pets", is_bad=False),  # ... so these serves prevented failures
             log(302, 4, PETS, served_remediation="pets", is_bad=False),
             log(303, 5, "can my dog fly with me", served_remediation="pets", is_bad=True)]  # the log says: would fail
    write_logs(repo, rows)
    result = run("coverage", "--logs", "logs.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    by_id = {row["id"]: row for row in json.loads(result.stdout)["remediations"]}
    assert (by_id["refund"]["answers_served"], by_id["refund"]["failures_prevented"]) == (200, 0)
    assert (by_id["pets"]["answers_served"], by_id["pets"]["failures_prevented"]) == (3, 3)
    assert by_id["refund"]["preventions"] == 200  # DESIGN 3.1's key keeps its meaning: serves
    table = run("coverage", "--logs", "logs.jsonl").stdout
    assert "answers_served  failures_prevented  last_served" in table and "preventions" not in table
    assert ("failures prevented: the serves where the log is a failure or the same query failed where no answer "
            "was served") in table

    # the gate says what it counted
    for args in (("add", "-A"), ("commit", "-q", "-m", "answers")):
        git(repo, *args)
    (repo / "remediations/answers/refund.yaml").unlink()
    gate = run("check", "--base", "HEAD", "--logs", "logs.jsonl")
    assert gate.exit_code == 1 and "was served 200 times in the logs" in gate.stdout and "prevented" not in gate.stdout


def test_triaged_away_failures_show_beside_the_addressed_share(repo: Path, run) -> None:
    write_answer(repo, "refund", REFUND)
    write_logs(repo, [log(1, 1, REFUND, is_bad=True), log(2, 2, PETS, is_bad=True), log(3, 3, PETS, is_bad=True),
                      log(4, 4, "Is there wifi on board?", is_bad=True)])
    before = run("coverage", "--logs", "logs.jsonl").stdout
    assert "4 failures: 1 addressed by remediations (25.0%; 1 by active entries), 3 not (none triaged away)" in before
    pets = next(i["id"] for i in json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json").stdout)["issues"]
                if i["representative_query"] == PETS)
    assert run("triage", pets, "--logs", "logs.jsonl", "--wont-fix").exit_code == 0
    after = run("coverage", "--logs", "logs.jsonl").stdout
    assert ("3 not (2 of them triaged away, 50.0%: 0 addressed, 0 no action needed, 2 won't fix; 1 left for the "
            "queue)") in after
    report = json.loads(run("report", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert {m["key"]: m["value"] for m in report["headline"]}["triaged_away"] == 2


def test_contributions_count_authored_content_not_scaffolds_or_status_flips(repo: Path, run) -> None:
    def commit(author: str, message: str) -> None:
        env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_COMMITTER_NAME": author}
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", message, env=env)

    write_logs(repo, [log(1, 1, PETS, is_bad=True), log(2, 2, REFUND, is_bad=True)])
    assert run("init", ".").exit_code == 0
    commit("Ina Init", "remedy init")  # the examples: nobody's creation
    issue = json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json").stdout)["issues"][0]["id"]
    scaffold = run("new", "answer", "--from-issue", issue, "--logs", "logs.jsonl").stdout.split()[1]
    commit("Sam Scaffold", "a TODO draft")  # a scaffold: nobody's creation yet
    path = repo / scaffold
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(PLACEHOLDER["answer"], "Yes, a full refund. See https://example.com/refunds"),
                    encoding="utf-8")
    commit("Wren Writer", "write the answer")  # the content: Wren created it
    activated = run("activate", path.stem)
    assert activated.exit_code == 0, activated.stderr
    commit("Flip Flopper", "activate")  # a status flip: no edit
    write_answer(repo, "pets", PETS, answer="Small dogs travel in the cabin. See https://example.com/pets")
    commit("Ada SME", "pets answer")
    report = json.loads(run("report", "--logs", "logs.jsonl", "--format", "json").stdout)
    contributions = {c["author"]: (c["created"], c["edited"]) for c in report["contributions"]}
    assert contributions == {"Wren Writer": (1, 0), "Ada SME": (1, 0)}


def test_a_multi_passage_context_keeps_its_indentation(repo: Path, run) -> None:
    context = ["Refund policy:\n  - cancelled flights: full refund", "Vouchers:\n  - valid 12 months"]
    write_logs(repo, [log(1, 1, REFUND, is_bad=True, context=context, response="Line one.\nLine two.")])
    issue = json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json").stdout)["issues"][0]["id"]
    shown = run("issue", issue, "--logs", "logs.jsonl").stdout
    assert ("    context:  Refund policy:\n"
            "                - cancelled flights: full refund\n"
            "\n"
            "              Vouchers:\n"
            "                - valid 12 months\n") in shown
    assert "    response: Line one.\n              Line two.\n" in shown
