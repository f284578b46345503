"""`remedy report` on crafted logs with hand-computed numbers, and the CLI's promises (atomic, refusals, determinism).

Covered queries repeat a remediation's question exactly (after normalization), so the expected numbers
do not depend on the model's similarity scale; unaddressed queries are on unrelated topics.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from remedy.analytics.github_links import normalize_repo_url
from tests.conftest import git, write_answer

SINCE, UNTIL = "2026-10-01", "2026-10-11"  # 10 days: day buckets; previous period 2026-09-21 to 10-01
LOGS = [
    # before both periods: counted nowhere
    {"id": "old", "timestamp": "2026-08-01T10:00:00Z", "query": "What is the baggage allowance?", "is_bad": True},
    # previous period: a prevention (after `activated`), and an unaddressed failure
    {"id": "p1", "timestamp": "2026-09-25T10:00:00Z", "query": "what is the baggage allowance", "is_bad": False},
    {"id": "p2", "timestamp": "2026-09-26T10:00:00Z", "query": "quantum chromodynamics notes", "is_bad": True,
     "severity": 0.5},
    # the period
    {"id": "c1", "timestamp": "2026-10-01T10:00:00Z", "query": "What is the baggage allowance?", "is_bad": False},
    {"id": "c2", "timestamp": "2026-10-02T10:00:00Z", "query": "what is the BAGGAGE allowance", "is_bad": True},
    {"id": "c3", "timestamp": "2026-10-03T10:00:00Z", "query": "Can I bring my dog on the plane?", "is_bad": True},
    {"id": "c4", "timestamp": "2026-10-04T10:00:00Z", "is_bad": True, "severity": 0.9,
     "query": "Where can I download quantum chromodynamics lecture notes", "primary_issue": "search_failure",
     "response": "<script>alert(1)</script> Try the library."},
    {"id": "c5", "timestamp": "2026-10-05T10:00:00Z", "is_bad": True, "severity": 0.5,
     "query": "where can i download quantum chromodynamics lecture notes?", "primary_issue": "search_failure"},
    {"id": "c6", "timestamp": "2026-10-09T10:00:00Z", "query": "Explain how a bicycle derailleur is adjusted",
     "scores": {"trustworthiness": 0.2, "response_helpfulness": 0.9}},
    # after --until: counted nowhere
    {"id": "late", "timestamp": "2026-10-12T10:00:00Z", "query": "What is the baggage allowance?", "is_bad": True},
]


@pytest.fixture
def project(repo: Path) -> Path:
    write_answer(repo, "bags", "What is the baggage allowance?", extra="activated: 2026-09-01T00:00:00Z\n")
    write_answer(repo, "dogs", "Can I bring my dog on the plane?", status="draft", extra='owners: ["@pets"]\n')
    write_answer(repo, "cats", "How do I adopt a cat from the animal shelter?")
    (repo / "logs.jsonl").write_text("\n".join(json.dumps(row) for row in LOGS) + "\n", encoding="utf-8")
    git(repo, "add", "remediations")
    git(repo, "commit", "-qm", "three answers")
    dogs = repo / "remediations" / "answers" / "dogs.yaml"
    dogs.write_text(dogs.read_text() + "tags: [pets]\n", encoding="utf-8")
    git(repo, "commit", "-qam", "tag", env={"GIT_AUTHOR_NAME": "Bo Editor", "GIT_AUTHOR_EMAIL": "bo@example.com",
                                            "GIT_COMMITTER_NAME": "Bo Editor", "GIT_COMMITTER_EMAIL": "bo@x.com",
                                            "PATH": __import__("os").environ["PATH"]})
    git(repo, "remote", "add", "origin", "git@github.com:acme/help-center.git")
    return repo


def report_json(run, *extra: str) -> dict:
    result = run("report", "--logs", "logs.jsonl", "--since", SINCE, "--until", UNTIL, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_headline_against_the_previous_period(project: Path, run) -> None:
    report = report_json(run)
    assert report["period"] == {"since": "2026-10-01T00:00:00Z", "until": "2026-10-11T00:00:00Z"}
    assert report["previous"] == {"since": "2026-09-21T00:00:00Z", "until": "2026-10-01T00:00:00Z"}
    headline = {m["key"]: (m["value"], m["previous"], m["change"]) for m in report["headline"]}
    assert headline == {
        "queries": (6, 2, 4),
        "failures": (5, 1, 4),  # c2..c6 / p2
        "prevented": (2, 1, 1),  # c1, c2 / p1: logs after `activated` that match the answer
        "bad_responses_served": (4, 1, 3),  # c2 was a failure although the answer applied: not counted
        "addressed_share_active": (0.2, 0.0, 0.2),  # c2
        "addressed_share": (0.4, 0.0, 0.4),  # c2 and c3 (the draft)
        "triaged_away": (0, 0, 0),  # no triage files
    }
    assert report["preventions_source"].startswith("inferred")


def test_over_time_root_causes_and_remediations(project: Path, run) -> None:
    report = report_json(run)
    assert report["bucket"] == "day"
    days = report["over_time"]
    assert [d["start"][:10] for d in days] == [f"2026-10-{day:02d}" for day in range(1, 11)]
    assert {k: days[1][k] for k in ("queries", "failures", "prevented", "addressed_failures", "addressed_share")} \
        == {"queries": 1, "failures": 1, "prevented": 1, "addressed_failures": 1, "addressed_share": 1.0}
    assert days[5]["queries"] == 0 and days[5]["addressed_share"] is None
    assert sum(d["queries"] for d in days) == 6
    assert [(c["primary_issue"], c["failures"], c["addressed"], c["unaddressed"]) for c in report["root_causes"]] \
        == [("other", 2, 2, 0), ("search_failure", 2, 0, 2), ("hallucination", 1, 0, 1)]
    rows = {r["id"]: r for r in report["remediations"]}
    assert {k: rows["bags"][k] for k in ("covered_failures", "covered_logs", "preventions", "last_prevention")} \
        == {"covered_failures": 1, "covered_logs": 2, "preventions": 2, "last_prevention": "2026-10-02T10:00:00Z"}
    assert rows["bags"]["preventions_by_bucket"] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert report["top_by_preventions"] == ["bags"]
    assert report["top_by_coverage"] == ["bags", "dogs"]
    assert report["never_matched"] == ["cats"] and report["never_matched_total"] == 1
    assert rows["dogs"]["created_by"] == "Ada SME" and rows["dogs"]["updated_by"] == "Bo Editor"
    assert rows["dogs"]["owners"] == ["@pets"] and rows["bags"]["owners"] == []
    assert [(c["author"], c["created"], c["edited"], c["preventions"]) for c in report["contributions"]] \
        == [("Ada SME", 3, 0, 2), ("Bo Editor", 0, 1, 0)]


def test_the_numbers_equal_coverage_and_issues(project: Path, run) -> None:
    report = report_json(run)
    window = ("--logs", "logs.jsonl", "--since", SINCE, "--until", UNTIL, "--format", "json")
    coverage = json.loads(run("coverage", *window).stdout)
    issues = json.loads(run("issues", *window).stdout)["issues"]
    headline = {m["key"]: m["value"] for m in report["headline"]}
    assert (headline["queries"], headline["failures"], headline["addressed_share"]) == \
        (coverage["logs"]["total"], coverage["logs"]["failures"], coverage["addressed_share"])
    expected = {r["id"]: (r["covered_failures"], r["covered_logs"], r["preventions"]) for r in coverage["remediations"]}
    assert {r["id"]: (r["covered_failures"], r["covered_logs"], r["preventions"]) for r in report["remediations"]} \
        == expected
    assert [(q["id"], q["size"], q["impact"]) for q in report["queue"]] == \
        [(i["id"], i["size"], i["impact"]) for i in issues]
    trends = [(i["trend"]["last_7_days"], i["trend"]["previous_7_days"]) for i in issues]
    assert [q["trend"] for q in report["queue"]] == [f"{a} in the last 7 days vs {b} the 7 before" for a, b in trends]
    # c4 (severity 0.9, 5 days before the newest log c6) and c5 (0.5, 4 days): half-life 14 days
    impact = 0.9 * 2 ** (-5 / 14) + 0.5 * 2 ** (-4 / 14)
    assert report["queue"][0]["size"] == 2 and report["queue"][0]["impact"] == pytest.approx(impact, abs=1e-4)
    assert report["issues_total"] == 2


def test_queue_draft_is_what_new_from_issue_writes(project: Path, run) -> None:
    report = report_json(run)
    item = report["queue"][0]
    assert item["draft_path"].startswith("remediations/answers/")
    made = run("new", "answer", "--from-issue", item["id"], "--logs", "logs.jsonl", "--since", SINCE,
               "--until", UNTIL)
    assert made.exit_code == 0, made.stderr
    written = project / item["draft_path"]
    assert written.read_text(encoding="utf-8") == item["draft_yaml"]
    link = urlsplit(item["github_url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == "https://github.com/acme/help-center/new/main"
    assert parse_qs(link.query) == {"filename": [item["draft_path"]], "value": [item["draft_yaml"]]}


def test_html_page_is_self_contained_escaped_and_deterministic(project: Path, run) -> None:
    first = run("report", "--logs", "logs.jsonl", "--since", SINCE, "--until", UNTIL, "--out", "out/report.html")
    assert first.exit_code == 0, first.stderr
    page = (project / "out/report.html").read_text(encoding="utf-8")
    second = run("report", "--logs", "logs.jsonl", "--since", SINCE, "--until", UNTIL, "--out", "out/again.html")
    assert second.exit_code == 0
    assert (project / "out/again.html").read_text(encoding="utf-8") == page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # nothing to fetch: every src/href is an anchor, data: or the GitHub new-file link
    targets = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert targets and all(t.startswith(("#", "data:", "https://github.com/acme/help-center/new/")) for t in targets)
    assert "<link rel=\"stylesheet\"" not in page and "@import" not in page and "url(" not in page
    for section in ("headline", "over-time", "root-causes", "remediations", "contributions", "queue", "matching"):
        assert f'id="{section}"' in page
    assert page.count("<svg") >= 3 and page.count("<title>") >= page.count("<svg")


def test_headline_colours_follow_meaning(project: Path, run) -> None:
    """Green is good news: more failures or more bad responses served is red, more preventions green."""
    assert run("report", "--logs", "logs.jsonl", "--since", SINCE, "--until", UNTIL, "--out", "r.html").exit_code == 0
    page = (project / "r.html").read_text(encoding="utf-8")
    classes = dict(re.findall(r'data-metric="([a-z_]+)".*?<span class="change ([a-z ]+)"', page))
    assert classes == {"queries": "up neutral", "failures": "up bad", "prevented": "up good",
                       "bad_responses_served": "up bad", "addressed_share_active": "up good",
                       "addressed_share": "up good", "triaged_away": "flat neutral"}
    better = {m["key"]: m["better"] for m in report_json(run)["headline"]}
    assert better == {"queries": None, "failures": "down", "prevented": "up", "bad_responses_served": "down",
                      "addressed_share_active": "up", "addressed_share": "up", "triaged_away": None}


def test_headline_fall_in_failures_is_green() -> None:
    from remedy.analytics.report import Metric
    from remedy.report.html_page import _headline

    class Period:  # the two fields the headline reads
        since, until = __import__("datetime").datetime(2026, 9, 1), __import__("datetime").datetime(2026, 10, 1)

    class Page:
        previous = Period()
        headline = (Metric("failures", "Failures detected", 3, 9, better="down"),
                    Metric("prevented", "Failures prevented", 3, 9, better="up"),
                    Metric("queries", "Queries", 3, 3))

    html = _headline(Page())  # type: ignore[arg-type]
    assert 'class="change down good"' in html and 'class="change down bad"' in html
    assert 'class="change flat neutral"' in html


def test_refusals(project: Path, run) -> None:
    same = run("report", "--logs", "logs.jsonl", "--out", "logs.jsonl")
    assert same.exit_code == 2 and "is the input" in same.stderr
    assert json.loads((project / "logs.jsonl").read_text().splitlines()[0])["id"] == "old"
    glob_input = run("report", "--logs", "*.jsonl", "--out", "./logs.jsonl")
    assert glob_input.exit_code == 2
    missing = run("report", "--logs", "logs.jsonl")
    assert missing.exit_code == 2 and "--out" in missing.stderr
    assert run("report", "--logs", "nothing.jsonl", "--out", "r.html").exit_code == 2
    assert run("report", "--logs", "logs.jsonl", "--out", "r.html", "--top", "0").exit_code == 2


def test_repo_url_option_overrides_origin(project: Path, run) -> None:
    report = report_json(run, "--repo-url", "https://github.example.com/team/faq/")
    assert report["repo_url"] == "https://github.example.com/team/faq"
    assert report["queue"][0]["github_url"].startswith("https://github.example.com/team/faq/new/main?filename=")


@pytest.mark.parametrize(("remote", "expected"), [
    ("git@github.com:acme/help.git", "https://github.com/acme/help"),
    ("https://github.com/acme/help.git", "https://github.com/acme/help"),
    ("https://x-access-token:secret@github.com/acme/help", "https://github.com/acme/help"),
    ("ssh://git@github.com/acme/help.git", "https://github.com/acme/help"),
    ("ssh://git@github.com:22/acme/help", "https://github.com/acme/help"),
    ("https://github.com/acme/help/", "https://github.com/acme/help"),
])
def test_normalize_repo_url(remote: str, expected: str) -> None:
    assert normalize_repo_url(remote) == expected


def _near_misses_scoring_every_query(analysis) -> tuple:
    """The near-miss list by brute force: every unaddressed failure query scored, sorted, cut."""
    import numpy as np

    from remedy.analytics import report

    matcher = analysis.matcher
    rows = analysis.con.execute(f"""
        SELECT normalized_query, first(query ORDER BY n DESC, query), sum(n) AS failures
        FROM (SELECT normalized_query, query, count(*) AS n FROM {analysis.logs.table}
              WHERE is_failure AND NOT ({report._addressed_sql(analysis)}) GROUP BY ALL)
        GROUP BY normalized_query""").fetchall()
    ids, scores = matcher.index.scores(matcher.encode([r[0] for r in rows]), kind="answer",
                                       statuses=("active", "draft"))
    thresholds = np.array([matcher.threshold if matcher.by_id[i].threshold is None
                           else float(matcher.by_id[i].threshold or 0) for i in ids])
    below = np.where(scores < thresholds[None, :], scores, -np.inf)
    best = np.argmax(below, axis=1)
    similarity = below[np.arange(len(rows)), best]
    misses = [report.NearMiss(rows[r][1], int(rows[r][2]), ids[int(best[r])], round(float(similarity[r]), 4),
                              round(float(thresholds[int(best[r])]), 4))
              for r in np.flatnonzero(thresholds[best] - similarity <= report.NEAR_MISS_BAND)]
    misses.sort(key=lambda m: (-m.failures, -m.similarity, m.query))
    return tuple(misses[:report.MAX_NEAR_MISSES])


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8])
def test_near_misses_equal_scoring_every_query(repo: Path, monkeypatch, limit: int) -> None:
    from remedy.analytics import report
    from remedy.analytics.analysis import analyse
    from remedy.config import load_config

    write_answer(repo, "bags", "What is the baggage allowance?", extra="threshold: 0.97\n")
    write_answer(repo, "pets", "Can I bring my dog on the plane?", status="draft", extra="threshold: 0.95\n")
    queries = ["How much baggage can I take", "what is the baggage limit", "baggage allowance for infants",
               "Can my dog fly with me", "can I take my cat on the plane", "dog on a plane", "my luggage is lost",
               "is a pet allowed in the cabin", "What is the bag allowance?", "baggage allowance?"]
    rows = []
    for number, query in enumerate(queries):  # failure counts 1 to 3, ties; two spellings of each, tied too
        for copy in range(1 + number % 3):
            spelling = query.upper() if copy % 2 else query
            rows.append({"id": f"{number}-{copy}", "timestamp": "2026-10-01T10:00:00Z", "query": spelling,
                         "is_bad": True})
    (repo / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(report, "MAX_NEAR_MISSES", limit)
    monkeypatch.setattr(report, "NEAR_MISS_BLOCK", 2)  # many blocks: the early stop is exercised
    monkeypatch.setattr(report, "NEAR_MISS_BAND", 1.0)  # every query below its answer's threshold is near
    analysis = analyse(load_config(cwd=repo), ["logs.jsonl"])
    expected = _near_misses_scoring_every_query(analysis)
    assert len(expected) == limit
    assert limit < 8 or any(m.query.isupper() for m in expected)  # a spelling won on a tie (text order)
    assert report._near_misses(analysis) == expected
