"""The Ray engine: the attribution step on Ray Data, the partial aggregates merged with DuckDB on the driver.

`remedy coverage|issues --engine ray [--ray-address ADDR]` reads directories (hive partitions such as
`date=2026-11-30/` become columns), files or globs of JSONL (.jsonl, .jsonl.gz, ...) and Parquet, on
local paths or any filesystem pyarrow understands (`s3://…`, `gs://…`, `abfs://…`), with Ray Data.
Each block goes through `_RayStep`, a callable class, so the model and the folder's index load once
per worker; the folder, the settings and the configuration ship once in its constructor arguments.
A worker turns raw rows into canonical ones (`remedy.logs.reading.canonical_batch`: the same checks
and derived columns as the local reader) and runs the same `AttributionStep` as the local engine.
Its outputs travel back as Arrow IPC and land in the same DuckDB tables as the local engine's, so
`coverage_report` and the issue queue read them unchanged. The driver keeps only partial aggregates,
the decisions, and (when asked) attribution rows and failure logs. `select_logs` is a second,
filtering pass: the full rows of a few normalized queries (the report's queue needs their
non-failure logs too, which the first pass does not bring back).

Ray is imported here only: the local engine never loads it.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from remedy.analytics.analysis_result import Analysis
from remedy.analytics.attribution import ATTRIBUTIONS, AttributionStats
from remedy.analytics.step import (
    STEP_COLUMNS,
    AttributionStep,
    StepOutput,
    append_outputs,
    create_outputs,
    finish_outputs,
)
from remedy.analytics.tables import one_row
from remedy.config import Config
from remedy.errors import InputError, UsageError
from remedy.files.remediation import Remediation
from remedy.logs.fields import MARK
from remedy.logs.line_files import NOT_UTF8
from remedy.logs.reading import LOG_COLUMNS, REPORTED_SKIPS, LogTable, SkippedLine, canonical_batch
from remedy.logs.settings import LogSettings

if TYPE_CHECKING:
    from remedy.analytics.engines import AnalysisRequest

INSTALL_HINT = ("--engine ray needs Ray Data: pip install 'remedy-sme[ray]', or your source with [ray] "
                "(docs/install.md), or pip install 'ray[data]'")
# Rows per block handed to a worker's step.
BATCH_ROWS = 131_072
# A worker forgets which decisions it has sent past this many rows (bounded memory; see _SentDecisions).
_SENT_LIMIT = 200_000
_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SKIPPED = "skipped"
_TIMINGS = "timings"
# Where a worker's CPU time goes (process time: steady on a loaded machine), summed over workers:
# canonical rows (checks, derived columns), the model, the decisions less the model, the step's SQL.
WORKER_STAGES = ("parsing", "embedding", "deciding", "aggregating")
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class Source:
    """Files of one format on one filesystem, read by one Ray Data reader."""

    lines: bool  # JSON lines (else Parquet)
    files: tuple[str, ...]
    names: tuple[str, ...]  # each file as the user named it (`exports/a.jsonl`, not the absolute path), as locally
    filesystem: Any  # pyarrow.fs.FileSystem
    base_dir: str  # where hive partition folders start


def import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


def analyse_request(request: AnalysisRequest) -> Analysis:
    """The engine interface (`remedy.analytics.engines`): `analyse_on_ray` with the request's options."""
    return analyse_on_ray(request.config, request.log_paths, request.remediations, settings=request.settings,
                          address=request.address, since=request.since, until=request.until, strict=request.strict,
                          rows=request.rows, failures=request.failure_logs, partials=request.partials)


def analyse_on_ray(config: Config, log_paths: Sequence[str], remediations: Sequence[Remediation], *,
                   settings: LogSettings, address: str | None = None, since: datetime.datetime | None = None,
                   until: datetime.datetime | None = None, strict: bool = False, rows: bool = False,
                   failures: bool = True, table: str = ATTRIBUTIONS,
                   partials: dict[str, str] | None = None) -> Analysis:
    """An `Analysis` computed on Ray: decisions and partials as the local engine makes them, failure logs in `logs`."""
    import_ray()  # before any work: without Ray, say how to install it
    from remedy.matching.matcher import build_matcher

    sources = find_sources(log_paths)
    matcher = build_matcher(remediations, config)  # the driver needs it for the issue queue anyway
    with session(address) as ray:
        return _analyse_on_ray(ray, config, sources, matcher, remediations, settings=settings, since=since,
                               until=until, strict=strict, rows=rows, failures=failures, table=table,
                               partials=partials or {}, log_paths=log_paths)


