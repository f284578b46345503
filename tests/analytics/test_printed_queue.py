"""A rank means the issue `remedy issues` printed there: after the queue moves, a rank is refused, never
silently taken to mean the issue that moved up into it; every hint names issues by id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analytics.conftest import issues as printed

TOPICS = [  # (query, failures): three topics of different impact, so the ranks are known
    ("Do I need a transit visa for a layover in Doha?", 4),
    ("Can I bring a drone in my cabin bag?", 3),
    ("Is there wifi on board the plane?", 2),
]


@pytest.fixture
def log_rows() -> list[dict]:
    rows, n = [], 0
    for query, failures in TOPICS:
        for day in range(failures):
            n += 1
            rows.append({"id": f"l{n}", "timestamp": f"2026-10-0{day + 1}T10:00:00Z", "query": query,
                         "response": "Sure.", "is_bad": True, "severity": 0.8})
    return rows


def test_a_rank_after_the_queue_moved_is_refused_and_the_id_works(project: Path, run) -> None:
    queue = printed(run)
    assert [i["representative_query"] for i in queue] == [query for query, _ in TOPICS]
    visa, drone, wifi = (i["id"] for i in queue)
    first = run("triage", "1", "--logs", "logs.jsonl", "--wont-fix")
    assert first.exit_code == 0 and f"triage/{visa}.yaml" in first.stdout

    # the drone topic was printed at rank 2 and is rank 1 now; rank 2 is the wifi topic
    for command in (("triage", "2", "--logs", "logs.jsonl", "--addressed"),
                    ("review", "2", "--logs", "logs.jsonl", "--bad"),
                    ("new", "answer", "--from-issue", "2", "--logs", "logs.jsonl"),
                    ("issue", "2", "--logs", "logs.jsonl")):
        refused = run(*command)
        assert refused.exit_code == 2 and not refused.stdout, command
        assert "the queue has changed since `remedy issues` printed it" in refused.stderr
        assert f"rank 2 was {drone} (Can I bring a drone in my cabin bag?), and it is rank 1 now" in refused.stderr
        assert f"rank 2 is now {wifi}" in refused.stderr and f"{drone} …" in refused.stderr
    assert sorted(p.name for p in (project / "triage").iterdir()) == [f"{visa}.yaml"]
    assert not (project / "remediations" / "answers").exists() and not (project / "remediations" / "reviews").exists()

    by_id = run("triage", drone, "--logs", "logs.jsonl", "--addressed")
    assert by_id.exit_code == 0 and f"triage/{drone}.yaml" in by_id.stdout
    # printed again, the ranks are those of the new queue
    assert [i["id"] for i in printed(run)] == [wifi]
    assert run("issue", "1", "--logs", "logs.jsonl", "--format", "json").exit_code == 0


def test_a_rank_needs_a_printed_queue_and_a_printed_rank(project: Path, run) -> None:
    never = run("issue", "1", "--logs", "logs.jsonl")
    assert never.exit_code == 2 and "none was printed here yet" in never.stderr
    printed(run, "--top", "2")
    beyond = run("triage", "3", "--logs", "logs.jsonl", "--addressed")
    assert beyond.exit_code == 2 and "rank 3 was not in the queue" in beyond.stderr and "ranks 1 to 2" in beyond.stderr
    assert not (project / "triage").exists()
    # the printed queue lives in the cache folder, which git ignores
    assert (project / ".remedy" / ".gitignore").read_text() == "*\n"


def test_a_rank_is_resolved_with_the_options_the_queue_was_printed_with(project: Path, run) -> None:
    wifi = printed(run)[2]["id"]
    narrowed = printed(run, "--primary-issue", "other", "--half-life", "inf", "--top", "3")
    assert [i["id"] for i in narrowed][2] == wifi
    shown = run("issue", "3", "--logs", "logs.jsonl", "--format", "json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == wifi


def test_every_hint_names_the_issue_by_id(project: Path, run) -> None:
    table = run("issues", "--logs", "logs.jsonl")
    visa = printed(run)[0]["id"]
    assert f"`remedy issue {visa} --logs …` shows one in full; `remedy triage {visa} --logs …`" in table.stdout
    detail = run("issue", visa, "--logs", "logs.jsonl")
    assert f"remediate: remedy new answer --from-issue {visa} --logs 'logs.jsonl'" in detail.stdout
    assert f"remedy triage {visa} --logs …" in detail.stdout and f"remedy review {visa} --logs …" in detail.stdout
    assert "issue N" not in table.stdout + detail.stdout and "triage N" not in table.stdout + detail.stdout
