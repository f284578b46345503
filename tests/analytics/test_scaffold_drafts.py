"""A draft covers its issue only once it is written: a TODO scaffold leaves the issue in the queue, marked."""

from __future__ import annotations

import json
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


def test_a_todo_draft_addresses_nothing_in_coverage_nor_the_report_until_its_answer_is_written(
        project: Path, run) -> None:
    def coverage() -> dict:
        result = run("coverage", "--logs", "logs.jsonl", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def headline() -> dict:
        result = run("report", "--logs", "logs.jsonl", "--format", "json")
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        causes = {c["primary_issue"]: c for c in report["root_causes"]}
        return {**{m["key"]: m["value"] for m in report["headline"]}, "root_addressed": causes["other"]["addressed"],
                "over_time": sum(b["addressed_failures"] for b in report["over_time"])}

    visa = queue(run)[0]["id"]
    created = run("new", "answer", "--from-issue", visa, "--logs", "logs.jsonl")
    assert created.exit_code == 0, created.stderr
    path = project / created.stdout.split()[1]
    scaffold = coverage()
    assert scaffold["logs"]["addressed_failures"] == 0 and scaffold["logs"]["unaddressed_failures"] == 4
    assert scaffold["addressed_share"] == 0.0 and scaffold["by_status"]["draft_only"]["addressed_failures"] == 0
    # the draft's own row still says which failures its question matches: what it will cover once written
    assert {r["id"]: r["covered_failures"] for r in scaffold["remediations"]} == {path.stem: 3}
    text = run("coverage", "--logs", "logs.jsonl")
    assert "4 failures: 0 addressed by remediations (0.0%" in text.stdout, text.stdout
    shown = headline()
    assert (shown["addressed_share"], shown["root_addressed"], shown["over_time"]) == (0.0, 0, 0)

    text_now = path.read_text(encoding="utf-8")
    start, end = text_now.index("answer:"), text_now.index("\n", text_now.index("TODO"))
    path.write_text(text_now[:start] + "answer: Check the destination's visa rules at https://example.com/visa"
                    + text_now[end:], encoding="utf-8")
    written = coverage()
    assert (written["logs"]["addressed_failures"], written["addressed_share"]) == (3, 0.75)
    assert written["by_status"]["draft_only"]["addressed_failures"] == 3
    shown = headline()
    assert (shown["addressed_share"], shown["root_addressed"], shown["over_time"]) == (0.75, 3, 3)