def select_logs(log_paths: Sequence[str], queries: Sequence[str], *, settings: LogSettings,
                address: str | None = None, since: datetime.datetime | None = None,
                until: datetime.datetime | None = None) -> pa.Table:
    """The canonical rows (LOG_COLUMNS) whose normalized query is one of `queries`, from a second pass on Ray.

    Malformed lines are skipped silently: the first pass reported (or refused) them already."""
    sources = find_sources(log_paths)
    with session(address) as ray:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        ship = {"settings": settings, "since": since, "until": until, "queries": sorted(set(queries))}
        parts = [tables["logs"] for source in sources for tables in _run(ray, source, _RaySelect, ship, cpus)]
    return pa.concat_tables(parts) if parts else _empty_logs(LOG_COLUMNS)


def report_worker_seconds(seconds: dict[str, float]) -> None:
    """Where the workers' time went (WORKER_STAGES, summed over workers): on the debug log."""
    log.debug("ray workers: %s", ", ".join(f"{stage} {value:.1f} s" for stage, value in seconds.items()))


@contextlib.contextmanager
def session(address: str | None) -> Iterator[Any]:
    """Ray for the length of the block: joined at `address` (else a local instance started here) unless
    this process has joined already, and left at the end by the session that joined. Ray's threads
    print notices ("N worker processes have been started") to stdout, where a command's JSON goes:
    in the block they go to stderr, and leaving Ray before the command prints stops them."""
    ray = import_ray()
    joined = not ray.is_initialized()
    with contextlib.redirect_stdout(sys.stderr):
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        if joined:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        logging.getLogger("ray").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.verbose_progress = False
        try:
            yield ray
        finally:
            if joined:
                ray.shutdown()


def _analyse_on_ray(ray: Any, config: Config, sources: list[Source], matcher: Any,
                    remediations: Sequence[Remediation], *, settings: LogSettings, since: datetime.datetime | None,
                    until: datetime.datetime | None, strict: bool, rows: bool, failures: bool, table: str,
                    partials: dict[str, str], log_paths: Sequence[str]) -> Analysis:
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    ship = {"config": config, "remediations": list(remediations), "settings": settings, "since": since,
            "until": until, "rows": rows, "failures": failures, "partials": partials}
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    sample = AttributionStep(matcher, rows=rows, failures=failures, partials=partials)(_empty_logs())
    create_outputs(con, table, sample)
    skipped, first_skipped = 0, list[SkippedLine]()
    seconds = dict.fromkeys(WORKER_STAGES, 0.0)
    for source in sources:
        for tables in _run(ray, source, _RayStep, ship, cpus):
            for stage, value in zip(tables[_TIMINGS].column("stage").to_pylist(),
                                    tables.pop(_TIMINGS).column("seconds").to_pylist(), strict=True):
                seconds[stage] += value
            output = StepOutput(tables)
            skipped_part = output.tables.pop(_SKIPPED)
            skipped += sum(skipped_part.column("count").to_pylist())
            first_skipped.extend(SkippedLine(f, int(n or 0), r) for f, n, r in zip(
                skipped_part.column("source_file").to_pylist(), skipped_part.column("line").to_pylist(),
                skipped_part.column("reason").to_pylist(), strict=True) if r)
            append_outputs(con, table, output)
    report_worker_seconds(seconds)
    order = {path: index for index, path in enumerate(f for source in sources for f in source.names)}
    first_skipped.sort(key=lambda item: (order.get(item.file, len(order)), item.line))  # in file order, as locally
    if strict and first_skipped:
        raise InputError(f"{first_skipped[0]} (--strict)")
    finish_outputs(con, table)
    con.register("remedy_no_logs", _empty_logs())
    con.execute("CREATE TABLE logs AS SELECT "
                + ", ".join(name if name in STEP_COLUMNS else f"NULL AS {name}" for name in LOG_COLUMNS)
                + f" FROM {f'{table}__failures' if failures else 'remedy_no_logs'}")
    con.unregister("remedy_no_logs")
    total = one_row(con, f"SELECT coalesce(sum(logs), 0) FROM {table}__by_day")[0]
    logs = LogTable(con, "logs", tuple(log_paths), int(total), skipped, tuple(first_skipped[:REPORTED_SKIPS]))
    distinct = one_row(con, f"SELECT count(DISTINCT normalized_query) FROM {table}")[0]
    return Analysis(logs=logs, matcher=matcher, stats=AttributionStats(-1, int(distinct)), attributions=table,
                    config=config)


