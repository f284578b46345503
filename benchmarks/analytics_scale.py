#!/usr/bin/env python3
"""`remedy coverage` / `remedy issues` / `remedy report` at scale: wall time, peak RSS and where the time goes.

    python benchmarks/analytics_scale.py --rows 1000000            # generates the log (seed 1)
    python benchmarks/analytics_scale.py --logs big.jsonl --skip-warm --skip-issues
    python benchmarks/analytics_scale.py --logs big.jsonl --engine local --engine ray --skip-warm --skip-issues
    python benchmarks/analytics_scale.py --logs big.jsonl --engine ray --parquet-partitions /tmp/big-parquet

Builds a project in a temp folder: the demo `remediations/` (so real log queries match) plus
generated distinct answers up to --remediations (1,000). Each measurement is a child process that
runs the real CLI (`remedy.commands.app`) with timers wrapped around the core functions (reading,
embedding, matching, clustering; the wrappers sit outside the hot loops and cost nothing when this
script is not the caller); the parent takes the child's wall time and peak RSS from `wait4`.

CPU seconds: `cpu_seconds` is `wait4`'s figure for the child (itself and the children it reaped), as
in earlier runs; `tree_cpu_seconds` counts the whole process tree, so the Ray instance a
`--engine ray` child starts (GCS, raylet, workers: processes the child does not reap) is counted
too. A sampler in this process reads `/proc/PID/stat` of the child and every descendant every 0.2 s
(Linux only) and keeps each process's last own user + system time (not its children's, so nothing
is counted twice): a process loses at most its last 0.2 s, one living less than 0.2 s is missed
(none of Ray's workers do); `tree_cpu_by_name` splits it by process name (Ray names its daemons and
workers). `tree_peak_rss_mb` is the largest sum of the tree's resident sets in
one sample (Ray's shared object store is counted in every process that maps it: an upper bound).
Per-core throughput is given two ways:
rows per second of wall time per core (`rows_per_core_second`: the cores the run could use, the
machine's for both engines here) and rows per CPU-second of the whole tree (`rows_per_cpu_second`).

A child must exit 0: `coverage`, `issues` and `report` exit 1 for nothing (DESIGN: 1 is only for
`validate`, `test`, `check`, `calibrate --write` finding problems), so any other code, 1 included,
stops the benchmark with the child's stderr rather than timing a failure.

- baseline: bare DuckDB `SELECT is_bad, count(*) FROM read_json(...) GROUP BY ALL` on the same file
- coverage cold: no `.remedy/` cache (embeddings and parsed logs are computed and stored)
- coverage cold, ray (`--engine ray`): right after the local cold run, `.remedy/` removed again; a
  local Ray instance on this machine's cores is started by the command (its start-up is in the time,
  and in the split as `ray_start`) unless `--ray-address` names a running one. Its input is the JSONL
  file, or with `--parquet-partitions DIR` hive-partitioned Parquet (`DIR/date=YYYY-MM-DD/*.parquet`)
  written from it once (kept and reused when DIR exists). The Ray workers' own split in CPU seconds
  (parsing into canonical rows, embedding, deciding, aggregating; summed over workers) comes back
  with their outputs.
- merging (both engines): the driver's time appending the step's outputs to its DuckDB tables and
  deduplicating the decisions; `counts` has how many outputs (batches or blocks) and rows of each
  output reached the driver (`driver_rows_<output>`).
- coverage warm: the same command again
- report warm: `remedy report --out report.html` right after (the same caches); the page's size is recorded
- report again: the same report once more, its topic clustering now cached as well (`.remedy/topics/`)
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
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "fixtures" / "generate_logs.py"
TIMINGS_ENV = "REMEDY_BENCH_TIMINGS"
SOURCE_ENV = "REMEDY_BENCH_SOURCE"
STAGES = ("reading", "model", "embedding", "matching", "aggregating", "clustering", "verified_merges", "ray_start",
          "merging")
# The Ray workers' split in CPU seconds, summed over workers (remedy.analytics.ray_engine.WORKER_STAGES).
WORKER_STAGES = ("parsing", "embedding", "deciding", "aggregating")
# A child must exit 0: the measured commands exit 1 for nothing (DESIGN: only validate/test/check/calibrate do).
ACCEPTED_EXIT_CODES = (0,)
SAMPLE_SECONDS = 0.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--logs", type=Path, help="reuse this log file instead of generating one")
    parser.add_argument("--remediations", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, help="keep the generated log here (default: a temp folder)")
    parser.add_argument("--skip-warm", action="store_true")
    parser.add_argument("--no-verifier", action="store_true", help="`verifier = false`: the static model alone")
    parser.add_argument("--skip-issues", action="store_true")
    parser.add_argument("--only-issues", action="store_true", help="no coverage runs; `issues` cold, then warm")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--engine", choices=("local", "ray"), action="append", default=None,
                        help="engines to measure `coverage` cold with, back to back (repeatable; default local)")
    parser.add_argument("--ray-address", help="with --engine ray: a running Ray cluster (default: the command "
                        "starts a local instance, its start-up included in the time)")
    parser.add_argument("--parquet-partitions", type=Path, metavar="DIR",
                        help="with --engine ray: read hive-partitioned Parquet (DIR/date=YYYY-MM-DD/) written "
                        "from the JSONL once (reused when DIR exists)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "analytics_scale.json")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return _child(args.child)

    _compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="remedy-scale-") as temporary:
        work = Path(temporary)
        log = args.logs.resolve() if args.logs else _generate(args.rows, args.seed, args.workdir or work)
        project = work / "project"
        remediations = _make_project(project, args.remediations, verifier=not args.no_verifier)
        results: dict[str, Any] = {
            "file": str(log), "file_mb": round(log.stat().st_size / 1e6, 1), "remediations": remediations,
            "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(),
        }
        runs: dict[str, dict[str, Any]] = {"baseline": _baseline(log)}
        engines = args.engine or ["local"]
        ray_input = log
        if "ray" in engines and args.parquet_partitions:
            results["parquet_partitions"] = _partition(log, args.parquet_partitions)
            ray_input = args.parquet_partitions.resolve()
        if "local" in engines and not args.only_issues:
            shutil.rmtree(project / ".remedy", ignore_errors=True)
            runs["coverage_cold"] = _remedy(project, ["coverage", "--logs", str(log), "--format", "json"])
        if "ray" in engines and not args.only_issues:  # right after the local run: the same conditions
            shutil.rmtree(project / ".remedy", ignore_errors=True)
            address = ["--ray-address", args.ray_address] if args.ray_address else []
            runs["coverage_cold_ray"] = _remedy(project, ["coverage", "--logs", str(ray_input), "--format", "json",
                                                          "--engine", "ray", *address])
            runs["coverage_cold_ray"]["input"] = str(ray_input)
            if "coverage_cold" in runs:
                results["same_coverage"] = runs["coverage_cold_ray"]["summary"] == runs["coverage_cold"]["summary"]
        if "local" in engines and not args.only_issues:
            if not args.skip_warm:
                runs["coverage_warm"] = _remedy(project, ["coverage", "--logs", str(log), "--format", "json"])
                if not args.skip_report:
                    page = project / "report.html"
                    runs["report_warm"] = _remedy(project, ["report", "--logs", str(log), "--out", str(page)])
                    runs["report_warm"]["summary"] = {"html_bytes": page.stat().st_size} if page.exists() else \
                        runs["report_warm"]["summary"]
                    # the same report again: its topics are now cached too (.remedy/topics/)
                    runs["report_again"] = _remedy(project, ["report", "--logs", str(log), "--out", str(page)])
                    runs["report_again"]["summary"] = {"html_bytes": page.stat().st_size} if page.exists() else \
                        runs["report_again"]["summary"]
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
            # per-core throughput: rows over wall time and the cores the run could use (the machine's,
            # for the local engine and for the local Ray instance alike), and rows per CPU-second of the tree
            run["rows_per_core_second"] = round(rows / run["seconds"] / (os.cpu_count() or 1))
            run["rows_per_cpu_second"] = round(rows / run["tree_cpu_seconds"]) if run["tree_cpu_seconds"] else None
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


PARTITION = """
import duckdb, sys
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
connection.execute("SET preserve_insertion_order = false")
connection.execute(f\"\"\"COPY (SELECT *, strftime(CAST("timestamp" AS TIMESTAMPTZ) AT TIME ZONE 'UTC', '%Y-%m-%d')
                                    AS date
                             FROM read_json('{sys.argv[1]}', format = 'newline_delimited'))
                       TO '{sys.argv[2]}' (FORMAT parquet, PARTITION_BY (date))\"\"\")
