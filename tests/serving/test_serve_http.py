"""`remedy serve` for real: one server for the module (uvicorn in a subprocess, a token, a serving log).

The tests run in file order and each leaves the folder as it found it.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from remedy.commands.app import app
from tests.conftest import git, write, write_answer, write_small_folder
from tests.serving.server_process import Server, start_server, wait_until

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

TOKEN = "test-token-0123456789abcdef"
CHANGE_SECONDS = 2.0  # the bound: a change in the folder is served within 2 s
QUERIES = [
    ("Can I get a refund if my flight is cancelled?", None),
    ("my flight was cancelled, do I get my money back", None),
    ("can i bring my dog in the cabin", None),
    ("Will I get compensation for a two hour delay?", "Yes, every delay is compensated with 600 euros."),
    ("Will I get compensation for a two hour delay?", "It depends on the cause; see our policy."),
    ("I am furious about my lost luggage", None),
    ("how do i bake sourdough bread", None),
]


@dataclass
class Running:
    server: Server
    repo: Path
    log_dir: Path
    served: Counter  # answer id -> how many /v1/match replies served it (what coverage must count)
    decisions: int = 0

    def match(self, query: str, response: str | None = None) -> dict:
        body = {"query": query} if response is None else {"query": query, "response": response}
        reply = self.server.request("POST", "/v1/match", body)
        assert reply.status == 200, reply.body
        self.decisions += 1
        if reply.body["answer"]:
            self.served[reply.body["answer"]["id"]] += 1
        return reply.body


def make_folder(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    write_small_folder(repo)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Ada", "-c", "user.email=ada@example.com", "commit", "-qm", "folder")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    repo = tmp_path_factory.mktemp("served")
    make_folder(repo)
    (repo / "token").write_text(TOKEN + "\n", encoding="utf-8")
    log_dir = repo / "serving-logs"
    server = start_server(repo, "--token-file", "token", "--log-dir", str(log_dir), "--poll", "0.2", token=TOKEN)
    try:
        yield Running(server, repo, log_dir, Counter())
    finally:
        server.stop()


def remedy_match_json(repo: Path, query: str, response: str | None, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(repo)
    args = ["match", query, "--format", "json"] + (["--response", response] if response is not None else [])
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_decisions_equal_remedy_match(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    for query, response in QUERIES:
        served = running.match(query, response)
        log_id = served.pop("log_id")
        assert isinstance(log_id, str) and len(log_id) == 32
        assert served == remedy_match_json(running.repo, query, response, monkeypatch), query
    assert running.match(QUERIES[0][0])["answer"]["id"] == "refund"
    assert running.match(QUERIES[3][0], QUERIES[3][1])["review"]["applies"] is True


def test_health_and_remediations(running: Running) -> None:
    health = running.server.request("GET", "/v1/health").body
    head = git(running.repo, "rev-parse", "HEAD").strip()
    assert health["status"] == "ok" and health["last_reload_error"] is None
    assert health["entries"] == 5 and health["by_status"] == {"active": 4, "draft": 1, "paused": 0}
    assert health["revision"] == head
    assert health["model"]["name"] == "bundled"
    # the score's fingerprint: the static model's alone, or both models' with the verifier
    fingerprint = health["model"]["fingerprint"]
    assert len(fingerprint) == 16 if not health["model"]["verifier"] else fingerprint.startswith("fused-")
    assert health["settings"]["source"] == "model defaults" and 0 < health["settings"]["threshold"] < 1
    assert health["loaded_at"].endswith("Z")
    listed = running.server.request("GET", "/v1/remediations").body["remediations"]
    assert {"id": "refund-v2", "kind": "answer", "status": "draft"} in listed and len(listed) == 5


def test_an_activation_and_a_pause_are_served_within_two_seconds(running: Running) -> None:
    query = "is there wifi on board?"
    assert running.match(query)["answer"] is None
    path = write_answer(running.repo, "wifi", "Is there wifi on board?", answer="Yes, on every flight.",
                        status="draft")
    wait_until(lambda: running.server.request("GET", "/v1/health").body["entries"] == 6, CHANGE_SECONDS + 3)
    running.match(query)
    path.write_text(path.read_text().replace("status: draft", "status: active"))  # as `remedy activate` does
    wait_until(lambda: (running.match(query)["answer"] or {}).get("id") == "wifi", CHANGE_SECONDS)
    path.write_text(path.read_text().replace("status: active", "status: paused"))
    wait_until(lambda: running.match(query)["answer"] is None, CHANGE_SECONDS)


def test_an_invalid_change_keeps_the_last_good_folder_and_shows_in_health(running: Running) -> None:
    bad = write(running.repo / "remediations/answers/broken.yaml", """\
        kind: answer
        id: broken
        status: sometimes
        question: Is this valid?
        answer: No.
        """)

    def stale() -> bool:
        return running.server.request("GET", "/v1/health").body["status"] == "stale"

    wait_until(stale, CHANGE_SECONDS)
    error = running.server.request("GET", "/v1/health").body["last_reload_error"]
    assert "broken.yaml" in error["message"] and error["at"].endswith("Z")
    assert running.match("Can I get a refund if my flight is cancelled?")["answer"]["id"] == "refund"
    bad.unlink()
    wait_until(lambda: running.server.request("GET", "/v1/health").body["status"] == "ok", CHANGE_SECONDS)


def test_reload_on_request_needs_the_token(running: Running) -> None:
    assert running.server.request("POST", "/v1/reload", token=None).status == 401
    reply = running.server.request("POST", "/v1/reload")
    assert reply.status == 200 and reply.body["reloaded"] is True and reply.body["status"] == "ok"


def test_refusals(running: Running) -> None:
    request = running.server.request
    for token in (None, "wrong-token-0123456789abcdef", TOKEN[:-1]):
        reply = request("POST", "/v1/match", {"query": "hi"}, token=token)
        assert reply.status == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert request("GET", "/v1/health", token=None).status == 401
    big = {"query": "x" * 17_000}
    assert request("POST", "/v1/match", big).status == 413
    # a body without Content-Length (chunked) is measured while it is read
    assert request("POST", "/v1/match", json.dumps(big), chunked=True).status == 413
    assert request("POST", "/v1/match", json.dumps({"query": "ok"}), chunked=True).status == 200
    for body, message in (("{not json", "not valid JSON"), ('{"query": 3}', '"query" must be a string'),
                          ("[1, 2]", "expected a JSON object"), ("{}", '"query" is required'),
                          ('{"query": "a", "respone": "b"}', "unknown field 'respone'"),
                          ('{"query": "a", "response": 1}', '"response" must be a string'),
                          (b"\xff\xfe", "not UTF-8")):
        reply = request("POST", "/v1/match", body, headers={"Content-Type": "application/json"})
        assert reply.status == 400 and message in reply.body["error"], (body, reply.body)
    assert request("GET", "/v1/match").status == 405
    assert request("GET", "/v1/nothing").body == {"error": "Not Found"}


def test_lone_surrogates_do_not_crash(running: Running) -> None:
    reply = running.server.request("POST", "/v1/match", '{"query": "refund \\ud800 please", "response": "\\udfff"}')
    assert reply.status == 200 and reply.body["query"] == "refund \ufffd please"
    running.decisions += 1


def test_the_serving_log_round_trips_into_exact_preventions(running: Running,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for query, response in QUERIES:
        running.match(query, response)
    lines = [json.loads(line) for path in sorted(running.log_dir.glob("serve-*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines()]
    chunked_ok = 1  # the chunked {"query": "ok"} of test_refusals went through the helper-less path
    assert len(lines) == running.decisions + chunked_ok
    assert len({line["id"] for line in lines}) == len(lines)
    with_response = [line for line in lines if line.get("response") == QUERIES[3][1]]
    assert with_response and with_response[0]["metadata"]["review"] == "bad"
    assert with_response[0]["metadata"]["review_id"] == "bad-refund"
    monkeypatch.chdir(running.repo)
    result = CliRunner().invoke(app, ["coverage", "--logs", str(running.log_dir), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["preventions_source"] == "served_remediation"
    assert report["logs"] == {"total": len(lines), "failures": 0, "addressed_failures": 0,
                              "unaddressed_failures": 0, "skipped_lines": 0}
    preventions = {row["id"]: row["preventions"] for row in report["remediations"] if row["kind"] == "answer"}
    assert preventions == {answer: running.served.get(answer, 0) for answer in preventions}
    assert running.served["refund"] >= 4 and running.served["wifi"] >= 1


def test_refusals_before_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "remediations").mkdir()
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token-file" in result.stderr and "not a loopback" in result.stderr
    (tmp_path / "short").write_text("abc")
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--token-file", "short"])
    assert result.exit_code == 2 and "at least 16 characters" in result.stderr
    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)  # as if the serve extra were missing
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and "pip install 'remedy-sme[serve]'" in result.stderr


def test_a_non_loopback_bind_without_token_exits_2_from_the_shell(tmp_path: Path) -> None:
    result = subprocess.run([__import__("sys").executable, "-m", "remedy", "serve", "--host", "0.0.0.0"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "not a loopback address" in result.stderr
