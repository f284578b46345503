"""read_logs with a cache folder: parsed files kept as Parquet, reused while unchanged, never trusted blindly."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from remedy.errors import InputError
from remedy.logs import cache
from remedy.logs.reading import read_logs
from remedy.logs.settings import LogSettings

TS = "2026-10-01T10:00:00Z"


def log(id: Any, query: str = "How do I reset my password?", **fields: Any) -> dict[str, Any]:
    return {"id": id, "timestamp": fields.pop("timestamp", TS), "query": query, **fields}


def rows(logs: Any) -> list[tuple[Any, ...]]:
    return logs.connection.execute(
        f"SELECT log_id, ts, query, normalized_query, response, context, scores::VARCHAR, is_failure, severity, "
        f"primary_issue, served_remediation, metadata::VARCHAR, is_bad, guardrailed, source_file, line_number "
        f"FROM {logs.table} ORDER BY source_file, line_number"
    ).fetchall()


def entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "logs").glob("*.parquet"))


EXPORT = [
    log(1, "Where is my REFUND?", scores={"trustworthiness": 0.2}, response="Soon.", context=["a", "b"]),
    "",
    "{not json",
    log(2, "where is my refund", is_bad=False, metadata={"channel": "web"}, served_remediation="refund"),
    log(3, timestamp="yesterday"),
    log(4, "Can I bring a pet?", guardrailed=True, timestamp="2026-10-03T08:00:00+02:00"),
]


def test_cached_rows_equal_uncached_rows_and_a_second_read_hits(write_jsonl, tmp_path, monkeypatch):
    path = write_jsonl("a.jsonl", EXPORT)
    plain = read_logs([str(path)])
    cold = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert rows(cold) == rows(plain)
    assert (cold.rows, cold.skipped_lines, cold.first_skipped) == (plain.rows, plain.skipped_lines, plain.first_skipped)
    assert len(entries(tmp_path / ".remedy")) == 1

    def no_parsing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a cache hit must not parse the file again")

    monkeypatch.setattr("remedy.logs.staging.stage_file", no_parsing)
    warm = read_logs([str(path)], cache_dir=tmp_path / ".remedy", connection=duckdb.connect())
    assert rows(warm) == rows(plain)
    assert (warm.skipped_lines, warm.first_skipped) == (plain.skipped_lines, plain.first_skipped)


def test_skipped_lines_survive_the_cache_and_strict_still_refuses(write_jsonl, tmp_path):
    path = write_jsonl("a.jsonl", EXPORT)
    read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    warm = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert warm.skipped_lines == 2
    assert [str(s) for s in warm.first_skipped] == [
        f"{path}:3: not valid JSON",
        f"{path}:5: field 'timestamp': not an ISO 8601 timestamp: yesterday",
    ]
    with pytest.raises(InputError, match=r"a.jsonl:3: not valid JSON \(--strict\)"):
        read_logs([str(path)], cache_dir=tmp_path / ".remedy", strict=True)


def test_a_changed_file_or_setting_is_read_again(write_jsonl, tmp_path):
    path = write_jsonl("a.jsonl", [log(1, scores={"trustworthiness": 0.6})])
    first = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert rows(first)[0][7] is False  # 0.6 passes the default cutoff
    stricter = read_logs([str(path)], LogSettings(failure_cutoff=0.7), cache_dir=tmp_path / ".remedy")
    assert rows(stricter)[0][7] is True
    write_jsonl("a.jsonl", [log(1, scores={"trustworthiness": 0.6}), log(2)])
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    changed = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert changed.rows == 2
    assert len(entries(tmp_path / ".remedy")) == 1  # older entries of the same file are removed


def test_a_corrupt_entry_is_rebuilt_not_trusted(write_jsonl, tmp_path, caplog):
    path = write_jsonl("a.jsonl", EXPORT)
    expected = rows(read_logs([str(path)]))
    read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    (entry,) = entries(tmp_path / ".remedy")
    entry.write_bytes(b"PAR1 not really parquet PAR1")
    with caplog.at_level(logging.WARNING, logger="remedy"):
        again = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert "unreadable log cache file" in caplog.text
    assert rows(again) == expected
    assert again.skipped_lines == 2
    assert cache.load_entry(duckdb.connect(), entries(tmp_path / ".remedy")[0]) is not None


def test_an_entry_copied_under_another_name_is_not_trusted(write_jsonl, tmp_path):
    one = write_jsonl("one.jsonl", [log(1)])
    two = write_jsonl("two.jsonl", [log(2), log(3)])
    read_logs([str(one)], cache_dir=tmp_path / ".remedy")
    (entry,) = entries(tmp_path / ".remedy")
    settings = LogSettings()
    target = cache.entry_path(tmp_path / ".remedy" / "logs", str(two), settings, format="jsonl", gzip=False)
    target.write_bytes(entry.read_bytes())
    assert read_logs([str(two)], cache_dir=tmp_path / ".remedy").rows == 2


def test_since_and_until_apply_after_the_cache_and_files_keep_their_names(write_jsonl, tmp_path):
    a = write_jsonl("a.jsonl", [log(1, timestamp="2026-10-01T00:00:00Z"), log(2, timestamp="2026-10-05T00:00:00Z")])
    b = write_jsonl("b.jsonl", ["", log(3, timestamp="2026-10-09T00:00:00Z")])
    everything = read_logs([str(a), str(b)], cache_dir=tmp_path / ".remedy")
    assert [(r[0], Path(r[14]).name, r[15]) for r in rows(everything)] == [
        ("1", "a.jsonl", 1), ("2", "a.jsonl", 2), ("3", "b.jsonl", 2)]
    window = read_logs([str(a), str(b)], since=dt.date(2026, 10, 2), until=dt.datetime(2026, 10, 9),
                       cache_dir=tmp_path / ".remedy")
    assert [r[0] for r in rows(window)] == ["2"]
    assert window.rows == 1


def test_reading_twice_into_one_connection_replaces_the_view(write_jsonl, tmp_path):
    path = write_jsonl("a.jsonl", [log(1)])
    con = duckdb.connect()
    read_logs([str(path)], connection=con, cache_dir=tmp_path / ".remedy")
    read_logs([str(path)], connection=con)  # a table where the view was
    again = read_logs([str(path)], connection=con, cache_dir=tmp_path / ".remedy")
    assert again.rows == 1


def test_an_unwritable_cache_folder_reads_without_the_cache(write_jsonl, tmp_path):
    path = write_jsonl("a.jsonl", [log(1)])
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    logs = read_logs([str(path)], cache_dir=blocker)
    assert logs.rows == 1


def test_a_connection_can_read_through_two_cache_folders(write_jsonl, tmp_path):
    path = write_jsonl("a.jsonl", [log(1)])
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{tmp_path / 'spill'}'")
    con.execute("SET memory_limit = '20MB'")
    con.execute("SELECT count(*) FROM (SELECT range % 1000 AS k, list(range) FROM range(3000000) GROUP BY k)")
    assert read_logs([str(path)], connection=con, cache_dir=tmp_path / "one").rows == 1
    assert read_logs([str(path)], connection=con, cache_dir=tmp_path / "two").rows == 1


def test_leftovers_of_a_killed_run_are_removed(write_jsonl, tmp_path):
    path = write_jsonl("a.jsonl", [log(1)])
    folder = tmp_path / ".remedy" / "logs"
    folder.mkdir(parents=True)
    dead = folder / ".stage-999999999-abc.duckdb"
    unfinished = folder / ".tmp-999999999-abc.deadbeef"
    mine = folder / f".tmp-{os.getpid()}-other.cafe"
    for leftover in (dead, unfinished, mine):
        leftover.write_bytes(b"x")
    read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert not dead.exists() and not unfinished.exists()
    assert mine.exists()  # a live process's file is left alone
    assert (tmp_path / ".remedy" / ".gitignore").read_text(encoding="utf-8") == "*\n"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl.gz"])
def test_other_formats_read_through_the_cache_like_without_it(write_jsonl, tmp_path, suffix):
    source = write_jsonl("source.jsonl", [log(1, "Refund?", is_bad=True, severity=0.7), log(2, "Pets", is_bad=False)])
    path = tmp_path / f"export{suffix}"
    con = duckdb.connect()
    if suffix == ".jsonl.gz":
        path.write_bytes(gzip.compress(source.read_bytes()))
    else:
        fmt = "csv, HEADER" if suffix == ".csv" else "parquet"
        con.execute(f"COPY (SELECT * FROM read_json('{source}')) TO '{path}' (FORMAT {fmt})")
    plain = read_logs([str(path)])
    cached = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    warm = read_logs([str(path)], cache_dir=tmp_path / ".remedy")
    assert rows(cached) == rows(plain) == rows(warm)
    assert [row[15] for row in rows(warm)] == ([2, 3] if suffix == ".csv" else [1, 2])