"""


def _partition(log: Path, folder: Path) -> dict[str, Any]:
    """Hive-partitioned Parquet of `log` by UTC day (`folder/date=YYYY-MM-DD/*.parquet`), written once.

    The JSON objects' fields become columns as DuckDB infers them (scores and metadata as structs), which
    is what an export job writing Parquet gives; `date` is the partition column. Written to a temporary
    folder and renamed, so an interrupted conversion is never reused. DuckDB runs in its own process:
    in this one its gigabytes would show in the measured children's peak RSS (Linux carries a parent's
    peak resident set into a forked child's `ru_maxrss`)."""
    if folder.exists():
        files = list(folder.rglob("*.parquet"))
        return {"folder": str(folder), "files": len(files), "reused": True,
                "mb": round(sum(f.stat().st_size for f in files) / 1e6, 1)}
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PARTITION, str(log), str(partial)], check=True)
    partial.rename(folder)
    files = list(folder.rglob("*.parquet"))
    return {"folder": str(folder), "files": len(files), "reused": False,
            "seconds": round(time.perf_counter() - start, 1),
            "mb": round(sum(f.stat().st_size for f in files) / 1e6, 1)}


def _make_project(project: Path, count: int, *, verifier: bool = True) -> int:
    """The demo folder plus generated distinct answers, `count` remediations in all."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cli_speed import make_folder

    folder = project / "remediations"
    shutil.copytree(ROOT / "remediations", folder)
    demo = len(list(folder.rglob("*.yaml")))
    make_folder(folder / "generated", max(0, count - demo))
    config = 'remediations = "remediations"\n' + ("" if verifier else "verifier = false\n")
    (project / "remedy.toml").write_text(config, encoding="utf-8")
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
    runs = sorted((_run([sys.executable, "-c", BASELINE, str(log)], ROOT, None) for _ in range(3)),
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
    if split.get("workers"):
        result["worker_split"] = {stage: round(split["workers"].get(stage, 0.0), 2) for stage in WORKER_STAGES}
    return result


def _compile_bytecode() -> None:
    """Compile the measured package's modules once, as pip does when it installs one: with
    PYTHONDONTWRITEBYTECODE set (some machines and containers set it) and no `__pycache__` yet (a fresh
    clone or worktree), every child would compile ~100 modules again, 0.1-0.3 s of each warm run
    that no user's installed copy pays."""
    import compileall

    compileall.compile_dir(str(Path(os.environ.get(SOURCE_ENV, str(ROOT / "cli"))) / "remedy"), quiet=1)


