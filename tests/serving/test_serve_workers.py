"""Two worker processes: each reloads the folder itself, and their serving-log lines never interleave."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import git, write_answer
from tests.serving.server_process import Server, start_server, wait_until

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

REQUESTS = 200
LONG_RESPONSE = "a long response that makes each line several kilobytes. " * 100


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    repo = tmp_path_factory.mktemp("workers")
    git(repo, "init", "-q", "-b", "main")
    write_answer(repo, "refund", "Can I get a refund if my flight is cancelled?")
    server = start_server(repo, "--workers", "2", "--log-dir", "logs", "--poll", "0.2")
    try:
        yield server, repo
    finally:
        server.stop()


def test_concurrent_decisions_from_two_workers_log_whole_lines(workers: tuple[Server, Path]) -> None:
    server, repo = workers

    def ask(number: int) -> str:
        reply = server.request("POST", "/v1/match", {"query": f"refund for my cancelled flight {number}",
                                                     "response": LONG_RESPONSE})
        assert reply.status == 200
        return reply.body["log_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        log_ids = list(pool.map(ask, range(REQUESTS)))
    text = "".join(path.read_text(encoding="utf-8") for path in (repo / "logs").glob("serve-*.jsonl"))
    lines = [json.loads(line) for line in text.splitlines()]  # a torn line would not parse
    assert sorted(line["id"] for line in lines) == sorted(log_ids)
    assert all(line["response"] == LONG_RESPONSE for line in lines)


def test_each_worker_reloads_itself(workers: tuple[Server, Path]) -> None:
    server, repo = workers
    write_answer(repo, "pets", "Can I bring my dog on the plane?")
    reloaded: set[int] = set()

    def both_reloaded() -> bool:
        health = server.request("GET", "/v1/health").body  # a new connection each time: either worker answers
        if health["entries"] == 2:
            reloaded.add(health["worker"])
        return len(reloaded) == 2

    wait_until(both_reloaded, 10)
