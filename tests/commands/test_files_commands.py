"""init, new, list, schema and validate's output formats, driven through the CLI in a git repo."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import git, write_answer


def test_init_creates_a_project_that_validates(repo: Path, run) -> None:
    result = run("init", ".")
    assert result.exit_code == 0
    for path in ("remedy.toml", "remediations/answers/example-opening-hours.yaml",
                 "remediations/guidance/example-legal-advice.yaml",
                 "remediations/reviews/example-invented-discount.yaml", ".github/workflows/remedy.yml"):
        assert (repo / path).is_file(), path
    assert run("validate", "--no-semantic").exit_code == 0
    again = run("init", ".")
    assert sum(line.startswith("kept") for line in again.stdout.splitlines()) == 6, "init never overwrites"
    assert "the workflow was kept as it was" in again.stdout


def test_init_workflow_runs_validate_test_and_check(repo: Path, run) -> None:
    run("init", ".")
    workflow = yaml.safe_load((repo / ".github/workflows/remedy.yml").read_text())
    steps = " ".join(step.get("run", "") for step in workflow["jobs"]["remedy"]["steps"])
    assert "remedy validate" in steps and "remedy test" in steps and "remedy check --base" in steps
    assert "GITHUB_STEP_SUMMARY" in steps
    assert workflow[True]["pull_request"] is not None  # YAML 1.1 reads the key `on` as true


def test_new_answer_writes_a_draft_that_validates(repo: Path, run) -> None:
    result = run("new", "answer", "--question", "Can I bring my cat on board?",
                 "--answer", "Small cats travel in the cabin in a carrier.\nSee https://example.com/pets",
                 "--also-match", "can my cat fly with me", "--tag", "pets")
    assert result.exit_code == 0, result.stderr
    path = repo / "remediations/answers/can-i-bring-my-cat-on-board.yaml"
    assert path.is_file() and "created remediations/answers/can-i-bring-my-cat-on-board.yaml" in result.stdout
    data = yaml.safe_load(path.read_text())
    assert data["status"] == "draft" and data["also_matches"] == ["can my cat fly with me"]
    assert data["answer"].startswith("Small cats")
    assert run("validate", "--no-semantic").exit_code == 0
    second = run("new", "answer", "--question", "Can I bring my cat on-board?", "--answer", "Yes.")
    assert "can-i-bring-my-cat-on-board-2.yaml" in second.stdout, "slugs stay unique"


def test_new_review_and_guidance_and_tricky_text(repo: Path, run) -> None:
    assert run("new", "review", "--question", "yes", "--response", "no: never",
               "--verdict", "bad", "--note", "# not a comment").exit_code == 0
    assert run("new", "guidance", "--question", "Ünïcode ✈ question?", "--guidance", "Be kind.").exit_code == 0
    assert run("validate", "--no-semantic").exit_code == 0
    review = yaml.safe_load((repo / "remediations/reviews/yes.yaml").read_text())
    assert review["question"] == "yes" and review["response"] == "no: never" and review["note"] == "# not a comment"
    assert (repo / "remediations/guidance/unicode-question.yaml").is_file()


def test_new_refuses_missing_text_and_bad_verdict(repo: Path, run) -> None:
    assert run("new", "answer", "--question", "q", "--answer", "  ").exit_code == 2
    result = run("new", "review", "--question", "q", "--response", "r", "--verdict", "meh")
    assert result.exit_code == 2 and "--verdict must be one of good, bad, skip" in result.stderr


def test_list_takes_dates_and_authors_from_git(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?")
    write_answer(repo, "pets", "Can I bring my dog?", status="draft")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "add answers")
    result = run("list", "--format", "json")
    rows = json.loads(result.stdout)["remediations"]
    assert [row["id"] for row in rows] == ["bags", "pets"]
    assert rows[0]["updated_by"] == "Ada SME" and rows[0]["created"]
    assert rows[0]["file"] == "remediations/answers/bags.yaml"
    assert set(rows[0]) == {"id", "kind", "status", "file", "created", "updated", "updated_by", "owners"}
    drafts = run("list", "--status", "draft", "--format", "csv").stdout.splitlines()
    assert drafts[0] == "id,kind,status,file,created,updated,updated_by,owners"
    assert drafts[1].startswith("pets,answer,draft")
    table = run("list").stdout.splitlines()
    assert table[0].split()[:3] == ["id", "kind", "status"]
    assert run("list", "--format", "markdown").stdout.startswith("| id | kind |")
    assert run("list", "--status", "live").exit_code == 2


def test_list_outside_git_uses_fields_in_the_file(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?",
                 extra="created: 2026-01-02T03:04:05Z\nupdated_by: Grace\n")
    rows = json.loads(run("list", "--format", "json").stdout)["remediations"]
    assert rows[0]["created"].startswith("2026-01-02") and rows[0]["updated_by"] == "Grace"


def test_validate_formats(repo: Path, run, monkeypatch) -> None:
    write_answer(repo, "bad", "q", answer="Call +1 415 555 0100 today.", extra="questoin: x\n")
    document = json.loads(run("validate", "--no-semantic", "--format", "json").stdout)
    assert document["errors"] == 1 and document["warnings"] == 0  # lint waits until the schema is fixed
    assert set(document["problems"][0]) == {"file", "line", "column", "code", "severity", "message"}
    github = run("validate", "--no-semantic", "--format", "github").stdout
    assert github.startswith("::error file=remediations/answers/bad.yaml,line=7,col=1,title=S001::")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert run("validate", "--no-semantic").stdout.startswith("::error ")


def test_warnings_exit_0_unless_strict(repo: Path, run) -> None:
    write_answer(repo, "a", "q", answer="It currently costs $35.")
    assert run("validate", "--no-semantic").exit_code == 0
    assert run("validate", "--no-semantic", "--strict").exit_code == 1


def test_schema_is_json_schema_and_accepts_the_examples(repo: Path, run) -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    answer_rules = next(v["then"] for v in schema["allOf"] if v["if"]["properties"]["kind"]["const"] == "answer")
    assert "answer" in answer_rules["required"] and answer_rules["additionalProperties"] is False