def _run(command: list[str], cwd: Path, timings: Path | None) -> dict[str, Any]:
    env = {**os.environ, **({TIMINGS_ENV: str(timings)} if timings else {})}
    load = os.getloadavg()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        tree = _TreeSampler(process.pid)
        tree.start()
        _, status, usage = os.wait4(process.pid, 0)  # the child's own peak RSS and CPU
        seconds = time.perf_counter() - start
        tree.stop()
        code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if code not in ACCEPTED_EXIT_CODES:
        raise SystemExit(f"{' '.join(command[:4])} failed ({code}):\n{errors.decode()[-3000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "tree_cpu_seconds": round(tree.cpu_seconds(), 1), "tree_processes": len(tree.last),
            "tree_cpu_by_name": tree.cpu_by_name(),
            "tree_peak_rss_mb": round(tree.peak_rss / 1e6), "load_average_before": load,
            "load_average_after": os.getloadavg(), "exit_code": code, "summary": _summary(output)}


class _TreeSampler(threading.Thread):
    """Samples the CPU time and resident set of a process and all its descendants from /proc (Linux).

    Processes are keyed by (pid, start time), so a reused pid is a new process; once seen, a process
    stays counted even when it is re-parented (a Ray worker whose raylet exited first)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.last: dict[tuple[int, int], float] = {}  # (pid, start) -> own user + system seconds
        self.names: dict[tuple[int, int], str] = {}  # (pid, start) -> the process's name (/proc/PID/stat)
        self.peak_rss = 0
        self._known: set[int] = {root}
        self._done = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def cpu_seconds(self) -> float:
        return sum(self.last.values())

    def cpu_by_name(self) -> dict[str, float]:
        """CPU seconds per process name (Ray names its processes: raylet, gcs_server, ray::_RayStep...),
        largest first; the measured command itself is `python`."""
        totals: dict[str, float] = {}
        for key, seconds in self.last.items():
            totals[self.names[key]] = totals.get(self.names[key], 0.0) + seconds
        return {name: round(seconds, 1) for name, seconds in sorted(totals.items(), key=lambda item: -item[1])}

    def _sample(self) -> None:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as handle:
                        text = handle.read().decode()
                except OSError:  # exited meanwhile
                    continue
                fields = text[text.rindex(")") + 2:].split()  # after "pid (name) "
                stats[int(entry)] = (int(fields[1]), fields, text[text.index("(") + 1:text.rindex(")")])  # ppid
        grew = True
        while grew:  # descendants of known processes, to any depth
            grew = False
            for pid, (ppid, _, _) in stats.items():
                if pid not in self._known and ppid in self._known:
                    self._known.add(pid)
                    grew = True
        rss = 0
        for pid in self._known & stats.keys():
            _, fields, name = stats[pid]
            self.last[(pid, int(fields[19]))] = (int(fields[11]) + int(fields[12])) / self._tick
            self.names[(pid, int(fields[19]))] = name
            rss += int(fields[21]) * self._page
        self.peak_rss = max(self.peak_rss, rss)


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
             "| run | wall s | x baseline | rows/core/s (wall) | rows/CPU-s (tree) | load before | peak RSS MB "
             "| tree RSS MB | CPU s | tree CPU s | " + " | ".join(STAGES) + " | other |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             + " | ".join("---:" for _ in STAGES) + " | ---: |"]
    for name, run in runs.items():
        split = run.get("split", {})
        cells = " | ".join(f"{split[stage]:.1f}" if stage in split else "" for stage in (*STAGES, "other"))
        per_cpu = f"{run['rows_per_cpu_second']:,}" if run.get("rows_per_cpu_second") else ""
        lines.append(f"| {name} | {run['seconds']:.1f} | {run['ratio_to_baseline']} | "
                     f"{run['rows_per_core_second']:,} | {per_cpu} | {run['load_average_before'][0]:.1f} | "
                     f"{run['peak_rss_mb']:,} | {run['tree_peak_rss_mb']:,} | {run['cpu_seconds']} | "
                     f"{run['tree_cpu_seconds']} | {cells} |")
    for name, run in runs.items():
        if run.get("worker_split"):
            lines.append(f"\n{name}: Ray workers' split, CPU s summed over workers: " + ", ".join(
                f"{stage} {seconds:.1f}" for stage, seconds in run["worker_split"].items()))
    for name, run in runs.items():
        if run.get("tree_processes", 1) > 1:
            lines.append(f"\n{name}: CPU s of the tree per process name: " + ", ".join(
                f"{process} {seconds}" for process, seconds in run["tree_cpu_by_name"].items()))
    for name, run in runs.items():
        merged = {key.removeprefix("driver_rows_"): value for key, value in run.get("counts", {}).items()
                  if key.startswith("driver_rows_")}
        if merged:
            lines.append(f"\n{name}: {run['counts']['step_outputs']:,} step outputs merged on the driver, rows: "
                         + ", ".join(f"{output} {rows:,}" for output, rows in merged.items()))
    if "same_coverage" in results:
        lines.append(f"\nlocal and ray coverage identical: {results['same_coverage']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# The child: the real CLI with timers around the core functions.


def _child(argv: list[str]) -> int:
    # REMEDY_BENCH_SOURCE: another copy of cli/ (e.g. the previous version) to compare with.
    sys.path.insert(0, os.environ.get(SOURCE_ENV, str(ROOT / "cli")))
    totals: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    counts: dict[str, int] = {}
    workers: dict[str, float] = {}
    _install_timers(totals, counts)
    if "--engine" in argv and argv[argv.index("--engine") + 1:][:1] == ["ray"]:
        _install_ray_timers(totals, workers, counts)
    from remedy.commands.app import app

    try:
        app(argv, standalone_mode=True)
        code = 0
    except SystemExit as stop:  # as `remedy` exits
        code = int(stop.code or 0)
    path = os.environ.get(TIMINGS_ENV)
    if path:
        Path(path).write_text(json.dumps({**totals, "counts": counts, "workers": workers}), encoding="utf-8")
    return code


def _timed(totals: dict[str, float], stage: str, function: Any, counts: dict[str, int] | None = None,
           count: str | None = None) -> Any:
    """`function`, adding its wall time to totals[stage] (and 1 to counts[count] per call when given)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[stage] += time.perf_counter() - start
            if counts is not None and count:
                counts[count] = counts.get(count, 0) + 1
    return wrapper


