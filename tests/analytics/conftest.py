"""The project the issue-queue tests share: the `repo` git repository with a log export `logs.jsonl`
holding the module's `log_rows`, and a helper that reads the queue `remedy issues` prints as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result


def write_logs(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def log_rows() -> list[dict[str, Any]]:
    """The rows of the project's `logs.jsonl`: a module that uses `project` defines its own."""
    raise NotImplementedError("define a `log_rows` fixture in the test module")


@pytest.fixture
def project(repo: Path, log_rows: list[dict[str, Any]]) -> Path:
    write_logs(repo / "logs.jsonl", log_rows)
    return repo


def issues(run: Callable[..., Result], *args: str) -> list[dict[str, Any]]:
    """The issues `remedy issues --logs logs.jsonl --format json ARGS…` prints (and so records as printed)."""
    result = run("issues", "--logs", "logs.jsonl", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["issues"]
