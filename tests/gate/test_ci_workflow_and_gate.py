"""Issue 34, items 1, 2, 6 and 7: the workflow `remedy init` writes decides as production does, can give the
gate logs, caches the models' vectors, and G002 says what would let a text fix through.

Each test drives the CLI (the workflow's own `run:` scripts with bash where the workflow is the point) on
files in a temporary git repository, and failed before its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import git, write, write_answer

WORKFLOW = ".github/workflows/remedy.yml"


def steps(project: Path) -> dict[str, dict]:
    return {step.get("name", step.get("uses")): step
            for step in yaml.safe_load((project / WORKFLOW).read_text())["jobs"]["remedy"]["steps"]}


def verifier_installed() -> bool:
    from remedy.matching.verifier import available_verifier

    return available_verifier()[0] is not None


# --- item 1: CI decides like production, and says which judge decided ------------------------------------------

def test_the_workflow_installs_the_verifier_unless_the_config_turns_it_off(repo: Path, run) -> None:
    assert run("init", ".", "--install-from", "0.3.0").exit_code == 0
    (install,) = [s for s in steps(repo).values() if "REMEDY_REQUIREMENT" in s.get("env", {})]
    assert install["env"]["REMEDY_REQUIREMENT"] == "remedy-sme[precise]==0.3.0"

    other = repo / "off"
    write(other / "remedy.toml", "verifier = false\n")
    assert run("init", str(other), "--install-from", "0.3.0").exit_code == 0
    (install,) = [s for s in steps(other).values() if "REMEDY_REQUIREMENT" in s.get("env", {})]
    assert install["env"]["REMEDY_REQUIREMENT"] == "remedy-sme==0.3.0"


@pytest.mark.skipif(not verifier_installed(), reason="needs the precise extra (dev installs it)")
def test_validate_and_check_say_which_judge_decided(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    validate = run("validate", "--format", "text")
    assert "decided by the verifier" in validate.stdout, validate.stdout
    assert json.loads(run("validate", "--format", "json").stdout)["judge"]["judge"] == "verifier"
    check = run("check", "--base", "HEAD", "--format", "markdown")
    assert "decided by the verifier" in check.stdout

    write(repo / "remedy.toml", "verifier = false\n")
    validate = run("validate", "--format", "text")
    assert "decided by the static model alone: the config turns the verifier off" in validate.stdout
    document = json.loads(run("check", "--base", "HEAD", "--format", "json").stdout)
    assert document["judge"]["judge"] == "static" and document["judge"]["verifier_model"] is None
    assert "::notice title=remedy::decided by the static model alone" in run("validate", "--format", "github").stdout


# --- item 6: the models' vectors are cached across CI runs ----------------------------------------------------

def test_the_workflow_caches_remedy_keyed_by_the_models_fingerprints(repo: Path, run) -> None:
    assert run("init", ".").exit_code == 0
    written = steps(repo)
    cache = written["actions/cache@v4"]["with"]
    assert cache["path"] == ".remedy"
    assert cache["key"] == "remedy-${{ steps.models.outputs.key }}-${{ hashFiles('remediations/**', 'remedy.toml') }}"
    assert written["Fingerprint the models"]["id"] == "models"
    names = list(written)
    assert names.index("Fingerprint the models") < names.index("actions/cache@v4") < names.index(
        "Validate remediation files")
    key = run("model", "fingerprint")
    assert key.exit_code == 0 and key.stdout.startswith("static-") and len(key.stdout.split()) == 1
    assert ("-verifier-" in key.stdout) == verifier_installed()
    write(repo / "remedy.toml", "verifier = false\n")
    assert "-verifier-" not in run("model", "fingerprint").stdout  # another judge, another cache key


# --- item 2 and 7: a text fix gets through the gate, and G002 says how ------------------------------------------

@pytest.fixture
def served_once(repo: Path) -> Path:
    """An answer that was active, logs in which it was never served, a base on origin/main, a feature branch."""
    write_answer(repo, "bags", "What is the baggage allowance?", answer="Two bags of 23 kg each.",
                 extra="activated: 2026-09-01T00:00:00Z\n")
    logs = [{"id": "l1", "timestamp": "2026-10-01T10:00:00Z", "query": "Is there wifi on board?", "is_bad": True}]
    (repo / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in logs), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    bags = repo / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace("Two bags of 23 kg each.", "Two bags of 23 kg each (32 kg in business)."))
    return repo


def test_g002_says_what_proves_the_edit_safe_and_the_comment_shows_both_texts(served_once: Path, run) -> None:
    result = run("check", "--base", "origin/main", "--format", "markdown")
    assert result.exit_code == 1
    problem = next(line for line in result.stdout.splitlines() if "G002" in line)
    assert "remedy new answer --from bags" in problem.replace("\\", "")
    assert "REMEDY_LOGS" in problem.replace("\\", "") and "never served" in problem
    assert "Two bags of 23 kg each.\n```" in result.stdout  # before
    assert "Two bags of 23 kg each (32 kg in business).\n```" in result.stdout  # after


def test_the_workflow_gives_the_gate_the_logs_of_the_remedy_logs_variable(served_once: Path, run,
                                                                         tmp_path: Path) -> None:
    assert run("init", ".").exit_code == 0
    check = steps(served_once)["Check the pull request against its base"]
    assert check["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    assert yaml.safe_load((served_once / WORKFLOW).read_text())["jobs"]["remedy"]["env"] == {
        "REMEDY_LOGS": "${{ vars.REMEDY_LOGS }}"}
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "remedy").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m remedy "$@"\n')
    (shim / "remedy").chmod(0o755)
    summary = tmp_path / "summary.md"

    def run_step(logs: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}", "BASE_REF": "main",
               "REMEDY_LOGS": logs, "GITHUB_STEP_SUMMARY": str(summary)}
        return subprocess.run(["bash", "-e", "-c", check["run"]], cwd=served_once, env=env, capture_output=True,
                              text=True, timeout=300)

    without = run_step("")  # the variable unset: every answer ever active counts as served
    assert without.returncode == 1 and "G002" in without.stdout
    with_logs = run_step("logs.jsonl")  # the logs show it was never served: the fix goes through
    assert with_logs.returncode == 0, with_logs.stdout + with_logs.stderr
    assert "passed" in with_logs.stdout and "impact on 1 past failures" in summary.read_text()


def test_new_answer_from_copies_an_answer_as_a_draft_that_replaces_it(served_once: Path, run) -> None:
    git(served_once, "checkout", "-q", "--", ".")  # the answer as it was
    result = run("new", "answer", "--from", "bags")
    assert result.exit_code == 0, result.stderr
    copy = yaml.safe_load((served_once / "remediations/answers/bags-2.yaml").read_text())
    assert copy == {"kind": "answer", "id": "bags-2", "status": "draft", "question": "What is the baggage allowance?",
                    "answer": "Two bags of 23 kg each.", "replaces": "bags"}
    assert "remedy pause bags" in result.stdout
    assert run("validate", "--no-semantic").exit_code == 0
    edited = served_once / "remediations/answers/bags-2.yaml"
    edited.write_text(edited.read_text().replace("23 kg each.", "23 kg each (32 kg in business)."))
    gate = run("check", "--base", "origin/main", "--format", "json")
    assert gate.exit_code == 0, gate.stdout
    assert [c["id"] for c in json.loads(gate.stdout)["changes"]] == ["bags-2"]
    assert run("new", "answer", "--from", "nope").exit_code == 2
    schema = json.loads(run("schema").stdout)
    answer = next(v for v in schema["allOf"] if v["if"]["properties"]["kind"]["const"] == "answer")
    assert "replaces" in answer["then"]["properties"]