def _without_embedding(totals: dict[str, float], timed_function: Any) -> Any:
    """A timed stage whose model runs stay in "embedding" alone (so the split still sums to the wall time)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = totals["embedding"]
        try:
            return timed_function(*args, **kwargs)
        finally:
            totals["verified_merges"] -= totals["embedding"] - before
    return wrapper


def _counted_outputs(append: Any, counts: dict[str, int]) -> Any:
    """`append_outputs` that also counts the rows each output brings to the driver (`driver_rows_<name>`)
    and the step outputs merged (`step_outputs`, one per batch or block)."""
    def wrapper(con: Any, prefix: str, output: Any) -> Any:
        counts["step_outputs"] = counts.get("step_outputs", 0) + 1
        for name, table in output.tables.items():
            counts[f"driver_rows_{name}"] = counts.get(f"driver_rows_{name}", 0) + table.num_rows
        return append(con, prefix, output)
    return wrapper


def _install_ray_timers(totals: dict[str, float], workers: dict[str, float], counts: dict[str, int]) -> None:
    """Ray runs only (the local engine must not import Ray): start-up, the driver's merge, the workers' split."""
    import ray

    import remedy.analytics.ray_engine as ray_engine

    ray.init = _timed(totals, "ray_start", ray.init)
    ray_engine.append_outputs = _timed(totals, "merging", _counted_outputs(ray_engine.append_outputs, counts))
    ray_engine.finish_outputs = _timed(totals, "merging", ray_engine.finish_outputs)
    original = ray_engine.report_worker_seconds

    def report(seconds: dict[str, float]) -> None:
        workers.update(seconds)
        original(seconds)

    ray_engine.report_worker_seconds = report


def _install_timers(totals: dict[str, float], counts: dict[str, int]) -> None:
    import importlib

    import remedy.analytics.analysis as analysis
    import remedy.analytics.issue_queue as issue_queue
    import remedy.matching.matcher as matcher_module
    from remedy.matching.decision import MatchIndex
    from remedy.matching.embedding_cache import EmbeddingCache

    def timed(stage: str, function: Any, count: str | None = None) -> Any:
        return _timed(totals, stage, function, counts, count)

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
    if hasattr(issue_queue, "merge_verified"):  # the verifier's pass over the head of the queue
        issue_queue.merge_verified = _without_embedding(totals, timed("verified_merges", issue_queue.merge_verified))
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

    def aggregating(original: Any) -> Any:
        def call(self: Any, *args: Any) -> Any:
            start, before = time.perf_counter(), deciding[0]
            try:
                return original(self, *args)
            finally:
                totals["aggregating"] += time.perf_counter() - start - (deciding[0] - before)
        return call

    step.QueryDecider.decide = decide  # type: ignore[method-assign]
    # per batch (the Ray engine, and the local one before 2026-12-07); the local engine's distinct queries
    # (`decide`: the decision cache and the memo around the decisions) and its SQL over all rows (`run_whole`)
    for name in ("__call__", "decide", "run_whole", "remembered_into"):
        if hasattr(step.AttributionStep, name):
            setattr(step.AttributionStep, name, aggregating(getattr(step.AttributionStep, name)))
    attribution = importlib.import_module("remedy.analytics.attribution")
    if hasattr(attribution, "append_outputs"):  # merging: the step's outputs into the driver's tables
        attribution.append_outputs = _timed(totals, "merging", _counted_outputs(attribution.append_outputs, counts))
        attribution.finish_outputs = _timed(totals, "merging", attribution.finish_outputs)


if __name__ == "__main__":
    raise SystemExit(main())
