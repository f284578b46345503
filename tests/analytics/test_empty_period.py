"""A period that holds no logs (--since after the newest, --until before the oldest) is an empty queue,
not an internal error (the trend's `NULL - INTERVAL` could not be typed)."""

from __future__ import annotations

import json
from pathlib import Path


def test_issues_and_report_over_a_period_without_logs_are_empty(repo: Path, run) -> None:
    rows = [{"id": f"l{i}", "timestamp": "2026-08-01T10:00:00Z", "query": query, "response": "no idea", "is_bad": True}
            for i, query in enumerate(["can i bring a drone", "is wifi free on board"])]
    logs = repo / "logs.jsonl"
    logs.write_text("".join(json.dumps(row) + "\n" for row in rows))
    for period in (["--since", "2027-01-01"], ["--until", "2026-07-01"]):
        result = run("issues", "--logs", str(logs), "--format", "json", *period)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["issues"] == [] and json.loads(result.stdout)["total"] == 0
        text = run("issues", "--logs", str(logs), *period)
        assert text.exit_code == 0 and "0 issue(s)" in text.stdout
        report = run("report", "--logs", str(logs), "--format", "json", *period)
        assert report.exit_code == 0, report.output
        assert json.loads(report.stdout)["queue"] == []
    assert len(json.loads(run("issues", "--logs", str(logs), "--format", "json").stdout)["issues"]) == 2
