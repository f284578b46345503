"""Numbers that must agree across commands (issue 34, item 5): one way to write the settings, one answer to
"are they calibrated", a list that says when it is cut, and no lint on text nobody is served."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import write_answer

WORDS = ["please", "pls", "thanks", "now", "today", "on my flight", "on board", "in cabin", "in my bag",
         "in hand luggage", "in checked luggage", "to paris", "to rome", "from amsterdam", "from london",
         "on a long flight", "with me", "in my backpack", "20000 mah", "10000 mah", "on skyway", "on the plane",
         "in my carry on", "in my suitcase", "for my phone", "for my laptop", "and a charger", "and cables",
         "two of them", "three of them", "a big one", "a small one", "asap", "quickly", "urgently"]
SETTINGS = re.compile(r"threshold (\d[\d.]*), margin (\d[\d.]*)")


@pytest.fixture
def project(repo: Path) -> Path:
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?")
    write_answer(repo, "pets", "Can I bring my dog on the plane?", status="draft")
    rows = [{"id": f"p{i}", "timestamp": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
             "query": f"can i bring a power bank {word}", "is_bad": True, "severity": 0.8}
            for i, word in enumerate(WORDS)]
    rows.append({"id": "r1", "timestamp": "2026-10-02T10:00:00Z", "query": "refund for my cancelled flight",
                 "is_bad": True})
    (repo / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return repo


def test_preview_writes_the_settings_as_its_note_does(project: Path, run) -> None:
    # "threshold 0.83, margin 0.04" beside a note saying 0.835 / 0.045: one formatting everywhere.
    result = run("preview", "pets", "--logs", "logs.jsonl")
    assert result.exit_code == 0, result.stderr
    shown = SETTINGS.findall(result.stdout)
    noted = SETTINGS.findall(result.stderr)
    assert shown and noted and set(shown) == set(noted), (shown, noted)
    matched = run("match", "refund for my cancelled flight")
    assert set(SETTINGS.findall(matched.stdout)) == set(noted)


def test_the_report_and_validate_agree_the_defaults_are_uncalibrated(project: Path, run) -> None:
    assert "C002" in run("validate", "--no-semantic").stdout
    document = json.loads(run("report", "--logs", "logs.jsonl", "--format", "json").stdout)
    source = document["matching"]["settings_source"]
    assert "uncalibrated" in source and source in run("match", "refund").stderr
    threshold = document["matching"]["threshold"]
    page = project / "report.html"
    assert run("report", "--logs", "logs.jsonl", "--out", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "the model&#x27;s uncalibrated defaults" in html or "the model's uncalibrated defaults" in html
    assert "calibrated defaults" not in html.replace("uncalibrated defaults", "")
    assert f"<dt>threshold</dt><dd>{threshold:g}</dd>" in html  # as `match` and `preview` write it


def test_an_issue_says_when_its_list_of_queries_is_cut(project: Path, run) -> None:
    queue = json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json").stdout)["issues"]
    issue_id = next(issue["id"] for issue in queue if "power bank" in issue["representative_query"])
    shown = run("issue", issue_id, "--logs", "logs.jsonl")
    assert shown.exit_code == 0, shown.stderr
    assert f"queries ({len(WORDS)} distinct, the first 30 shown; --format json lists all):" in shown.stdout
    listed = [line for line in shown.stdout.split("logs (most severe first)")[0].splitlines()
              if line.startswith("  - ")]
    assert len(listed) == 30
    document = json.loads(run("issue", issue_id, "--logs", "logs.jsonl", "--format", "json").stdout)
    assert len(document["queries"]) == len(WORDS)


def test_w002_does_not_warn_on_a_paused_answer(repo: Path, run) -> None:
    write_answer(repo, "fees", "How much is a checked bag?", status="paused",
                 answer="A checked bag currently costs $35. See https://example.com/fees")
    assert "W002" not in run("validate", "--no-semantic").stdout
    write_answer(repo, "fees", "How much is a checked bag?",
                 answer="A checked bag currently costs $35. See https://example.com/fees")
    assert "W002" in run("validate", "--no-semantic").stdout