def _run(ray: Any, source: Source, worker: type[_RayParser], ship: dict[str, Any],
         cpus: int) -> Iterator[dict[str, pa.Table]]:
    """Each block's named tables, as `worker` (a callable class, built once per Ray worker) returns them."""
    from ray.data.datasource.partitioning import Partitioning

    partitioning = Partitioning("hive", base_dir=source.base_dir, filesystem=source.filesystem)  # type: ignore[arg-type]
    if source.lines:  # read here, not by read_text: its rows do not say which line they were
        dataset = ray.data.from_items([{"path": path} for path in source.files]).map_batches(
            _file_lines, fn_kwargs={"filesystem": source.filesystem, "partitioning": partitioning},
            batch_format="pyarrow", batch_size=1)
    else:
        dataset = ray.data.read_parquet(list(source.files), filesystem=source.filesystem, include_paths=True,
                                        partitioning=partitioning)
    ship = {**ship, "names": dict(zip(source.files, source.names, strict=True))}
    steps = dataset.map_batches(worker, fn_constructor_kwargs={"ship": ship, "lines": source.lines},
                                batch_format="pyarrow", batch_size=BATCH_ROWS,
                                compute=ray.data.ActorPoolStrategy(min_size=1, max_size=cpus), zero_copy_batch=True)
    for batch in steps.iter_batches(batch_format="pyarrow", batch_size=None):
        for name, payload in zip(batch.column("output").to_pylist(), batch.column("payload").to_pylist(), strict=True):
            if name == "step":
                yield _unpack(payload)


class _RayParser:
    """One Ray worker's reader: raw rows of a block -> canonical rows, with the same checks as locally."""

    def __init__(self, ship: dict[str, Any], lines: bool) -> None:
        self.settings = ship["settings"]
        self.since, self.until = ship["since"], ship["until"]
        self.lines = lines
        self.names = ship["names"]
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET threads = 1")

    def parse(self, raw: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, list[dict[str, Any]]]:
        """The block's canonical rows (`columns` of them) and its skipped lines (_SKIPPED_SCHEMA rows)."""
        import pyarrow.compute as pc

        parts, skipped = [], []
        # JSON lines come in runs of consecutive lines of one file (`_file_lines`), each with its first line
        keys = ["path", "first_line"] if "first_line" in raw.column_names else ["path"]
        for group in raw.group_by(keys, use_threads=False).aggregate([]).to_pylist():
            mask = pc.equal(raw.column("path"), group["path"])
            if "first_line" in group:
                mask = pc.and_(mask, pc.equal(raw.column("first_line"), group["first_line"]))
            rows = raw.filter(mask)
            path = self.names.get(group["path"], group["path"])
            parsed = canonical_batch(self.con, rows, path, self.settings, lines=self.lines, since=self.since,
                                     until=self.until, first_line=group.get("first_line"), marked=self.lines)
            parts.append(parsed.rows.select(list(columns)))
            skipped.append({"source_file": path, "line": None, "reason": None, "count": parsed.skipped_lines})
            skipped.extend({"source_file": path, "line": s.line, "reason": s.reason, "count": 0}
                           for s in parsed.first_skipped)
        return (pa.concat_tables(parts) if parts else _empty_logs(columns)), skipped


class _RayStep(_RayParser):
    """One Ray worker: builds the folder's matcher once, then parses and attributes each block it gets."""

    def __init__(self, ship: dict[str, Any], lines: bool) -> None:
        import dataclasses

        from remedy.matching.matcher import build_matcher

        super().__init__(ship, lines)
        self.seconds = dict.fromkeys(WORKER_STAGES, 0.0)
        matcher = build_matcher(ship["remediations"], ship["config"])
        matcher = dataclasses.replace(matcher, encode=self._timed("embedding", matcher.encode))
        self.step = AttributionStep(matcher, rows=ship["rows"], failures=ship["failures"], threads=1,
                                    partials=ship["partials"])
        self.step.decider.decide = self._timed("deciding", self.step.decider.decide)  # type: ignore[method-assign]
        self.sent = _SentDecisions(self.con)

    def __call__(self, raw: pa.Table) -> pa.Table:
        before = dict(self.seconds)
        start = time.process_time()
        rows, skipped = self.parse(raw, STEP_COLUMNS)
        parsed = time.process_time()
        output = self.step(rows)
        self.seconds["parsing"] += parsed - start
        self.seconds["aggregating"] += time.process_time() - parsed - (self.seconds["deciding"] - before["deciding"])
        self.seconds["deciding"] -= self.seconds["embedding"] - before["embedding"]  # embedding runs inside decide
        tables = dict(output.tables)
        tables["decisions"] = self.sent.unsent(tables["decisions"])
        tables[_SKIPPED] = pa.Table.from_pylist(skipped, schema=_SKIPPED_SCHEMA)
        tables[_TIMINGS] = pa.table({"stage": list(WORKER_STAGES),
                                     "seconds": [self.seconds[s] - before[s] for s in WORKER_STAGES]})
        return pa.table({"output": ["step"], "payload": [_pack(tables)]})

    def _timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.process_time() - start
        return timed


