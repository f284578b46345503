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
