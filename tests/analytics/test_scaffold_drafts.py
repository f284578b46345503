"""A draft covers its issue only once it is written: a TODO scaffold leaves the issue in the queue, marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics.conftest import issues as queue

VISA = "Do I need a transit visa for a layover in Doha?"


@pytest.fixture
def log_rows() -> list[dict]:
    rows = [{"id": f"l{i}", "timestamp": f"2026-10-0{i}T10:00:00Z", "query": VISA, "is_bad": True, "severity": 0.8}
            for i in range(1, 4)]
    rows.append({"id": "l9", "timestamp": "2026-10-04T10:00:00Z", "query": "Can I bring a drone?", "is_bad": True})
    return rows


def test_a_todo_draft_leaves_its_issue_listed_until_its_answer_is_written(project: Path, run) -> None:
    visa = queue(run)[0]
    assert visa["representative_query"] == VISA and visa["drafts_in_progress"] == []
    created = run("new", "answer", "--from-issue", visa["id"], "--logs", "logs.jsonl")
    assert created.exit_code == 0, created.stderr
    path = project / created.stdout.split()[1]
    assert "TODO" in path.read_text(encoding="utf-8")

    still = queue(run)[0]
    assert (still["id"], still["size"], still["drafts_in_progress"]) == (visa["id"], 3, [path.stem])
    table = run("issues", "--logs", "logs.jsonl")
    assert "open, draft in progress" in table.stdout and "1 listed issue(s) have a draft in progress" in table.stdout
    detail = run("issue", visa["id"], "--logs", "logs.jsonl")
    assert f"draft in progress: {path.stem} (still a scaffold" in detail.stdout
    assert "W003" in run("validate", "--no-semantic").stdout

    # the SME writes the answer: now the draft covers the issue (DESIGN: a draft addresses its failures)
    text = path.read_text(encoding="utf-8")
    start = text.index("answer:")
    end = text.index("\n", text.index("TODO"))
    path.write_text(text[:start] + "answer: Check the destination's visa rules at https://example.com/visa"
                    + text[end:], encoding="utf-8")
    assert [i["representative_query"] for i in queue(run)] == ["Can I bring a drone?"]
