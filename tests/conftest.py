"""Shared fixtures: a temporary git repository as the working directory, and a CLI runner."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner, Result

from remedy.commands.app import app

ANSWER = """\
kind: answer
id: {id}
status: {status}
question: {question}
answer: |
  {answer}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repository with a remediations folder, as the current directory."""
    for variable, value in {"GIT_AUTHOR_NAME": "Ada SME", "GIT_AUTHOR_EMAIL": "ada@example.com",
                            "GIT_COMMITTER_NAME": "Ada SME", "GIT_COMMITTER_EMAIL": "ada@example.com"}.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "remediations").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def git(directory: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=True,
                            env=env)
    return result.stdout


@pytest.fixture
def run() -> Callable[..., Result]:
    """Invoke `remedy ARGS…` in-process; stdout and stderr stay separate."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def write_answer(repo: Path, remediation_id: str, question: str, *, status: str = "active",
                 answer: str = "See https://example.com/help for the details.", extra: str = "") -> Path:
    text = ANSWER.format(id=remediation_id, status=status, question=question, answer=answer) + dedent(extra)
    return write(repo / "remediations" / "answers" / f"{remediation_id}.yaml", text)


def write_small_folder(repo: Path) -> Path:
    """Two active answers and a draft, a guidance and a bad review: the folder the matching tests use."""
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?",
                 answer="Yes: a full refund to the original payment. See https://example.com/refunds",
                 extra="also_matches:\n  - my flight got cancelled, can i get my money back\n"
                       "must_not_match:\n  - how do i bake sourdough bread\n")
    write_answer(repo, "pets", "Can I bring my dog on the plane?", answer="Small dogs travel in the cabin.")
    write_answer(repo, "refund-v2", "Can I get a refund if my flight is cancelled?", status="draft",
                 answer="Yes, always. See https://example.com/refunds")
    write(repo / "remediations/guidance/tone.yaml", """\
        kind: guidance
        id: tone
        status: active
        question: I am furious about my lost luggage
        guidance: Apologise first, then explain the delayed-baggage process.
        """)
    write(repo / "remediations/reviews/bad-refund.yaml", """\
        kind: review
        id: bad-refund
        status: active
        question: Will I get compensation for a two hour delay?
        verdict: bad
        response: Yes, every delay is compensated with 600 euros.
        note: Invented amount.
        """)
    return repo
