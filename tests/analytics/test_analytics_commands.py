"""coverage, issues, issue, preview and new --from-issue on small crafted logs with hand-computed numbers.

Covered queries repeat a remediation's question exactly (after normalization), so the expected numbers
do not depend on the model's similarity scale; unaddressed queries are on unrelated topics.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import write_answer

LOGS = [
    # 1: failure on the baggage question, before the answer was activated
    {"id": "l1", "timestamp": "2026-08-01T10:00:00Z", "query": "What is the baggage allowance?", "is_bad": True},
    # 2: the same question after activation, fine: an inferred prevention
    {"id": "l2", "timestamp": "2026-10-01T10:00:00Z", "query": "what is the BAGGAGE allowance", "is_bad": False},
    # 3: failure covered by a draft
    {"id": "l3", "timestamp": "2026-10-02T10:00:00Z", "query": "Can I bring my dog on the plane?", "is_bad": True},
    # 4, 5: the same unaddressed failure twice (severity 0.9 and 0.5)
    {"id": "l4", "timestamp": "2026-10-03T10:00:00Z",
     "query": "Where can I download quantum chromodynamics lecture notes",
     "is_bad": True, "severity": 0.9, "primary_issue": "search_failure"},
    {"id": "l5", "timestamp": "2026-10-04T10:00:00Z",
     "query": "where can i download quantum chromodynamics lecture notes?",
     "is_bad": True, "severity": 0.5, "primary_issue": "search_failure"},
    # 6: a failure by its scores only: severity 1 - 0.2, primary issue from trustworthiness
    {"id": "l6", "timestamp": "2026-10-05T10:00:00Z", "query": "Explain how a bicycle derailleur is adjusted",
     "scores": {"trustworthiness": 0.2, "response_helpfulness": 0.9}},
]


@pytest.fixture
def project(repo: Path) -> Path:
    write_answer(repo, "bags", "What is the baggage allowance?", extra="activated: 2026-09-01T00:00:00Z\n")
    write_answer(repo, "dogs", "Can I bring my dog on the plane?", status="draft")
    lines = [json.dumps(row) for row in LOGS]
    lines.insert(3, "{not json")  # line 4 is malformed
    (repo / "logs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return repo


def test_coverage_numbers(project: Path, run) -> None:
    result = run("coverage", "--logs", "logs.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["logs"] == {"total": 6, "failures": 5, "addressed_failures": 2, "unaddressed_failures": 3,
                              "skipped_lines": 1}
    rows = {row["id"]: row for row in report["remediations"]}
    assert {k: rows["bags"][k] for k in ("covered_failures", "covered_logs", "preventions")} == \
        {"covered_failures": 1, "covered_logs": 2, "preventions": 1}
    assert rows["bags"]["last_prevention"] == "2026-10-01T10:00:00Z"
    assert {k: rows["dogs"][k] for k in ("covered_failures", "covered_logs", "preventions")} == \
        {"covered_failures": 1, "covered_logs": 1, "preventions": 0}
    assert report["preventions_source"].startswith("inferred")
    assert report["by_status"]["active"]["addressed_failures"] == 1
    assert "logs.jsonl:4" in result.stderr and "skipped 1 malformed" in result.stderr


def test_preventions_come_from_served_remediation_when_the_logs_have_it(project: Path, run) -> None:
    rows = [dict(row) for row in LOGS]
    rows[1]["served_remediation"] = "bags"
    rows[2]["served_remediation"] = "bags"  # served even though another entry matches: the log says so
    (project / "served.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = json.loads(run("coverage", "--logs", "served.jsonl", "--format", "json").stdout)
    assert report["preventions_source"] == "served_remediation"
    assert {r["id"]: r["preventions"] for r in report["remediations"]} == {"bags": 2, "dogs": 0}


def test_each_log_gets_one_active_and_one_draft_per_kind(project: Path, run) -> None:
    write_answer(project, "bags-v2", "what is the baggage allowance", status="draft")
    result = run("coverage", "--logs", "logs.jsonl", "--attributions", "out/attributions.jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in (project / "out/attributions.jsonl").read_text().splitlines()]
    by_log: dict[str, list[dict]] = {}
    for row in rows:
        by_log.setdefault(row["log_id"], []).append(row)
        assert set(row) == {"log_id", "remediation_id", "kind", "status", "similarity"}
    assert sorted((r["remediation_id"], r["status"]) for r in by_log["l1"]) == [("bags", "active"),
                                                                                ("bags-v2", "draft")]
    for attributed in by_log.values():
        keys = [(r["kind"], r["status"]) for r in attributed]
        assert len(keys) == len(set(keys)), "at most one active and one draft per kind"


def test_attributions_parquet_and_bad_name(project: Path, run) -> None:
    assert run("coverage", "--logs", "logs.jsonl", "--attributions", "a.parquet").exit_code == 0
    assert (project / "a.parquet").read_bytes()[:4] == b"PAR1"
    result = run("coverage", "--logs", "logs.jsonl", "--attributions", "a.txt")
    assert result.exit_code == 2 and ".jsonl or .parquet" in result.stderr


def test_strict_refuses_the_first_malformed_line(project: Path, run) -> None:
    result = run("coverage", "--logs", "logs.jsonl", "--strict")
    assert result.exit_code == 2 and "logs.jsonl:4" in result.stderr


def test_missing_logs_exit_2(project: Path, run) -> None:
    result = run("coverage", "--logs", "nowhere/*.jsonl")
    assert result.exit_code == 2 and "nowhere/*.jsonl" in result.stderr


def test_issues_are_ranked_by_impact_with_stable_ids(project: Path, run) -> None:
    first = json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json", "--half-life", "inf").stdout)["issues"]
    assert [(i["rank"], i["size"]) for i in first] == [(1, 2), (2, 1)]
    top = first[0]
    assert top["mean_severity"] == pytest.approx(0.7) and top["impact"] == pytest.approx(1.4)
    assert sorted(top["log_ids"]) == ["l4", "l5"] and top["primary_issue"] == "search_failure"
    assert first[1]["log_ids"] == ["l6"] and first[1]["primary_issue"] == "hallucination"
    assert first[1]["impact"] == pytest.approx(0.8)
    again = json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json").stdout)["issues"]
    assert [i["id"] for i in again] == [i["id"] for i in first]
    addressed = json.loads(run("issues", "--logs", "logs.jsonl", "--status", "addressed", "--format",
                               "json").stdout)["issues"]
    assert sorted(log for issue in addressed for log in issue["log_ids"]) == ["l1", "l3"]
    only = json.loads(run("issues", "--logs", "logs.jsonl", "--primary-issue", "hallucination", "--format",
                          "json").stdout)["issues"]
    assert [i["log_ids"] for i in only] == [["l6"]]


def test_issue_detail_and_drafting_from_it(project: Path, run) -> None:
    ranked = json.loads(run("issues", "--logs", "logs.jsonl", "--format", "json").stdout)["issues"]
    detail = json.loads(run("issue", "1", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert detail["id"] == ranked[0]["id"] and {row["log_id"] for row in detail["logs"]} == {"l4", "l5"}
    assert detail["remediate"].startswith(f"remedy new answer --from-issue {ranked[0]['id']}")
    by_id = run("issue", ranked[0]["id"], "--logs", "logs.jsonl")
    assert by_id.exit_code == 0 and "quantum chromodynamics" in by_id.stdout
    assert run("issue", "9", "--logs", "logs.jsonl").exit_code == 2
    created = run("new", "answer", "--from-issue", "1", "--logs", "logs.jsonl")
    assert created.exit_code == 0, created.stderr
    path = project / created.stdout.split()[1]
    draft = yaml.safe_load(path.read_text())
    assert draft["status"] == "draft" and sorted(draft["source_logs"]) == ["l4", "l5"]
    assert "TODO" in draft["answer"], "the SME writes the answer"
    assert run("activate", path.stem).exit_code == 1, "a placeholder answer is never activated"


def test_new_review_from_log_takes_the_response(project: Path, run) -> None:
    rows = [dict(LOGS[3], response="Sure, here is a link I made up.")]
    (project / "one.jsonl").write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    created = run("new", "review", "--from-log", "l4", "--logs", "one.jsonl", "--verdict", "bad")
    assert created.exit_code == 0, created.stderr
    review = yaml.safe_load((project / created.stdout.split()[1]).read_text())
    assert review["response"] == "Sure, here is a link I made up." and review["source_logs"] == ["l4"]
    assert run("new", "review", "--from-log", "nope", "--logs", "one.jsonl", "--verdict", "bad").exit_code == 2


def test_preview_lists_what_a_draft_would_capture(project: Path, run) -> None:
    report = json.loads(run("preview", "dogs", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert report["captured_logs"] == 1 and report["captured_failures"] == 1
    assert report["logs"][0]["log_id"] == "l3" and report["logs"][0]["exact"] is True
    assert run("preview", "nope", "--logs", "logs.jsonl").exit_code == 2
