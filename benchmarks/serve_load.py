"""`remedy serve` under load, on loopback only: latency and throughput, with and without the serving log,
and while the folder is reloaded every second (no request may fail).

A 1,000-answer folder is generated in a temporary directory; every phase is bounded in requests and
seconds and the servers are stopped at the end. Targets on 2 cores: p99 <= 5 ms at 500 requests/s;
>= 2,000 requests/s at saturation with 2 workers.

- closed loop at concurrency 1, 8 and 64: `wrk` (Debian package `wrk`) when installed, else the
  Python client below (which on 2 cores may itself be the bottleneck);
- open loop at a fixed rate (500/s): the Python client, latency measured from each request's scheduled
  time, so a stall is not hidden by the client waiting for it;
- reload: the fixed-rate load while one file changes every second (activated, then paused, ...).

Run: python benchmarks/serve_load.py [--entries 1000] [--seconds 5] [--rate 500] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_speed import make_distinct_folder  # noqa: E402

HOST = "127.0.0.1"  # loopback only, by design
MAX_REQUESTS_PER_PHASE = 200_000
START_TIMEOUT_SECONDS = 120
GRACE_SECONDS = 5  # an open-loop phase waits this long past its end for late answers, then stops


# -- the server ---------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def health(self) -> dict:
        with urllib.request.urlopen(f"http://{HOST}:{self.port}/v1/health", timeout=10) as reply:
            return json.loads(reply.read())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (Linux /proc): what the server itself spent,
    whatever else the machine is doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += process_tree_cpu_seconds(int(child))
    except (OSError, IndexError, ValueError):
        pass
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_server(project: Path, workers: int, log_dir: Path | None) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "remedy", "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    if log_dir is not None:
        command += ["--log-dir", str(log_dir)]
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(process, port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    seen: set[int] = set()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"remedy serve exited with {process.returncode}")
        try:
            seen.add(server.health()["worker"])
            if len(seen) >= workers:  # every worker is up (new connections reach either)
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit("remedy serve did not start in time")


# -- load generators ----------------------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    concurrency: int | str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def row(self) -> dict:
        return {"tool": self.tool, "concurrency": self.concurrency, "requests": self.requests,
                "requests_per_second": round(self.per_second), "p50_ms": round(self.p50_ms, 2),
                "p99_ms": round(self.p99_ms, 2), "failed": self.failed, **self.extra}


def request_bytes(port: int, body: bytes) -> bytes:
    return (f"POST /v1/match HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes) -> bool:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
    await reader.readexactly(length)
    return status == 200


async def closed_loop(port: int, bodies: list[bytes], concurrency: int, seconds: float) -> Result:
    """`concurrency` keep-alive connections, each sending its next request as soon as the last is answered."""
    payloads = [request_bytes(port, body) for body in bodies]
    latencies: list[float] = []
    failed = 0
    stop_at = time.perf_counter() + seconds

    async def connection(offset: int) -> None:
        nonlocal failed
        reader, writer = await asyncio.open_connection(HOST, port)
        number = offset
        while time.perf_counter() < stop_at and len(latencies) < MAX_REQUESTS_PER_PHASE:
            start = time.perf_counter()
            try:
                ok = await exchange(reader, writer, payloads[number % len(payloads)])
            except (OSError, asyncio.IncompleteReadError):
                failed += 1
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            latencies.append(time.perf_counter() - start)
            failed += not ok
            number += concurrency
        writer.close()

    begin = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    return summarize("python", concurrency, latencies, time.perf_counter() - begin, failed)


async def open_loop(port: int, bodies: list[bytes], rate: float, seconds: float, connections: int = 32) -> Result:
    """Requests sent at fixed times (`rate` a second); latency counts from the scheduled time."""
    payloads = [request_bytes(port, body) for body in bodies]
    total = min(int(rate * seconds), MAX_REQUESTS_PER_PHASE)
    latencies: list[float] = []
    failed = 0
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(HOST, port))
    begin = time.perf_counter()

    async def one(number: int) -> None:
        nonlocal failed
        scheduled = begin + number / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        reader, writer = await idle.get()
        try:
            ok = await exchange(reader, writer, payloads[number % len(payloads)])
        except (OSError, asyncio.IncompleteReadError):
            failed += 1
            writer.close()
            idle.put_nowait(await asyncio.open_connection(HOST, port))
            return
        latencies.append(time.perf_counter() - scheduled)
        failed += not ok
        idle.put_nowait((reader, writer))

    tasks = [asyncio.ensure_future(one(n)) for n in range(total)]
    _, late = await asyncio.wait(tasks, timeout=seconds + GRACE_SECONDS)  # bounded even if the server stalls
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    elapsed = time.perf_counter() - begin
    while not idle.empty():
        idle.get_nowait()[1].close()
    result = summarize("python open loop", f"{rate:g}/s", latencies, elapsed, failed)
    result.extra = {"not_answered_in_time": len(late)}
    return result


def summarize(tool: str, concurrency: int | str, latencies: list[float], seconds: float, failed: int) -> Result:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")
    return Result(tool, concurrency, len(ordered), seconds, 1000 * statistics.median(ordered) if ordered else 0.0,
                  1000 * p99, failed)


def wrk_run(port: int, script: Path, concurrency: int, seconds: float) -> Result:
    threads = min(2, concurrency)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "5s", "-s", str(script), f"http://{HOST}:{port}/v1/match"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    distribution = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", output, re.M))
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    failed = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed += int(non_2xx.group(1)) if non_2xx else 0
    return Result("wrk", concurrency, requests, requests / per_second if per_second else 0.0,
                  milliseconds(distribution["50"]), milliseconds(distribution["99"]), failed)


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_script(path: Path, bodies: list[bytes]) -> Path:
    entries = ",\n".join(f"[==[{body.decode()}]==]" for body in bodies)
    path.write_text(
        f"local bodies = {{\n{entries}\n}}\nlocal n = 0\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        "request = function()\n  n = n + 1\n  return wrk.format(\"POST\", nil, nil, bodies[(n % #bodies) + 1])\nend\n",
        encoding="utf-8")
    return path


# -- the workload ----------------------------------------------------------------------------------------


def make_project(root: Path, entries: int) -> tuple[list[bytes], Path]:
    distinct = make_distinct_folder(root / "remediations", entries)
    (root / "remedy.toml").write_text('remediations = "remediations"\n', encoding="utf-8")
    files = sorted((root / "remediations").rglob("*.yaml"))
    questions = [json.loads(line.split(": ", 1)[1]) for path in files[:200]
                 for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("question: ")]
    queries = questions[:100]  # exact hits
    queries += [q.replace("what about", "tell me more about") + " please" for q in questions[100:200]]  # near
    queries += [f"how do i {verb} my {thing}" for verb in ("change", "cancel", "upgrade", "find", "reset")
                for thing in ("booking", "seat", "password", "bag", "meal", "voucher", "invoice", "pet")]
    print(f"folder: {entries} answers ({'CLINC150 wiki sentences' if distinct else 'synthetic questions'}); "
          f"{len(queries)} distinct queries", file=sys.stderr)
    bodies = [json.dumps({"query": q}, ensure_ascii=False).encode() for q in queries]
    return bodies, files[0]


class FolderChurn:
    """Rewrites one remediation every second (active <-> paused) while a phase runs."""

    def __init__(self, path: Path) -> None:
        self.path, self.changes = path, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FolderChurn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            text = self.path.read_text(encoding="utf-8")
            flipped = (text.replace("status: active", "status: paused") if "status: active" in text
                       else text.replace("status: paused", "status: active"))
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(flipped, encoding="utf-8")
            os.replace(temporary, self.path)  # as git does: a new file renamed over the old one
            self.changes += 1


def conditions() -> dict:
    load1, load5, _ = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_average_1m": round(load1, 2), "load_average_5m": round(load5, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase (at most 60)")
    parser.add_argument("--rate", type=float, default=500.0, help="requests a second in the open-loop phases")
    parser.add_argument("--quick", action="store_true", help="one configuration of each kind, 2 s phases")
    options = parser.parse_args()
    seconds = min(options.seconds if not options.quick else 2.0, 60.0)
    use_wrk = shutil.which("wrk") is not None
    report: dict = {"conditions_before": conditions(), "load_generator": "wrk" if use_wrk else "python asyncio",
                    "phases": []}
    try:
        import uvloop  # the client's own loop: the faster, the less it stands in the way

        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="remedy-serve-load-") as temporary:
        project = Path(temporary)
        bodies, churned = make_project(project, options.entries)
        script = wrk_script(project / "bodies.lua", bodies)

        def phase(name: str, result: Result, cpu_seconds: float) -> None:
            row = {"phase": name, **result.row()}
            if result.requests:  # the server's own CPU per request: a figure the machine's load hardly moves
                row["server_cpu_ms_per_request"] = round(1000 * cpu_seconds / result.requests, 3)
            report["phases"].append(row)
            print(json.dumps(row), file=sys.stderr)

        for workers in (1, 2):
            for logged in (False, True):
                if options.quick and logged and workers == 2:
                    continue
                log_dir = project / f"logs-{workers}" if logged else None
                server = start_server(project, workers, log_dir)
                label = f"{workers} worker{'s' if workers > 1 else ''}, serving log {'on' if logged else 'off'}"
                try:
                    levels = (1, 8, 64) if workers == 1 and not options.quick else (64,)
                    pid = server.process.pid
                    for concurrency in levels:
                        cpu = process_tree_cpu_seconds(pid)
                        result = (wrk_run(server.port, script, concurrency, seconds) if use_wrk
                                  else asyncio.run(closed_loop(server.port, bodies, concurrency, seconds)))
                        phase(f"closed loop, {label}", result, process_tree_cpu_seconds(pid) - cpu)
                    if workers == 1:
                        cpu = process_tree_cpu_seconds(pid)
                        result = asyncio.run(open_loop(server.port, bodies, options.rate, seconds * 2))
                        phase(f"fixed rate, {label}", result, process_tree_cpu_seconds(pid) - cpu)
                        reloads_before = server.health()["reloads"]
                        cpu = process_tree_cpu_seconds(pid)
                        with FolderChurn(churned) as churn:
                            result = asyncio.run(open_loop(server.port, bodies, options.rate, seconds * 2))
                        time.sleep(1.5)
                        result.extra.update(folder_changes=churn.changes,
                                            reloads=server.health()["reloads"] - reloads_before)
                        phase(f"fixed rate while the folder changes every second, {label}", result,
                              process_tree_cpu_seconds(pid) - cpu)
                finally:
                    server.stop()
                if log_dir is not None:
                    lines = sum(path.read_bytes().count(b"\n") for path in log_dir.glob("serve-*.jsonl"))
                    report["phases"][-1]["log_lines_written_in_total"] = lines
    report["conditions_after"] = conditions()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
