#!/usr/bin/env python3
"""Benchmark `read_logs` against bare DuckDB scans of the same JSONL file: time, CPU and peak RSS.

    python benchmarks/read_logs.py --rows 1000000

The file comes from `fixtures/generate_logs.py --rows N --seed 1` (kept in --workdir and reused);
without the generator a simple synthetic file is written instead. Each measurement runs in its own
process, so its peak RSS is its own:

- bare count: `SELECT is_bad, count(*) FROM read_json(...) GROUP BY ALL` (DuckDB reads one field)
- bare table: `CREATE TABLE t AS SELECT * FROM read_json(...)` (DuckDB parses and keeps every field)
- read_logs: remedy's reader: line numbers, checks, derived columns, normalized queries

With `--cache`, three more, through the parsed-log cache (`read_logs(..., cache_dir=...)`, a fresh
cache folder): `cached-cold` parses and writes the entry, `cached-warm` reads it back unchanged,
`cached-touched` reads it after the file's modification time changed (same bytes).

With `--many-files 1000,5000,8760`, `remedy coverage --logs FOLDER --format json` instead, cold (a fresh
project cache) then warm, on a folder of that many one-line files (`hour=NNNN/part-0.jsonl`, lines of the
demo export in turn) and on the same rows in one file; `--code DIR` runs another checkout's `DIR/cli`
(the code before a change, for before/after figures), `--timeout` stops a run (reported as killed):

    python benchmarks/read_logs.py --many-files 1000,5000,8760 --timeout 600
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "fixtures" / "generate_logs.py"
MEASUREMENTS = ("bare-count", "bare-table", "read-logs")
CACHED = ("cached-cold", "cached-warm", "cached-touched")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "remedy-bench")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the best is kept")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--cache", action="store_true", help="also measure reads through the parsed-log cache")
    parser.add_argument("--many-files", help="comma-separated file counts: `coverage` over that many small files")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose cli/ runs (--many-files)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed (--many-files)")
    parser.add_argument("--measure", choices=[*MEASUREMENTS, *CACHED], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return _measure(args.measure, args.path, args.cache_dir)
    if args.many_files:
        return _many_files([int(count) for count in args.many_files.split(",")], args.workdir, args.code,
                           args.timeout, as_json=args.json)

    path = _log_file(args.rows, args.workdir)
    size_mb = path.stat().st_size / 1e6
    results = {}
    for kind in MEASUREMENTS:
        runs = [_run_child(kind, path) for _ in range(args.repeat)]
        results[kind] = min(runs, key=lambda r: r["seconds"])
    if args.cache:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(dir=args.workdir) as cache_dir:
                for kind in CACHED:
                    if kind == "cached-touched":
                        os.utime(path)  # a new mtime, the same bytes
                    run = _run_child(kind, path, cache_dir)
                    if kind not in results or run["seconds"] < results[kind]["seconds"]:
                        results[kind] = run
    if args.json:
        print(json.dumps({"rows": args.rows, "file": str(path), "file_mb": round(size_mb, 1), "results": results}))
        return 0
    print(f"{args.rows:,} rows, {path} ({size_mb:,.0f} MB), {os.cpu_count()} cores")
    print(f"{'measurement':<14} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12} {'rows/s':>12}  notes")
    for kind, result in results.items():
        rate = args.rows / result["seconds"] if result["seconds"] else 0
        print(
            f"{kind:<14} {result['seconds']:>8.2f} {result['cpu']:>8.2f} {result['peak_rss_mb']:>12,.0f} "
            f"{rate:>12,.0f}  {result.get('notes', '')}"
        )
    seconds = {kind: result["seconds"] for kind, result in results.items()}
    print(
        f"read_logs takes {seconds['read-logs'] / seconds['bare-count']:.1f}x the bare count, "
        f"{seconds['read-logs'] / seconds['bare-table']:.1f}x the bare table (wall time)"
    )
    return 0


def _log_file(rows: int, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"logs-{rows}-seed1.jsonl"
    if path.exists():
        return path
    if GENERATOR.exists():
        subprocess.run(
            [sys.executable, str(GENERATOR), "--rows", str(rows), "--seed", "1", "--out", str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    else:
        _write_synthetic(rows, path)
    return path


def _write_synthetic(rows: int, path: Path) -> None:
    """A stand-in for the fixture generator: repeated queries, scores, some failures."""
    rng = random.Random(1)
    topics = [
        f"how do i {verb} my {thing}"
        for verb in ("change", "cancel", "find", "pay for")
        for thing in ("seat", "bag", "flight", "refund", "booking")
    ]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for i in range(rows):
            query = rng.choice(topics) + ("" if rng.random() < 0.75 else f" {rng.randint(0, 10**6)}")
            scores = {name: round(rng.random(), 3) for name in ("trustworthiness", "context_sufficiency")}
            row = {
                "id": f"log-{i:07d}",
                "timestamp": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "query": query,
                "response": "Here is how. " * rng.randint(1, 8),
                "scores": scores,
                "is_bad": rng.random() < 0.3,
                "metadata": {"channel": "web"},
            }
            out.write(json.dumps(row) + "\n")
    tmp.rename(path)


def _run_child(kind: str, path: Path, cache_dir: str | None = None) -> dict:
    extra = ["--cache-dir", cache_dir] if cache_dir else []
    process = subprocess.Popen(
        [sys.executable, __file__, "--measure", kind, "--path", str(path), *extra], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{kind} failed")
    result = json.loads(output)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu"] = usage.ru_utime + usage.ru_stime
    return result


def _measure(kind: str, path: str, cache_dir: str | None = None) -> int:
    import duckdb

    source = f"read_json('{path}', format = 'newline_delimited')"
    start = time.perf_counter()
    notes = ""
    if kind == "bare-count":
        groups = duckdb.connect().execute(f"SELECT is_bad, count(*) FROM {source} GROUP BY ALL").fetchall()
        notes = f"{len(groups)} groups"
    elif kind == "bare-table":
        connection = duckdb.connect()
        connection.execute(f"CREATE TABLE t AS SELECT * FROM {source}")
        notes = f"{connection.execute('SELECT count(*) FROM t').fetchone()[0]:,} rows"  # type: ignore[index]
    else:
        sys.path.insert(0, str(ROOT / "cli"))
        from remedy.logs.reading import read_logs

        logs = read_logs([path], cache_dir=cache_dir if kind in CACHED else None)
        notes = f"{logs.rows:,} rows, {logs.failures():,} failures, {logs.skipped_lines} skipped"
    print(json.dumps({"seconds": time.perf_counter() - start, "notes": notes}))
    return 0


def _many_files(counts: list[int], workdir: Path, code: Path, timeout: float, *, as_json: bool) -> int:
    """`coverage` cold and warm over many one-line files, and over the same rows in one file."""
    import shutil

    demo = (ROOT / "fixtures" / "logs.jsonl").read_text(encoding="utf-8").splitlines()
    results = []
    print(f"load: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores; code: {code}", file=sys.stderr)
    for count in counts:
        folder, single = workdir / f"many-{count}", workdir / f"one-{count}.jsonl"
        if not folder.is_dir():
            for number in range(count):
                part = folder / f"hour={number:05d}" / "part-0.jsonl"
                part.parent.mkdir(parents=True, exist_ok=True)
                part.write_text(demo[number % len(demo)] + "\n", encoding="utf-8")
            single.write_text("".join(line + "\n" for line in (demo[n % len(demo)] for n in range(count))),
                              encoding="utf-8")
        for label, logs in ((f"{count:,} files", folder), (f"{count:,} rows, one file", single)):
            with tempfile.TemporaryDirectory(dir=workdir) as project:
                shutil.copytree(ROOT / "remediations", Path(project) / "remediations")
                subprocess.run(["git", "init", "-q", project], check=True)
                for phase in ("cold", "warm"):
                    result = _run_coverage(code, Path(project), logs, timeout)
                    results.append({"input": label, "phase": phase, **result})
                    print(f"{label:<22} {phase:<5} wall {result['seconds']:>7.1f} s  cpu {result['cpu']:>7.1f} s  "
                          f"peak RSS {result['peak_rss_mb']:>6,.0f} MB  {result['notes']}", file=sys.stderr)
    if as_json:
        print(json.dumps(results))
    return 0


def _run_coverage(code: Path, project: Path, logs: Path, timeout: float) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(code / "cli")}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "remedy", "coverage", "--logs", str(logs), "--format", "json"],
                               cwd=project, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    notes = "ok"
    while True:  # os.wait4 gives this child's own CPU time and peak RSS (Popen.wait would reap it first)
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            notes = f"killed at {timeout:.0f} s"
            break
        time.sleep(0.2)
    if notes == "ok" and status:
        notes = f"exit status {status}"
    return {"seconds": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "notes": notes}


if __name__ == "__main__":
    raise SystemExit(main())
