"""Issue 35 (hardening round four): remediation files, outputs and caches that are wrong or hostile.

Each test drives the CLI on files in a temporary git repository, and failed before the fix it is named
after: an impossible date was "internal error: ValueError" (exit 3), an output could replace an input,
a broken cache or model file ended a command with exit 3, CSV cells slipped past the formula guard.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_answer

QUESTION = "How do I reset my password?"


def _remedy(repo: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "remedy", *args], cwd=repo, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


# --- item 6: an impossible date in a remediation file -------------------------------------------------


@pytest.mark.parametrize("line, field, column", [("created: 2026-02-30", "created", 10),
                                                  ("review_by: 0000-01-01", "review_by", 12),
                                                  ("activated: 2026-02-30T10:00:00Z", "activated", 12),
                                                  ("updated: 2026-13-01 10:00:00", "updated", 10)])
def test_an_impossible_date_is_a_validation_error_naming_file_line_and_field(repo: Path, run, line: str,
                                                                              field: str, column: int) -> None:
    write_answer(repo, "reset", QUESTION, extra=line + "\n")
    result = run("validate")
    assert result.exit_code == 1, result.stderr + result.stdout
    assert f"remediations/answers/reset.yaml:7:{column}: S003 error: '{field}' must be a date" in result.stdout
    assert "internal error" not in result.stderr + result.stdout
    for args in (["list"], ["match", QUESTION]):
        result = run(*args)
        assert result.exit_code == 0 and "internal error" not in result.stderr, (args, result.stderr)


def test_serve_refuses_a_folder_with_an_impossible_date_with_exit_2(repo: Path) -> None:
    write_answer(repo, "reset", QUESTION, extra="activated: 2026-02-30T10:00:00Z\n")
    result = _remedy(repo, "serve", "--port", "0")
    assert result.returncode == 2, result.stderr
    assert "remediations/answers/reset.yaml:7:12: S003 'activated' must be a date" in result.stderr


# --- item 7: an output over a file the command reads --------------------------------------------------


@pytest.fixture
def project(repo: Path) -> Path:
    write_answer(repo, "reset", QUESTION)
    (repo / "logs.jsonl").write_text('{"id": "1", "timestamp": "2026-10-01T10:00:00Z", "query": "reset my '
                                     'password", "is_bad": true}\n', encoding="utf-8")
    return repo


OUTPUT_COMMANDS = {
    "report": ["report", "--logs", "logs.jsonl", "--out"],
    "report json": ["report", "--logs", "logs.jsonl", "--format", "json", "--out"],
    "coverage": ["coverage", "--logs", "logs.jsonl", "--attributions"],
    "calibrate": ["calibrate", "--sample", "5", "--logs", "logs.jsonl", "--out"],
}
TARGETS = ["remediations/answers/reset.yaml", "./remediations/answers/new.yaml", "remediations/report.jsonl",
           "remedy.toml", "triage/issue.yaml", ".remedy/x.jsonl", ".git/config", "LINK"]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
@pytest.mark.parametrize("target", TARGETS)
def test_no_output_lands_on_a_file_the_project_reads(project: Path, run, command: str, target: str) -> None:
    (project / "remedy.toml").write_text('remediations = "remediations"\n', encoding="utf-8")
    (project / "triage").mkdir()
    (project / "triage" / "issue.yaml").write_text("issue: x\n", encoding="utf-8")
    (project / "LINK").symlink_to(project / "remediations" / "answers" / "reset.yaml")
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file() and ".git" not in path.parts}
    result = run(*OUTPUT_COMMANDS[command], target)
    assert result.exit_code == 2, (command, target, result.stderr)
    assert "which remedy reads" in result.stderr or "inputs are never written" in result.stderr or \
        "use a .jsonl" in result.stderr, result.stderr
    after = {path: path.read_bytes() for path in project.rglob("*") if path.is_file() and ".git" not in path.parts}
    assert after == before


def test_model_adapt_out_holding_the_remediations_is_refused(project: Path, run) -> None:
    result = run("model", "adapt", "--logs", str(project / "logs.jsonl"), "--out", str(project / "remediations"))
    assert result.exit_code == 2 and "the remediations folder" in result.stderr, result.stderr
    assert (project / "remediations/answers/reset.yaml").exists()


def test_outputs_beside_the_project_files_are_still_written(project: Path, run) -> None:
    result = run("report", "--logs", "logs.jsonl", "--out", "report.html")
    assert result.exit_code == 0, result.stderr
    assert (project / "report.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
