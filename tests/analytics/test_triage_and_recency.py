"""Triage files, recency-weighted impact, one-step reviews and the issues JSON shape, from the CLI.

Queries repeat exactly (after normalization) where a number must not depend on the model's
similarity scale; "new similar failures" are paraphrases far above the decision threshold.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.analytics.conftest import issues, write_logs
from tests.conftest import git

VISA = "Do I need a transit visa for a layover in Doha?"
DRONE = "Can I bring a drone in my cabin bag?"
LOGS = [
    # newest log: 2026-10-05T10:00 (l6); ages 2 days, 1 day and 0 for the failures below
    {"id": "l4", "timestamp": "2026-10-03T10:00:00Z", "query": VISA, "is_bad": True, "severity": 0.9,
     "response": "No visa is ever needed.", "primary_issue": "hallucination"},
    {"id": "l5", "timestamp": "2026-10-04T10:00:00Z", "query": VISA.lower(), "is_bad": True, "severity": 0.5,
     "response": "No visa is ever needed for a layover."},
    {"id": "l6", "timestamp": "2026-10-05T10:00:00Z", "query": DRONE, "is_bad": True, "severity": 0.8,
     "response": "Drones are fine."},
    {"id": "l7", "timestamp": "2026-09-01T10:00:00Z", "query": "What is the baggage allowance?", "is_bad": False},
]


@pytest.fixture
def log_rows() -> list[dict]:
    return LOGS


def test_half_life_on_hand_computed_numbers(project: Path, run) -> None:
    # impact = sum of severity x 2^(-age / half_life), age from the newest log (l6), not the clock
    default = {i["representative_query"]: i for i in issues(run)}  # 14 days
    assert default[VISA]["impact"] == pytest.approx(0.9 * 2 ** (-2 / 14) + 0.5 * 2 ** (-1 / 14), abs=1e-4)
    assert default[VISA]["impact"] == pytest.approx(1.2910, abs=1e-4)
    assert default[VISA]["size"] == 2 and default[DRONE]["impact"] == pytest.approx(0.8)
    flat = issues(run, "--half-life", "inf")  # frequency x mean severity
    assert [(i["representative_query"], i["impact"]) for i in flat] == [(VISA, pytest.approx(1.4)),
                                                                       (DRONE, pytest.approx(0.8))]
    one_day = issues(run, "--half-life", "1d")  # 0.9/4 + 0.5/2 = 0.475 < 0.8: the recent drone comes first
    assert [(i["representative_query"], i["impact"]) for i in one_day] == [(DRONE, pytest.approx(0.8)),
                                                                          (VISA, pytest.approx(0.475))]
    (project / "remedy.toml").write_text('[issues]\nhalf_life = "1d"\n', encoding="utf-8")
    assert issues(run)[0]["representative_query"] == DRONE
    (project / "remedy.toml").write_text('[issues]\nhalf_life = "soon"\n', encoding="utf-8")
    bad = run("issues", "--logs", "logs.jsonl")
    assert bad.exit_code == 2 and "half_life" in bad.stderr
    assert run("issues", "--logs", "logs.jsonl", "--half-life", "-3d").exit_code == 2


def test_issues_json_shape_matches_the_design(project: Path, run) -> None:
    top = issues(run)[0]
    assert set(top) >= {"rank", "id", "size", "mean_severity", "impact", "primary_issue", "representative_query",
                        "state", "assignee", "first_seen", "last_seen", "log_ids"}
    assert (top["rank"], top["state"], top["assignee"]) == (1, "open", None)
    assert top["first_seen"] == "2026-10-03T10:00:00Z" and top["last_seen"] == "2026-10-04T10:00:00Z"
    assert top["trend"] == {"last_7_days": 2, "previous_7_days": 0} and sorted(top["log_ids"]) == ["l4", "l5"]
    table = run("issues", "--logs", "logs.jsonl")
    assert "assignee" in table.stdout and "2 vs 0" in table.stdout and "DRAFT remediation" in table.stdout


def test_a_triage_decision_keeps_applying_to_new_similar_failures(project: Path, run) -> None:
    visa = next(i for i in issues(run) if i["representative_query"] == VISA)
    done = run("triage", "1", "--logs", "logs.jsonl", "--wont-fix", "--note", "embassy rules, not ours")
    assert done.exit_code == 0, done.stderr
    path = project / "triage" / f"{visa['id']}.yaml"
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert saved["state"] == "wont_fix" and saved["note"] == "embassy rules, not ours"
    assert saved["queries"] == ["do i need a transit visa for a layover in doha"]
    assert [i["representative_query"] for i in issues(run)] == [DRONE], "triaged away: not open"
    # a new failure, a close paraphrase, a month later: the decision rule gives it to the triaged queries
    write_logs(project / "logs.jsonl", [*LOGS, {"id": "l8", "timestamp": "2026-11-01T10:00:00Z",
                                               "query": "do i need a transit visa for a layover in Doha airport",
                                               "is_bad": True, "severity": 0.7}])
    assert [i["representative_query"] for i in issues(run)] == [DRONE]
    wont = issues(run, "--state", "wont_fix")
    assert [(i["id"], i["state"], sorted(i["log_ids"])) for i in wont] == [(visa["id"], "wont_fix", ["l4", "l5", "l8"])]
    # assign (no --logs needed once the file exists), filter by assignee, reopen
    assert run("triage", visa["id"], "--assign", "@alice").exit_code == 0
    assigned = issues(run, "--assignee", "@alice")
    assert [(i["id"], i["state"], i["assignee"]) for i in assigned] == [(visa["id"], "assigned", "@alice")]
    assert issues(run, "--assignee", "@bob") == []
    assert run("triage", visa["id"], "--reopen").exit_code == 0
    assert {i["id"]: i["state"] for i in issues(run)}[visa["id"]] == "open"
    assert run("validate", "--no-semantic").exit_code == 0


def test_triage_needs_logs_for_a_new_issue_and_one_decision(project: Path, run) -> None:
    first = run("triage", "1", "--addressed")
    assert first.exit_code == 2 and "--logs" in first.stderr
    assert run("triage", "1", "--logs", "logs.jsonl", "--addressed", "--wont-fix").exit_code == 2
    assert run("triage", "1", "--logs", "logs.jsonl").exit_code == 2
    assert run("triage", "9", "--logs", "logs.jsonl", "--addressed").exit_code == 2


def test_two_triage_files_from_parallel_branches_merge_without_conflict(project: Path, run) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-qm", "logs")
    ids = {i["representative_query"]: i["id"] for i in issues(run)}
    git(project, "checkout", "-qb", "alice")
    assert run("triage", ids[VISA], "--logs", "logs.jsonl", "--wont-fix").exit_code == 0
    git(project, "add", "-A")
    git(project, "commit", "-qm", "visa: not ours")
    git(project, "checkout", "-q", "main")
    git(project, "checkout", "-qb", "bob")
    assert run("triage", ids[DRONE], "--logs", "logs.jsonl", "--assign", "@bob").exit_code == 0
    git(project, "add", "-A")
    git(project, "commit", "-qm", "drones: bob")
    git(project, "checkout", "-q", "main")
    git(project, "merge", "-q", "--no-edit", "alice")
    git(project, "merge", "-q", "--no-edit", "bob")  # check=True: a conflict would raise
    states = {i["id"]: (i["state"], i["assignee"]) for i in issues(run, "--state", "all")}
    assert states == {ids[VISA]: ("wont_fix", None), ids[DRONE]: ("assigned", "@bob")}
    assert "triage/" in git(project, "log", "--name-only", "--format=%s", "-1", "--", f"triage/{ids[DRONE]}.yaml")


def test_validate_reports_a_bad_triage_file(project: Path, run) -> None:
    (project / "triage").mkdir()
    (project / "triage" / "0123456789ab.yaml").write_text("state: closed\nqueries: [a]\n", encoding="utf-8")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1 and "triage/0123456789ab.yaml:1:8: T002" in result.stdout


def review_issue_id(run) -> str:
    return next(i["id"] for i in issues(run, "--status", "all", "--state", "all") if i["representative_query"] == VISA)


def test_review_in_one_step_addresses_the_issue(project: Path, run) -> None:
    assert issues(run)[0]["representative_query"] == VISA  # the queue the rank below refers to
    result = run("review", "1", "--logs", "logs.jsonl", "--bad", "--explanation", "visa rules vary", "--guidance")
    assert result.exit_code == 0, result.stderr
    written = [project / line.split()[1] for line in result.stdout.splitlines() if line.startswith("created")]
    review = yaml.safe_load(written[0].read_text(encoding="utf-8"))
    assert (review["kind"], review["verdict"], review["status"]) == ("review", "bad", "draft")
    assert review["question"] == VISA and review["response"] == "No visa is ever needed."  # the most severe log
    assert review["note"] == "visa rules vary" and review["source_logs"] == ["l4"]
    guidance = yaml.safe_load(written[1].read_text(encoding="utf-8"))
    assert guidance["kind"] == "guidance" and guidance["guidance"] == "visa rules vary"
    assert [i["representative_query"] for i in issues(run)] == [DRONE]
    triage = yaml.safe_load((project / "triage" / f"{review_issue_id(run)}.yaml").read_text(encoding="utf-8"))
    assert triage["state"] == "addressed" and triage["note"].startswith(f"Expert Review {written[0].stem} (bad)")
    # the review draft itself covers the near failures (reviews mark cases addressed), the triage file the rest
    assert issues(run, "--state", "addressed") == []
    assert run("review", "1", "--logs", "logs.jsonl", "--good", "--bad").exit_code == 2
    assert run("review", "1", "--logs", "logs.jsonl", "--good", "--guidance").exit_code == 2


def test_new_answer_from_a_topic_offers_its_queries_as_also_matches(project: Path, run) -> None:
    paraphrase = {"id": "l9", "timestamp": "2026-10-05T09:00:00Z", "is_bad": True, "severity": 0.6,
                  "query": "Do I need a transit visa for my layover in Doha airport?"}
    write_logs(project / "logs.jsonl", [*LOGS, paraphrase])
    topic = next(i for i in issues(run) if i["representative_query"].startswith("Do I need a transit visa"))
    assert topic["distinct_queries"] == 2
    created = run("new", "answer", "--from-issue", topic["id"], "--logs", "logs.jsonl")
    assert created.exit_code == 0, created.stderr
    text = (project / created.stdout.split()[1]).read_text(encoding="utf-8")
    other = paraphrase["query"] if topic["representative_query"] == VISA else VISA
    assert f"  # - {other}" in text or f'  # - "{other}"' in text


# ("@alice\n" is not here: --assign strips the spaces around a handle, as the shell's $(…) leaves a newline)
@pytest.mark.parametrize("handle", ["../../etc/passwd", "@alice # * @evil", "@alice @bob", "alice\nstate: x"])
def test_assign_takes_only_a_handle(project: Path, run, handle: str) -> None:
    """An assignee is a handle like an owner: a path, a newline or CODEOWNERS syntax is refused (exit 2)."""
    assert run("issues", "--logs", "logs.jsonl").exit_code == 0  # a rank is the printed queue's
    result = run("triage", "1", "--logs", "logs.jsonl", "--assign", handle)
    # the value as given, or with the '@' a bare name gets (--assign alice means @alice)
    assert result.exit_code == 2 and result.stderr.startswith("remedy: --assign: "), result.stderr
    assert repr(handle)[1:8] in result.stderr
    assert any(why in result.stderr for why in ("is not an owner", "write one per item", "spaces around it"))
    assert not (project / "triage").exists()


def test_a_note_with_newlines_and_yaml_stays_a_note(project: Path, run) -> None:
    note = "checked | with legal\nstate: wont_fix\n---\n- queries: [x]\n# CODEOWNERS * @evil"
    assert run("issues", "--logs", "logs.jsonl").exit_code == 0  # a rank is the printed queue's
    assert run("triage", "1", "--logs", "logs.jsonl", "--note", note).exit_code == 0
    (path,) = (project / "triage").glob("*.yaml")
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert saved["note"] == note and saved["state"] == "open"
    assert run("validate").exit_code == 0


def test_triage_refuses_to_replace_a_file_that_does_not_parse(project: Path, run) -> None:
    visa = issues(run)[0]
    broken = project / "triage" / f"{visa['id']}.yaml"
    broken.parent.mkdir()
    text = "state: assigned\nassignee: bob smith\nnote: keep me\nqueries: [do i need a transit visa]\n"
    broken.write_text(text, encoding="utf-8")
    result = run("triage", "1", "--logs", "logs.jsonl", "--assign", "@alice")
    assert result.exit_code == 2
    assert f"triage/{visa['id']}.yaml:2:11: T002 assignee 'bob smith' is not an owner" in result.stderr
    assert broken.read_text(encoding="utf-8") == text


def test_an_issue_id_with_a_trailing_newline_is_no_id(project: Path, run) -> None:
    visa = issues(run)[0]
    assert run("triage", visa["id"], "--logs", "logs.jsonl", "--wont-fix").exit_code == 0
    result = run("triage", visa["id"] + "\n", "--note", "x")
    assert result.exit_code == 2 and sorted(p.name for p in (project / "triage").iterdir()) == [f"{visa['id']}.yaml"]
