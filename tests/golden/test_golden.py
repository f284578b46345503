"""Golden files: every format of every reporting command on the bundled demo, byte for byte.

The demo's remediations and log export are copied into a new git repository, committed once at a fixed
time by a fixed author (so `list` and `check` show the same dates and commit every run), plus one new
draft in the working tree for `check` to gate. Every command runs there in-process. The output is
deterministic: impact ages count from the newest log, not the clock, `validate` and `check` see a fixed
today (the demo's `review_by` dates pass in 2027), and every list is sorted.

A change that alters output on purpose regenerates the files, to be reviewed in the diff:

    REMEDY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from remedy import validation
from remedy.commands.app import app

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).parent / "expected"
UPDATE = os.environ.get("REMEDY_UPDATE_GOLDEN") == "1"
EXTENSIONS = {"table": "txt", "text": "txt", "json": "json", "csv": "csv", "markdown": "md", "github": "github.txt"}
ALL = ("table", "json", "csv", "markdown")
LOGS = ("--logs", "logs.jsonl")
QUERY = "my flight got cancelled, can i get my money back?"

# name, arguments, formats, exit code
CASES = [
    ("validate", ("validate",), ("text", "json", "github"), 0),
    ("list", ("list",), ALL, 0),
    ("owners", ("owners",), ALL, 0),
    ("match", ("match", QUERY, "--response", "Refunds are never possible."), ALL, 0),
    ("test", ("test",), ALL, 0),
    ("calibrate", ("calibrate",), ALL, 0),
    ("coverage", ("coverage", *LOGS), ALL, 0),
    ("issues", ("issues", *LOGS, "--top", "5"), ALL, 0),
    ("issue", ("issue", "4c3e6017bdab", *LOGS, "--limit", "3"), ALL, 0),  # by id: ranks need a printed queue
    ("preview", ("preview", "book-for-someone-else", *LOGS), ALL, 0),
    ("report", ("report", *LOGS, "--since", "2026-10-01"), ("json",), 0),
    ("check", ("check", "--base", "HEAD", *LOGS), ("text", "json", "markdown", "github"), 0),
]
COMMITTED = "2026-11-23T17:31:06Z"
TODAY = datetime.date(2026, 12, 1)
NEW_DRAFT = """\
kind: answer
id: visa-layover
status: draft
question: do i need a visa for a layover in Frankfurt
answer: |
  It depends on your nationality: check the destination country's rules before you travel.
"""


class FixedDate(datetime.date):
    @classmethod
    def today(cls) -> FixedDate:
        return cls(TODAY.year, TODAY.month, TODAY.day)


class FixedClock:
    """What the rules' `datetime` sees: a date whose today() is TODAY."""

    date = FixedDate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "remediations", project / "remediations")
    shutil.copy(ROOT / "fixtures" / "logs.jsonl", project / "logs.jsonl")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada SME", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada SME", "GIT_COMMITTER_EMAIL": "ada@example.com",
           "GIT_AUTHOR_DATE": COMMITTED, "GIT_COMMITTER_DATE": COMMITTED}
    for args in (("init", "-q", "-b", "main"), ("add", "remediations"), ("commit", "-q", "-m", "demo")):
        subprocess.run(["git", "-C", str(project), "-c", "commit.gpgsign=false", *args], check=True, env=env)
    (project / "remediations" / "answers" / "visa-layover.yaml").write_text(NEW_DRAFT, encoding="utf-8")
    return project


@pytest.mark.parametrize(("name", "args", "fmt", "exit_code"),
                         [pytest.param(name, args, fmt, code, id=f"{name}-{fmt}")
                          for name, args, formats, code in CASES for fmt in formats])
def test_output_matches_the_golden_file(demo: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                        args: tuple[str, ...], fmt: str, exit_code: int) -> None:
    monkeypatch.chdir(demo)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setattr(validation, "datetime", FixedClock)
    result = CliRunner().invoke(app, [*args, "--format", fmt], catch_exceptions=False)
    assert result.exit_code == exit_code, result.stdout + result.stderr
    if fmt == "json":
        json.loads(result.stdout)  # one valid document, nothing else on stdout
    golden = EXPECTED / f"{name}.{EXTENSIONS[fmt]}"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(result.stdout, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: REMEDY_UPDATE_GOLDEN=1 writes it"
    assert result.stdout == golden.read_text(encoding="utf-8"), \
        f"{name} --format {fmt} differs from {golden.name} (REMEDY_UPDATE_GOLDEN=1 rewrites it; review the diff)"
