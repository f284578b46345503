"""Issue 35: log exports and time. One line dated far ahead, one huge line, an extreme date or offset, a CSV
with other line ends or a repeated column, and many small files must not break, flatten or lose an export.

Each test drives the CLI (in-process, CliRunner) or `read_logs` on files in a temporary git repository, and
failed before the fix it is named after.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from remedy.analytics.log_clock import reference_time
from remedy.logs import bundles, fields, staging
from remedy.logs.reading import read_logs
from tests.conftest import write_answer

TS = "2026-10-01T10:00:00Z"


def log(log_id: Any, query: str = "What is the baggage allowance?", timestamp: str = TS, **extra: Any) -> str:
    return json.dumps({"id": log_id, "timestamp": timestamp, "query": query, **extra})


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def project(repo: Path) -> Path:
    """One answer; failures on two topics over two weeks (a trend), all before the machine's clock."""
    write_answer(repo, "bags", "What is the baggage allowance?")
    lines = []
    for day in range(14):
        moment = (dt.datetime(2026, 10, 1, 10) + dt.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(log(f"v{day}", "do i need a visa for a layover in Istanbul", moment, is_bad=True))
        if day % 2:
            lines.append(log(f"w{day}", "can i bring my bicycle on board", moment, is_bad=True))
    write_lines(repo / "logs.jsonl", lines)
    return repo


def queue(run, *paths: str) -> tuple[list[dict[str, Any]], str]:
    result = run("issues", *(item for path in paths for item in ("--logs", path)), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["issues"], result.stderr


# --- item 3: one log far in the future ------------------------------------------------------------


def test_a_log_far_in_the_future_does_not_flatten_the_queue(project: Path, run, caplog) -> None:
    before, _ = queue(run, "logs.jsonl")
    write_lines(project / "late.jsonl", [log("x", "hello", "2100-01-01T00:00:00Z")])
    after, _ = queue(run, "logs.jsonl", "late.jsonl")
    stderr = caplog.text  # warnings go to stderr through logging
    assert [(i["id"], i["impact"], i["trend"]) for i in after] == [(i["id"], i["impact"], i["trend"]) for i in before]
    assert all(issue["impact"] > 0.1 for issue in after)
    assert "late.jsonl:1: field 'timestamp': 2100-01-01T00:00:00Z" in stderr and "implausible" in stderr


def test_a_failure_from_the_future_weighs_as_one_from_now_never_more(project: Path, run) -> None:
    write_lines(project / "late.jsonl", [log("x", "can i bring my bicycle on board", "2100-01-01T00:00:00Z",
                                             is_bad=True)])
    issues, _ = queue(run, "logs.jsonl", "late.jsonl")
    bikes = next(i for i in issues if "bicycle" in i["representative_query"])
    assert bikes["size"] == 8 and bikes["impact"] < 8  # 7 failures decayed and one of weight 1


def test_now_is_the_newest_log_not_after_tomorrow() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE by_day (logs BIGINT, newest TIMESTAMP)")
    con.execute("CREATE TABLE logs (source_file VARCHAR, line_number BIGINT, ts TIMESTAMP)")
    today = dt.date(2026, 12, 7)
    con.execute("INSERT INTO by_day VALUES (3, '2026-12-08 23:59:59'), (1, '2026-12-09 00:00:00')")
    assert reference_time(con, "by_day", "logs", today) == dt.datetime(2026, 12, 8, 23, 59, 59)
    con.execute("DELETE FROM by_day WHERE logs = 3")  # every log in the future: the clock may be wrong
    assert reference_time(con, "by_day", "logs", today) == dt.datetime(2026, 12, 9)
    con.execute("DELETE FROM by_day")
    assert reference_time(con, "by_day", "logs", today) is None


# --- item 5 and the offsets: extreme timestamps ---------------------------------------------------


@pytest.mark.parametrize(("stamp", "reason"), [
    ("-0001-01-01T00:00:00Z", "out of range (years 1970 to 9999)"),
    ("0000-01-01T00:00:00Z", "out of range (years 1970 to 9999)"),
    ("1969-12-31T23:59:59Z", "out of range (years 1970 to 9999)"),
    ("9999-12-31T23:00:00-05:00", "out of range (years 1970 to 9999)"),
    ("2026-10-01T00:00:00+99:00", "UTC offset beyond ±14:00 or minutes above 59"),
    ("2026-10-01T00:00:00-14:01", "UTC offset beyond ±14:00 or minutes above 59"),
    ("2026-10-01T00:00:00+05:99", "UTC offset beyond ±14:00 or minutes above 59"),
    ("2026-10-01T00:00:00+24", "UTC offset beyond ±14:00 or minutes above 59"),
])
def test_an_extreme_timestamp_is_a_malformed_line_named_by_file_line_and_field(project: Path, run, stamp: str,
                                                                                 reason: str) -> None:
    write_lines(project / "odd.jsonl", [log("a"), log("b", timestamp=stamp, is_bad=True)])
    for command in (["issues", "--top", "300"], ["coverage"], ["report", "--format", "json"]):
        result = run(*command, "--logs", "logs.jsonl", "--logs", "odd.jsonl")
        assert result.exit_code == 0, (command, result.stderr)
        assert f"odd.jsonl:2: field 'timestamp': {reason}" in result.stderr and stamp in result.stderr
        assert "(BC)" not in result.stdout
    strict = run("coverage", "--logs", "odd.jsonl", "--strict")
    assert strict.exit_code == 2 and "odd.jsonl:2: field 'timestamp'" in strict.stderr


@pytest.mark.parametrize("stamp", ["2026-10-01T00:00:00+14:00", "2026-10-01T00:00:00-12:00", "2026-10-01T05:30:00+0530",
                                   "1970-01-01T00:00:00Z", "2026-10-01"])
def test_timestamps_at_the_edges_of_the_range_are_read(project: Path, stamp: str) -> None:
    write_lines(project / "edge.jsonl", [log("a", timestamp=stamp)])
    logs = read_logs(["edge.jsonl"])
    assert (logs.rows, logs.skipped_lines) == (1, 0)


def test_the_last_year_prints_as_iso_8601_utc_in_every_output(project: Path, run, caplog) -> None:
    write_lines(project / "last.jsonl", [log("a", "can i bring my bicycle on board", "9999-12-31T23:59:59Z",
                                             is_bad=True)])
    issues, _ = queue(run, "last.jsonl")
    assert issues[0]["first_seen"] == issues[0]["last_seen"] == "9999-12-31T23:59:59Z"
    assert "is this machine's clock right?" in caplog.text
    assert run("issue", issues[0]["id"], "--logs", "last.jsonl", "--format", "json").exit_code == 0
    report = run("report", "--logs", "last.jsonl", "--format", "json")
    assert report.exit_code == 0, report.stderr
    assert "9999-12-31T23:59:59Z" in report.stdout and "(BC)" not in report.stdout
    html = run("report", "--logs", "logs.jsonl", "--logs", "last.jsonl", "--out", "page.html")
    assert html.exit_code == 0, html.stderr


# --- item 4: one huge line ------------------------------------------------------------------------


def test_a_line_over_the_limit_is_skipped_and_named_and_the_rest_is_read(project: Path, run, monkeypatch) -> None:
    monkeypatch.setattr(fields, "MAX_LINE_BYTES", 4096)
    lines = (project / "logs.jsonl").read_text(encoding="utf-8").splitlines()
    lines.insert(3, log("huge", "x" * 10_000))
    write_lines(project / "logs.jsonl", lines)
    result = run("coverage", "--logs", "logs.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["logs"]["total"] == len(lines) - 1
    assert f"logs.jsonl:4: a line of {len(lines[3])} bytes: longer than the 4096 bytes a line may hold" in result.stderr


def test_a_line_of_50_mb_does_not_lose_the_export(project: Path, run) -> None:
    """The case of the issue, for real: DuckDB ran out of its 512 MB and the command lost every row."""
    lines = (project / "logs.jsonl").read_text(encoding="utf-8").splitlines()
    huge = log("huge", "x" * 50_000_000)
    with open(project / "logs.jsonl", "w", encoding="utf-8") as out:
        out.write("\n".join(lines[:2]) + "\n" + huge + "\n" + "\n".join(lines[2:]) + "\n")
    result = run("coverage", "--logs", "logs.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["logs"]["total"] == len(lines)
    assert f"logs.jsonl:3: a line of {len(huge)} bytes: longer than the 16 MB a line may hold" in result.stderr


# --- CSV: line ends and repeated columns ----------------------------------------------------------


def test_a_csv_with_carriage_returns_alone_is_read_line_by_line(project: Path, run) -> None:
    (project / "mac.csv").write_bytes(b"id,timestamp,query,is_bad\r1,2026-10-01T10:00:00Z,hello,true\r"
                                      b'2,2026-10-01T10:00:00Z,"two\rlines",false\r3,not a time,x,true\r'
                                      b"4,2026-10-01T10:00:00Z,last,true")
    logs = read_logs(["mac.csv"])
    rows = logs.connection.execute("SELECT log_id, query, line_number FROM logs ORDER BY line_number").fetchall()
    assert rows == [("1", "hello", 2), ("2", "two\rlines", 3), ("4", "last", 6)]
    assert [str(item) for item in logs.first_skipped] == [
        "mac.csv:5: field 'timestamp': not an ISO 8601 timestamp: not a time"]
    result = run("coverage", "--logs", "mac.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr


def test_a_csv_that_cannot_be_split_is_exit_2_naming_the_file(project: Path, run) -> None:
    (project / "broken.csv").write_bytes(b'id,timestamp,query\n1,2026-10-01T10:00:00Z,"never closed\n')
    result = run("coverage", "--logs", "broken.csv")
    assert result.exit_code == 2 and "broken.csv" in result.stderr


def test_a_csv_header_naming_a_field_twice_is_refused(project: Path, run) -> None:
    (project / "twice.csv").write_text("id,timestamp,query,note,query\n1,2026-10-01T10:00:00Z,hello,n,other\n",
                                       encoding="utf-8")
    result = run("coverage", "--logs", "twice.csv")
    assert result.exit_code == 2
    assert "twice.csv:1: the header names column 'query' twice (columns 3 and 5)" in result.stderr
    (project / "extra.csv").write_text("id,timestamp,query,note,note\n1,2026-10-01T10:00:00Z,hello,a,b\n",
                                       encoding="utf-8")
    assert run("coverage", "--logs", "extra.csv").exit_code == 0  # a column no field reads may repeat


# --- item 8: many small files ---------------------------------------------------------------------


def small_files(folder: Path, count: int) -> list[str]:
    for number in range(count):
        write_lines(folder / f"hour={number:04d}" / "part-0.jsonl",
                    [log(f"l{number}", f"question number {number % 7}", is_bad=number % 3 == 0)])
    return [os.path.relpath(path) for path in sorted(folder.rglob("*.jsonl"))]


def rows_of(logs: Any) -> list[tuple[Any, ...]]:
    return logs.connection.execute("SELECT source_file, line_number, log_id, ts, is_failure, normalized_query "
                                   "FROM logs ORDER BY source_file, line_number").fetchall()


def test_many_small_files_are_read_in_one_go_and_cached_as_one_entry(project: Path, monkeypatch) -> None:
    """5,000 one-line files took 600 s: one DuckDB read (and one cache entry, one view part) per file."""
    small_files(project / "exports", 300)
    reference = rows_of(read_logs(["exports"]))
    staged: list[str] = []
    real_stage_file = staging.stage_file
    monkeypatch.setattr(staging, "stage_file",
                        lambda con, target, index, log_file, settings: staged.append(log_file.path)
                        or real_stage_file(con, target, index, log_file, settings))
    cold = read_logs(["exports"], cache_dir=project / ".remedy")
    assert rows_of(cold) == reference and cold.rows == 300
    assert staged == [] and len(list((project / ".remedy/logs").glob("*.parquet"))) == 1
    monkeypatch.setattr(bundles, "build_bundle", lambda *args: pytest.fail("a warm read parses nothing"))
    warm = read_logs(["exports"], cache_dir=project / ".remedy")
    assert rows_of(warm) == reference


def test_a_bad_file_among_many_is_read_alone_and_its_lines_named(project: Path) -> None:
    files = small_files(project / "exports", 40)
    write_lines(Path(files[5]), [log("a"), "{not json", "", log("b")])  # a bad line, a blank one
    write_lines(Path(files[9]), ["null", log("c")])  # DuckDB reads `null` as a row of nulls
    Path(files[12]).write_text("")  # empty files: no line to take from the files around them
    Path(files[13]).write_text("")
    Path(files[20]).write_bytes(b"\xef\xbb\xbf" + (log("bom") + "\n").encode())  # a byte order mark
    Path(files[30]).write_bytes(b'{"id": "u", "timestamp": "2026-10-01", "query": "caf\xe9"}\n' + log("d").encode())
    with gzip.open(project / "exports" / "zz.jsonl.gz", "wt") as out:  # gzip files make a bundle of their own
        out.write(log("g1") + "\n")
    with gzip.open(project / "exports" / "zzz.jsonl.gz", "wt") as out:
        out.write(log("g2") + "\n")
    reference = read_logs(["exports"])
    cached = read_logs(["exports"], cache_dir=project / ".remedy")
    assert rows_of(cached) == rows_of(reference)
    assert (cached.skipped_lines, cached.first_skipped) == (reference.skipped_lines, reference.first_skipped)
    assert [str(item) for item in cached.first_skipped][:3] == [
        f"{files[5]}:2: not valid JSON", f"{files[9]}:1: not a JSON object", f"{files[30]}:1: not UTF-8 text"]
    warm = read_logs(["exports"], cache_dir=project / ".remedy")
    assert rows_of(warm) == rows_of(reference) and warm.first_skipped == reference.first_skipped


def test_a_changed_file_of_a_bundle_is_read_again(project: Path) -> None:
    files = small_files(project / "exports", 30)
    assert read_logs(["exports"], cache_dir=project / ".remedy").failures() == 10
    path = Path(files[1])
    status = path.stat()
    path.write_text(path.read_text().replace('"is_bad": false', '"is_bad": true '))  # same size, one more failure
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # the old mtime back, as `cp -p` does
    assert path.stat().st_size == status.st_size
    assert read_logs(["exports"], cache_dir=project / ".remedy").failures() == 11
    write_lines(project / "exports" / "hour=9999" / "part-0.jsonl", [log("new", is_bad=True)])  # the next hour
    assert read_logs(["exports"], cache_dir=project / ".remedy").failures() == 12


def test_bundles_are_cut_from_the_start_so_a_new_file_changes_only_the_last(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(bundles, "BUNDLE_FILES", 10)
    files = small_files(project / "exports", 25)
    from remedy.logs.settings import LogSettings
    from remedy.logs.sources import resolve_log_paths

    groups = bundles.plan(resolve_log_paths(["exports"]), LogSettings())
    assert [len(group) if isinstance(group, tuple) else 1 for group in groups] == [10, 10, 5]
    assert [file.path for group in groups for file in (group if isinstance(group, tuple) else (group,))] == files
