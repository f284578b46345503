"""Two worker processes: each reloads the folder itself, their serving-log lines never interleave, and
stopping them leaves nothing for the resource tracker to clean up."""

from __future__ import annotations

import json
import sys
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


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="finds the resource tracker in /proc")
def test_stopping_two_workers_leaks_no_semaphore(tmp_path: Path) -> None:
    # Each worker encodes (the folder's load, then a match); the semaphores a spawned worker creates are
    # registered with the parent's resource tracker, which warns at its exit about any left behind.
    git(tmp_path, "init", "-q", "-b", "main")
    write_answer(tmp_path, "refund", "Can I get a refund if my flight is cancelled?")
    server = start_server(tmp_path, "--workers", "2")
    try:
        for number in range(4):  # new connections: both workers are likely asked
            assert server.request("POST", "/v1/match", {"query": f"refund please {number}"}).status == 200
        helpers = child_pids(server.process.pid)
        assert len(helpers) >= 3, helpers  # the two workers and the resource tracker
    finally:
        server.stop()
    assert server.process.returncode is not None
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), 15)  # the tracker writes last
    stderr = server.stderr()
    assert "leaked semaphore" not in stderr and "resource_tracker" not in stderr, stderr
    assert "serving 1 remediations" in stderr and "(2 workers)" in stderr
