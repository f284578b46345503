"""Issue 35 (hardening round four): `remedy serve` against clients, token files and writers that misbehave.

Each test drives the real server (uvicorn in a subprocess, raw sockets where a polite HTTP client cannot
imitate the attack) or the CLI, and failed before the fix it is named after.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import git, write_answer
from tests.serving.server_process import Server, free_port, start_server, wait_until

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

TIMEOUT = 1.0  # --request-timeout for these servers
TOKEN = "round4-token-0123456789abcdef"
QUESTION = "Can I get a refund if my flight is cancelled?"


def _project(repo: Path) -> Path:
    write_answer(repo, "refund", QUESTION)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "folder")
    return repo


def _remedy(repo: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "remedy", *args], cwd=repo, capture_output=True, text=True,
                          timeout=timeout)


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Everything the server sent until it closed the connection; AssertionError if still open after `seconds`."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        raise AssertionError(f"still open after {seconds} s; received {received[:120]!r}") from None
    return received


# --- item 2: a client dripping the body of a request that was answered before it was read -------------


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/match"])
def test_a_dripped_body_after_an_early_answer_is_cut_off(repo: Path, path: str) -> None:
    """401 (no token) or 404 answered at once; the client then drips the body a byte every 0.2 s."""
    _project(repo)
    (repo / "token").write_text(TOKEN, encoding="utf-8")
    os.chmod(repo / "token", 0o600)
    server = start_server(repo, "--token-file", "token", "--request-timeout", str(TIMEOUT), token=TOKEN)
    stop = threading.Event()
    try:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{".encode())

        def drip() -> None:
            while not stop.wait(0.2):
                try:
                    sock.send(b" ")
                except OSError:
                    return

        dripping = threading.Thread(target=drip)
        dripping.start()
        started = time.monotonic()
        answer = _closed_within(sock, TIMEOUT * 6)
        assert time.monotonic() - started < TIMEOUT * 6
        assert answer.startswith((b"HTTP/1.1 401 ", b"HTTP/1.1 404 ")), answer[:80]
        assert server.request("GET", "/v1/health").status == 200
    finally:
        stop.set()
        server.stop()


def test_blank_lines_dripped_between_requests_are_cut_off(repo: Path) -> None:
    _project(repo)
    server = start_server(repo, "--request-timeout", str(TIMEOUT))
    try:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        sock.settimeout(TIMEOUT * 8)
        for _ in range(40):  # CRLFs begin no request: uvicorn's keep-alive timer was cancelled by each
            try:
                sock.send(b"\r\n")
            except OSError:
                break
            time.sleep(0.2)
        _closed_within(sock, TIMEOUT * 8)
        assert time.monotonic() - started < TIMEOUT * 8
    finally:
        server.stop()


# --- item 10 and the bodies the docs refuse ------------------------------------------------------------


@pytest.fixture
def served(repo: Path) -> Server:
    _project(repo)
    server = start_server(repo, "--log-dir", "served-logs", "--request-timeout", "5")
    yield server
    server.stop()


@pytest.mark.parametrize("query", ["", " ", "\t\r\n", "\u3000\u00a0"])
def test_an_empty_or_blank_query_is_refused(served: Server, query: str) -> None:
    reply = served.request("POST", "/v1/match", {"query": query})
    assert reply.status == 400 and "empty or only white space" in reply.body["error"], reply.body


def test_what_serve_logs_passes_coverage_strict(served: Server, repo: Path) -> None:
    odd = ["", " ", QUESTION, "refund \\ud800 please", "nul \\u0000 inside", "\\u0001\\u001f", "\\u200b",
           "tab\\tand\\r\\nnewline", "x" * 10_000, "😀 émoji ＝1+1"]
    answered = 0
    for query in odd:
        reply = served.request("POST", "/v1/match", '{"query": "' + query + '", "response": ""}')
        assert reply.status in (200, 400), reply.body
        answered += reply.status == 200
    assert answered == len(odd) - 2
    result = _remedy(repo, "coverage", "--logs", "served-logs", "--strict", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["logs"]["total"] == answered


def test_deeply_nested_json_is_400_without_a_traceback(served: Server) -> None:
    for body in ("[" * 5000 + "]" * 5000, '{"query": ' + "[" * 5000 + "]" * 5000 + "}", "{\"a\":" * 3000):
        reply = served.request("POST", "/v1/match", body)
        assert reply.status == 400, reply.body
    assert served.request("POST", "/v1/match", {"query": QUESTION}).status == 200
    assert "Traceback" not in served.stderr() and "RecursionError" not in served.stderr(), served.stderr()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
def test_a_body_with_a_bom_or_in_utf16_is_400(served: Server, encoding: str) -> None:
    body = json.dumps({"query": QUESTION}).encode(encoding)
    reply = served.request("POST", "/v1/match", body)
    assert reply.status == 400, (encoding, reply.body)
    assert "UTF-8" in reply.body["error"] or "byte order mark" in reply.body["error"]


# --- the token file ------------------------------------------------------------------------------------


def test_a_fifo_as_token_file_is_refused_at_once(repo: Path) -> None:
    _project(repo)
    os.mkfifo(repo / "token")
    result = _remedy(repo, "serve", "--token-file", "token", "--port", str(free_port()), timeout=30)
    assert result.returncode == 2, result.stderr
    assert "token" in result.stderr and "not a regular file" in result.stderr


@pytest.mark.parametrize("token", ["päss-word-0123456789abcdef", "token-with-\u00a0nbsp-0123456789", "é" * 20])
def test_a_token_that_http_cannot_carry_is_refused_at_start(repo: Path, token: str) -> None:
    _project(repo)
    (repo / "token").write_text(token, encoding="utf-8")
    result = _remedy(repo, "serve", "--token-file", "token", "--port", str(free_port()), timeout=30)
    assert result.returncode == 2, result.stderr
    assert "--token-file" in result.stderr and ("printable ASCII" in result.stderr or "spaces" in result.stderr)


def test_a_token_file_others_can_read_is_warned_about(repo: Path) -> None:
    _project(repo)
    (repo / "token").write_text(TOKEN, encoding="utf-8")
    os.chmod(repo / "token", 0o644)
    server = start_server(repo, "--token-file", "token", token=TOKEN)
    try:
        assert server.request("GET", "/v1/health").status == 200
        assert "permissions 0644 let anyone on this machine read the token" in server.stderr(), server.stderr()
    finally:
        server.stop()
    os.chmod(repo / "token", 0o600)
    server = start_server(repo, "--token-file", "token", token=TOKEN)
    try:
        assert "permissions" not in server.stderr()
    finally:
        server.stop()


# --- a file served while half-written ------------------------------------------------------------------


def test_a_file_still_open_for_writing_is_not_served_half_written(repo: Path) -> None:
    _project(repo)
    server = start_server(repo, "--poll", "0.2")
    path = repo / "remediations" / "answers" / "baggage.yaml"
    prefix = ("kind: answer\nid: baggage\nstatus: active\nquestion: What is the baggage allowance?\n"
              "answer: |\n  One bag of 23 kg")
    rest = " and one cabin bag of 8 kg.\n"
    try:
        with path.open("w", encoding="utf-8") as writer:
            writer.write(prefix)  # a valid file by itself: only its end is missing
            writer.flush()
            time.sleep(1.5)  # the writer pauses; polls at 0.2 s see a file that stands still
            ids = [r["id"] for r in server.request("GET", "/v1/remediations").body["remediations"]]
            assert "baggage" not in ids, "a file still open for writing was loaded"
            assert server.request("GET", "/v1/health").body["reloads"] == 0
            writer.write(rest)
        wait_until(lambda: "baggage" in [r["id"] for r in
                                         server.request("GET", "/v1/remediations").body["remediations"]], 5)
        reply = server.request("POST", "/v1/match", {"query": "What is the baggage allowance?"})
        assert reply.body["answer"]["text"].rstrip() == "One bag of 23 kg and one cabin bag of 8 kg."
    finally:
        server.stop()


def test_the_kernel_says_when_a_file_is_open_for_writing(tmp_path: Path) -> None:
    from remedy.serving.reloader import open_for_writing, still_being_written

    path = tmp_path / "answer.yaml"
    with path.open("w", encoding="utf-8") as writer:
        writer.write("kind: answer\n")
        writer.flush()
        if open_for_writing(str(path)) is None:
            pytest.skip("no file leases here: the 2 s quiet period applies instead")
        assert open_for_writing(str(path)) is True
        stamp = os.stat(path)
        changed = ((str(path), stamp.st_mtime_ns, stamp.st_size, stamp.st_ino),)
        assert still_being_written(changed, time.time_ns()) == str(path)
    assert open_for_writing(str(path)) is False
    assert still_being_written(changed, time.time_ns()) is None
    assert open_for_writing(str(tmp_path / "gone.yaml")) is False  # removed: the load sees it gone