class _SentDecisions:
    """The queries whose decisions one worker has sent to the driver, so that each crosses once per
    worker rather than once per block that holds it: the driver keeps one copy anyway (`finish_outputs`).
    Blocks are not ordered by query, so a popular query is in most of them (at 10M rows, 85 blocks
    brought 449,997 decision rows for about 23,000 distinct). Past _SENT_LIMIT rows the worker
    forgets them (bounded memory): a query sent again is only a duplicate the driver drops."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.con.execute("CREATE TABLE remedy_sent (normalized_query VARCHAR)")
        self.size = 0

    def unsent(self, decisions: pa.Table) -> pa.Table:
        """The rows of `decisions` whose query this worker has not sent yet; they count as sent now."""
        if self.size > _SENT_LIMIT:
            self.con.execute("DELETE FROM remedy_sent")
            self.size = 0
        self.con.register("remedy_block_decisions", decisions)
        try:
            fresh = self.con.sql("SELECT * FROM remedy_block_decisions ANTI JOIN remedy_sent USING (normalized_query)"
                                 ).to_arrow_table().cast(decisions.schema)
            self.con.execute("INSERT INTO remedy_sent SELECT DISTINCT normalized_query FROM remedy_block_decisions "
                             "ANTI JOIN remedy_sent USING (normalized_query)")
        finally:
            self.con.unregister("remedy_block_decisions")
        self.size += fresh.num_rows  # rows: at least the queries, so memory stays bounded
        return fresh


class _RaySelect(_RayParser):
    """One Ray worker of `select_logs`: the canonical rows of the block whose normalized query is wanted."""

    def __init__(self, ship: dict[str, Any], lines: bool) -> None:
        super().__init__(ship, lines)
        self.queries = pa.array(ship["queries"], pa.string())

    def __call__(self, raw: pa.Table) -> pa.Table:
        import pyarrow.compute as pc

        rows, _ = self.parse(raw, LOG_COLUMNS)
        wanted = rows.filter(pc.is_in(rows.column("normalized_query"), value_set=self.queries))
        return pa.table({"output": ["step"], "payload": [_pack({"logs": wanted})]})


_SKIPPED_SCHEMA = pa.schema([("source_file", pa.string()), ("line", pa.int64()), ("reason", pa.string()),
                             ("count", pa.int64())])


def _file_lines(batch: pa.Table, filesystem: Any, partitioning: Any) -> Iterator[pa.Table]:
    """The lines of each file in `batch` (column `path`), in runs of BATCH_ROWS consecutive lines: `text`,
    `path`, `first_line` (the run's first line number) and the file's hive partition values. A line that
    is not UTF-8 becomes MARK + the reason, as the local reader's `line_files` writes it."""
    from ray.data.datasource.partitioning import PathPartitionParser

    parse = PathPartitionParser(partitioning)
    for path in batch.column("path").to_pylist():
        partitions = parse(path)
        compression = "gzip" if path.lower().endswith(".gz") else None
        with filesystem.open_input_stream(path, compression=compression) as stream:
            run: list[str] = []
            first, number, rest = 1, 0, b""
            while True:
                chunk = stream.read(1 << 24)
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop() if chunk else b""
                if not chunk and lines and lines[-1] == b"":
                    lines.pop()  # the file's last newline ends its last line, not a new one
                for raw in lines:
                    number += 1
                    run.append(_line_text(raw[:-1] if raw.endswith(b"\r") else raw))
                    if len(run) == BATCH_ROWS:
                        yield _lines_table(run, path, first, partitions)
                        run, first = [], number + 1
                if not chunk:
                    break
            if run:
                yield _lines_table(run, path, first, partitions)


def _line_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return MARK + NOT_UTF8


def _lines_table(lines: list[str], path: str, first: int, partitions: dict[str, str]) -> pa.Table:
    columns = {"text": pa.array(lines, pa.string()), "path": pa.array([path] * len(lines), pa.string()),
               "first_line": pa.array([first] * len(lines), pa.int64())}
    columns.update({name: pa.array([value] * len(lines), pa.string()) for name, value in partitions.items()})
    return pa.table(columns)


def _pack(tables: dict[str, pa.Table]) -> bytes:
    """Several named Arrow tables as one Arrow IPC stream per table, framed by name and length."""
    chunks = []
    for name, table in tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        body = sink.getvalue().to_pybytes()
        encoded = name.encode("utf-8")
        chunks.append(len(encoded).to_bytes(4, "little") + encoded + len(body).to_bytes(8, "little") + body)
    return b"".join(chunks)


def _unpack(payload: bytes) -> dict[str, pa.Table]:
    tables: dict[str, pa.Table] = {}
    offset = 0
    while offset < len(payload):
        size = int.from_bytes(payload[offset:offset + 4], "little")
        name = payload[offset + 4:offset + 4 + size].decode("utf-8")
        offset += 4 + size
        length = int.from_bytes(payload[offset:offset + 8], "little")
        tables[name] = pa.ipc.open_stream(payload[offset + 8:offset + 8 + length]).read_all()
        offset += 8 + length
    return tables


def _empty_logs(columns: Sequence[str] = STEP_COLUMNS) -> pa.Table:
    """No rows, with the canonical types of `columns` (as `canonical_batch` gives them)."""
    con = duckdb.connect(":memory:")
    try:
        rows = canonical_batch(con, pa.table({"text": pa.array([], pa.string())}), "", LogSettings(), lines=True).rows
    finally:
        con.close()
    return rows.select(list(columns))


def find_sources(paths: Sequence[str]) -> list[Source]:
    """The JSONL and Parquet files under `paths` (files, folders searched recursively, local globs, URIs)."""
    import pyarrow.fs as pafs

    if not paths:
        raise InputError("no log files given")
    sources: list[Source] = []
    for path in paths:
        if "://" not in path and set("*?[") & set(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"{path}: no file matches this pattern")
            sources.extend(source for match in matches for source in find_sources([match]))
            continue
        try:
            filesystem, location = pafs.FileSystem.from_uri(path if "://" in path else os.path.abspath(path))
            info = filesystem.get_file_info(location)
        except (pa.ArrowException, OSError, ValueError) as error:
            raise InputError(f"{path}: cannot be read ({error})") from error
        if info.type == pafs.FileType.NotFound:
            raise InputError(f"{path}: no such file or folder")
        if info.type == pafs.FileType.Directory:
            found = [i.path for i in filesystem.get_file_info(pafs.FileSelector(location, recursive=True))
                     if i.type == pafs.FileType.File and not _hidden(os.path.relpath(i.path, location))]
            base = location
            names = {f: path.rstrip("/") + "/" + os.path.relpath(f, location).replace(os.sep, "/") for f in found}
        else:
            found, base = [location], os.path.dirname(location)
            names = {location: path}
        lines = sorted(f for f in found if _suffix(f) in _LINES_SUFFIXES)
        parquet = sorted(f for f in found if _suffix(f) in _PARQUET_SUFFIXES)
        if info.type == pafs.FileType.File and not lines and not parquet:
            raise UsageError(f"{path}: --engine ray reads JSON lines and Parquet; use the local engine for this file")
        if not lines and not parquet:
            raise InputError(f"{path}: folder holds no .jsonl, .jsonl.gz or .parquet file")
        sources.extend(Source(kind, tuple(files), tuple(names[f] for f in files), filesystem, base)
                       for kind, files in ((True, lines), (False, parquet)) if files)
    return sources


def _hidden(relative: str) -> bool:
    """A file or folder named `.…` or `_…` (Spark's `_SUCCESS`, `_temporary/`), as the local engine skips them."""
    return any(part.startswith((".", "_")) for part in relative.replace(os.sep, "/").split("/"))


def _suffix(path: str) -> str:
    name = path.lower().removesuffix(".gz")
    return os.path.splitext(name)[1]
