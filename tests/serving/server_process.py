"""Start the real `remedy serve` in a subprocess on a free loopback port, and talk to it over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READY_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    token: str | None
    stderr_path: Path

    def request(self, method: str, path: str, body: bytes | str | dict | None = None, *,
                token: str | None = "default", headers: dict[str, str] | None = None, chunked: bool = False) -> Reply:
        payload = json.dumps(body).encode() if isinstance(body, dict) else body
        payload = payload.encode() if isinstance(payload, str) else payload
        sent = dict(headers or {})
        bearer = self.token if token == "default" else token
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            if chunked:
                connection.putrequest(method, path)
                for name, value in {**sent, "Transfer-Encoding": "chunked"}.items():
                    connection.putheader(name, value)
                connection.endheaders()
                assert payload is not None
                try:
                    for start in range(0, len(payload), 1024):
                        piece = payload[start:start + 1024]
                        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    connection.send(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server may refuse before reading everything; its answer is still there
            else:
                connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            parsed = json.loads(raw) if raw else None
            return Reply(response.status, parsed, {k.lower(): v for k, v in response.getheaders()})
        finally:
            connection.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_server(repo: Path, *args: str, token: str | None = None) -> Server:
    """`remedy serve ARGS` with cwd `repo`; returns once /v1/health answers (or fails with its stderr)."""
    port = free_port()
    stderr_path = repo / f".serve-{port}.err"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "remedy", "serve", "--port", str(port), *args], cwd=repo,
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=environment)
    server = Server(process, port, token, stderr_path)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"remedy serve exited with {process.returncode}: {server.stderr()}")
        try:
            if server.request("GET", "/v1/health").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"remedy serve was not ready within {READY_TIMEOUT_SECONDS} s: {server.stderr()}")


def wait_until(condition: Any, timeout: float, interval: float = 0.05) -> float:
    """Seconds until `condition()` was true; AssertionError after `timeout`."""
    start = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
