#!/usr/bin/env python3
"""`remedy coverage` / `remedy issues` / `remedy report` at scale: wall time, peak RSS and where the time goes.

    python benchmarks/analytics_scale.py --rows 1000000            # generates the log (seed 1)
    python benchmarks/analytics_scale.py --logs big.jsonl --skip-warm --skip-issues

Builds a project in a temp folder: the demo `remediations/` (so real log queries match) plus
generated distinct answers up to --remediations (1,000). Each measurement is a child process that
runs the real CLI (`remedy.commands.app`) with timers wrapped around the core functions (reading,
embedding, matching, clustering; the wrappers sit outside the hot loops and cost nothing when this
script is not the caller); the parent takes the child's wall time and peak RSS from `wait4`.

- baseline: bare DuckDB `SELECT is_bad, count(*) FROM read_json(...) GROUP BY ALL` on the same file
- coverage cold: no `.remedy/` cache (embeddings and parsed logs are computed and stored)
- coverage warm: the same command again
- report warm: `remedy report --out report.html` right after (the same caches); the page's size is recorded
- issues cold: `.remedy/` removed first

Prints a markdown table and writes JSON to benchmarks/out/analytics_scale.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "fixtures" / "generate_logs.py"
TIMINGS_ENV = "REMEDY_BENCH_TIMINGS"
SOURCE_ENV = "REMEDY_BENCH_SOURCE"
STAGES = ("reading", "model", "embedding", "matching", "aggregating", "clustering")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--logs", type=Path, help="reuse this log file instead of generating one")
    parser.add_argument("--remediations", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, help="keep the generated log here (default: a temp folder)")
    parser.add_argument("--skip-warm", action="store_true")
    parser.add_argument("--skip-issues", action="store_true")
    parser.add_argument("--only-issues", action="store_true", help="no coverage runs; `issues` cold, then warm")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--engine", choices=("local", "ray"), action="append", default=None,
                        help="engines to measure `coverage` cold with (repeatable; default local)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "analytics_scale.json")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return _child(args.child)

    with tempfile.TemporaryDirectory(prefix="remedy-scale-") as temporary:
        work = Path(temporary)
        log = args.logs or _generate(args.rows, args.seed, args.workdir or work)
        project = work / "project"
        remediations = _make_project(project, args.remediations)
        results: dict[str, Any] = {
            "file": str(log), "file_mb": round(log.stat().st_size / 1e6, 1), "remediations": remediations,
            "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(),
        }
        runs: dict[str, dict[str, Any]] = {"baseline": _baseline(log)}
        engines = args.engine or ["local"]
        if "local" in engines and not args.only_issues:
            shutil.rmtree(project / ".remedy", ignore_errors=True)
            runs["coverage_cold"] = _remedy(project, ["coverage", "--logs", str(log), "--format", "json"])
            if not args.skip_warm:
                runs["coverage_warm"] = _remedy(project, ["coverage", "--logs", str(log), "--format", "json"])
                if not args.skip_report:
                    page = project / "report.html"
                    runs["report_warm"] = _remedy(project, ["report", "--logs", str(log), "--out", str(page)])
                    runs["report_warm"]["summary"] = {"html_bytes": page.stat().st_size} if page.exists() else \
                        runs["report_warm"]["summary"]
        engines = args.engine or ["local"]
        if "local" in engines and (args.only_issues or not args.skip_issues):
            shutil.rmtree(project / ".remedy", ignore_errors=True)
            runs["issues_cold"] = _remedy(project, ["issues", "--logs", str(log), "--format", "json"])
        if args.only_issues:
            runs["issues_warm"] = _remedy(project, ["issues", "--logs", str(log), "--format", "json"])
        base = runs["baseline"]["seconds"]
        rows = _count_lines(log)
        results["rows"] = rows
        for run in runs.values():
            run["ratio_to_baseline"] = round(run["seconds"] / base, 1) if base else None
            # per-core throughput: rows over wall time and the cores the machine has
            run["rows_per_core_second"] = round(rows / run["seconds"] / (os.cpu_count() or 1))
        results["runs"] = runs
        results["load_average_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(_table(results))
    print(f"\nJSON: {args.out}")
    return 0


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))


def _generate(rows: int, seed: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"logs-{rows}-seed{seed}.jsonl"
    if not path.exists():
        subprocess.run([sys.executable, str(GENERATOR), "--rows", str(rows), "--seed", str(seed), "--out", str(path)],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def _make_project(project: Path, count: int) -> int:
    """The demo folder plus generated distinct answers, `count` remediations in all."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cli_speed import make_folder

    folder = project / "remediations"
    shutil.copytree(ROOT / "remediations", folder)
    demo = len(list(folder.rglob("*.yaml")))
    make_folder(folder / "generated", max(0, count - demo))
    (project / "remedy.toml").write_text('remediations = "remediations"\n', encoding="utf-8")
    return len(list(folder.rglob("*.yaml")))


