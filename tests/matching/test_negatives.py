"""Decision rule 4 end to end: a near miss listed in `must_not_match` is refused everywhere, a paraphrase is
still served, and every cached decision follows when a negative is added (a temp git repo, the real models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import git, write, write_answer

from remedy import Remediations

NEAR_MISS = "Can I get a refund if my flight is delayed?"  # served by `refund` until listed
PARAPHRASE = "my flight was cancelled, do I get my money back?"
FAR = "can i get my money back if my flight is delayed"  # stopped by the static screen
NEGATIVE = f"must_not_match:\n  - {NEAR_MISS}\n"


def write_folder(repo: Path, *, negative: bool) -> None:
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?",
                 answer="Yes: a full refund to the original payment. See https://example.com/refunds",
                 extra="also_matches:\n  - will you refund me when my flight is cancelled\n"
                       + (NEGATIVE if negative else ""))
    write_answer(repo, "pets", "Can I bring my dog on the plane?", answer="Small dogs travel in the cabin.")


def write_logs(repo: Path) -> None:
    rows = [{"id": f"log-{i}", "timestamp": f"2026-11-0{i + 1}T10:00:00Z", "query": query, "is_bad": True}
            for i, query in enumerate([NEAR_MISS, PARAPHRASE, NEAR_MISS.lower()])]
    write(repo / "logs.jsonl", "".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture
def folder(repo: Path) -> Path:
    write_folder(repo, negative=True)
    write_logs(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "folder")
    return repo


def test_the_api_refuses_the_listed_near_miss_and_serves_the_paraphrase(repo: Path) -> None:
    write_folder(repo, negative=False)
    before = Remediations.load(repo / "remediations")
    assert (before.answer_for(NEAR_MISS) or None) is not None and before.answer_for(NEAR_MISS).id == "refund"
    write_folder(repo, negative=True)
    after = Remediations.load(repo / "remediations")
    assert after.answer_for(NEAR_MISS) is None
    assert after.answer_for(NEAR_MISS.upper()) is None  # listed once, normalized
    hit = after.answer_for(PARAPHRASE)
    assert hit is not None and hit.id == "refund"


def test_match_shows_the_negative_that_refused_it_and_the_text_that_won(folder: Path, run) -> None:
    document = json.loads(run("match", NEAR_MISS, "--format", "json").stdout)
    assert document["answer"] is None
    near = document["near_answer"]
    assert near["id"] == "refund" and near["refused_by"] == "must_not_match"
    assert near["blocked_by"] == {"text": NEAR_MISS, "position": 0, "similarity": 1.0}
    assert {"query", "answer", "guidance", "review", "nearest"} <= set(document)  # the DESIGN keys kept
    text = run("match", NEAR_MISS).stdout
    assert f"refused by its must_not_match[0] {NEAR_MISS!r} (similarity 1.000)" in text
    served = json.loads(run("match", PARAPHRASE, "--format", "json").stdout)
    assert served["answer"]["id"] == "refund" and served["near_answer"] is None
    assert served["answer"]["matched"]["field"] in ("question", "also_matches")
    assert "matched by " in run("match", PARAPHRASE).stdout
    exact = json.loads(run("match", "Will you refund me when my flight is cancelled?", "--format", "json").stdout)
    assert exact["answer"]["matched"] == {"field": "also_matches", "position": 0,
                                          "text": "will you refund me when my flight is cancelled"}


def test_match_on_a_screened_query_orders_the_nearest_by_the_static_scores(folder: Path, run) -> None:
    document = json.loads(run("match", FAR, "--format", "json").stdout)
    if document["stage"] != "screen":
        pytest.skip("the verifier is not installed: no screen")
    assert document["answer"] is None and document["screen"]["passed"] is False
    assert document["near_answer"]["refused_by"] == "screen" and document["near_answer"]["id"] == "refund"
    statics = [n["static_similarity"] for n in document["nearest"]]
    assert statics == sorted(statics, reverse=True) and statics[0] > 0
    assert [n["id"] for n in document["nearest"]][:2] == ["refund", "pets"]
    assert document["screen"]["best_static_similarity"] == statics[0] < document["screen"]["value"]
    text = run("match", FAR).stdout
    assert "the screen stopped the query" in text and f"{statics[0]:.3f} static  refund" in text


def test_test_preview_and_coverage_refuse_it_and_the_cache_follows_a_new_negative(repo: Path, run) -> None:
    write_folder(repo, negative=False)
    write_logs(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "folder")

    def covered() -> int:
        result = run("coverage", "--logs", "logs.jsonl", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return next(r["covered_failures"] for r in json.loads(result.stdout)["remediations"] if r["id"] == "refund")

    def previewed() -> set[str]:
        result = run("preview", "refund", "--logs", "logs.jsonl", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return {row["query"] for row in json.loads(result.stdout)["logs"]}

    assert covered() == 3 and covered() == 3  # the second run from the decision cache
    assert NEAR_MISS in previewed()
    write_folder(repo, negative=True)  # one line added: every cached decision must follow
    assert covered() == 1
    assert previewed() == {PARAPHRASE}
    result = run("test", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["failed"] == 0


def test_serve_refuses_it_like_match(folder: Path, run) -> None:
    pytest.importorskip("uvicorn")
    from tests.serving.server_process import start_server

    server = start_server(folder)
    try:
        for query in (NEAR_MISS, PARAPHRASE):
            reply = server.request("POST", "/v1/match", {"query": query})
            assert reply.status == 200, reply.body
            reply.body.pop("log_id", None)
            assert reply.body == json.loads(run("match", query, "--format", "json").stdout)
        assert server.request("POST", "/v1/match", {"query": NEAR_MISS}).body["answer"] is None
        assert server.request("POST", "/v1/match", {"query": PARAPHRASE}).body["answer"]["id"] == "refund"
    finally:
        server.stop()