BASELINE = """
import duckdb, json, sys, time
start = time.perf_counter()
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
sql = "SELECT is_bad, count(*) FROM read_json(?, format = 'newline_delimited') GROUP BY ALL"
rows = connection.execute(sql, [sys.argv[1]]).fetchall()
print(json.dumps({"inner_seconds": time.perf_counter() - start, "groups": len(rows)}))
"""


def _baseline(log: Path) -> dict[str, Any]:
    """The floor: DuckDB's own JSON reader counting one field of the same file, in its own process."""
    runs = sorted((_run([sys.executable, "-c", BASELINE, str(log)], ROOT, None, ok=(0,)) for _ in range(3)),
                  key=lambda run: run["seconds"])
    return {**runs[1], "runs": [run["seconds"] for run in runs]}  # the median of three


def _remedy(project: Path, command: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        timings = Path(handle.name)
    try:
        result = _run([sys.executable, str(Path(__file__).resolve()), "--child", *command], project, timings)
        split = json.loads(timings.read_text(encoding="utf-8") or "{}")
    finally:
        timings.unlink(missing_ok=True)
    result["split"] = {stage: round(split.get(stage, 0.0), 2) for stage in STAGES}
    result["split"]["other"] = round(result["seconds"] - sum(result["split"].values()), 2)
    result["counts"] = split.get("counts", {})
    return result


def _run(command: list[str], cwd: Path, timings: Path | None, ok: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    env = {**os.environ, **({TIMINGS_ENV: str(timings)} if timings else {})}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own peak RSS and CPU
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if code not in ok:
        raise SystemExit(f"{' '.join(command[:4])} failed ({code}):\n{errors.decode()[-3000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "exit_code": code,
            "summary": _summary(output)}


def _summary(stdout: bytes) -> Any:
    try:
        document = json.loads(stdout)
    except ValueError:
        return stdout.decode(errors="replace")[:200]
    if "logs" in document:
        return {"logs": document["logs"], "addressed_share": document.get("addressed_share")}
    if "issues" in document:
        return {"issues": len(document["issues"]),
                "top": [(i["size"], i["representative_query"]) for i in document["issues"][:3]]}
    return document


def _table(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = [f"{results['file']} ({results['file_mb']:,} MB), {results['remediations']} remediations, "
             f"{results['cpu_count']} cores, load {results['load_average_start'][0]:.1f}", "",
             "| run | wall s | x baseline | rows/core/s | peak RSS MB | CPU s | " + " | ".join(STAGES) + " | other |",
             "| --- | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in STAGES) + " | ---: |"]
    for name, run in runs.items():
        split = run.get("split", {})
        cells = " | ".join(f"{split[stage]:.1f}" if stage in split else "" for stage in (*STAGES, "other"))
        lines.append(f"| {name} | {run['seconds']:.1f} | {run['ratio_to_baseline']} | "
                     f"{run['rows_per_core_second']:,} | {run['peak_rss_mb']:,} | {run['cpu_seconds']} | {cells} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# The child: the real CLI with timers around the core functions.


def _child(argv: list[str]) -> int:
    # REMEDY_BENCH_SOURCE: another copy of cli/ (e.g. the previous version) to compare with.
    sys.path.insert(0, os.environ.get(SOURCE_ENV, str(ROOT / "cli")))
    totals: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    counts: dict[str, int] = {}
    _install_timers(totals, counts)
    from remedy.commands.app import app

    try:
        app(argv, standalone_mode=True)
        code = 0
    except SystemExit as stop:  # as `remedy` exits
        code = int(stop.code or 0)
    path = os.environ.get(TIMINGS_ENV)
    if path:
        Path(path).write_text(json.dumps({**totals, "counts": counts}), encoding="utf-8")
    return code


def _install_timers(totals: dict[str, float], counts: dict[str, int]) -> None:
    import importlib

    import remedy.analytics.analysis as analysis
    import remedy.analytics.issue_queue as issue_queue
    import remedy.matching.matcher as matcher_module
    from remedy.matching.decision import MatchIndex
    from remedy.matching.embedding_cache import EmbeddingCache

    def timed(stage: str, function: Any, count: str | None = None) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[stage] += time.perf_counter() - start
                if count:
                    counts[count] = counts.get(count, 0) + 1
        return wrapper

    if hasattr(analysis, "read_logs"):  # REMEDY_BENCH_SOURCE: a version before read_project_logs
        analysis.read_logs = timed("reading", analysis.read_logs)
    else:
        project = importlib.import_module("remedy.logs.project")
        project.read_logs = timed("reading", project.read_logs)
    matcher_module.load_configured_embedder = timed("model", matcher_module.load_configured_embedder)
    original_encode = EmbeddingCache.encode

    def encode(self: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        counts["embedded_texts"] = counts.get("embedded_texts", 0) + len(texts)
        return original_encode(self, texts, *args, **kwargs)

    EmbeddingCache.encode = timed("embedding", encode)  # type: ignore[method-assign]
    MatchIndex.decide_vectors = timed("matching", MatchIndex.decide_vectors, "decide_calls")  # type: ignore[method-assign]
    topics = getattr(issue_queue, "TopicClustering", None)  # topics: the streamed clustering's two stages
    if topics is not None:
        topics.add = timed("clustering", topics.add)
        topics.clusters = timed("clustering", topics.clusters)
    else:  # older code (REMEDY_BENCH_SOURCE): one in-memory call
        issue_queue.cluster_failures = timed("clustering", issue_queue.cluster_failures)
    try:
        step = importlib.import_module("remedy.analytics.step")
    except ImportError:  # REMEDY_BENCH_SOURCE: a version before the attribution step
        old = importlib.import_module("remedy.analytics.attribution")
        old._Screen.possible = timed("matching", old._Screen.possible)
        return
    step._Screen.possible = timed("matching", step._Screen.possible)  # the cheap pre-test before decide_vectors
    # aggregating: the rest of the attribution step (decision cache, the per-batch SQL), without its decisions
    deciding = [0.0]
    original_decide = step.QueryDecider.decide

    def decide(self: Any, queries: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_decide(self, queries)
        finally:
            deciding[0] += time.perf_counter() - start

    original_call = step.AttributionStep.__call__

    def call(self: Any, batch: Any) -> Any:
        start, before = time.perf_counter(), deciding[0]
        try:
            return original_call(self, batch)
        finally:
            totals["aggregating"] += time.perf_counter() - start - (deciding[0] - before)

    step.QueryDecider.decide = decide  # type: ignore[method-assign]
    step.AttributionStep.__call__ = call  # type: ignore[method-assign]


if __name__ == "__main__":
    raise SystemExit(main())
