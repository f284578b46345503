"""The typed fast path (`remedy.logs.typed`) gives exactly the rows, reasons and line numbers of the per-field
JSON checks and of the line-by-line reader, whatever the kinds of values a file holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remedy.logs import staging, typed
from remedy.logs.reading import read_logs
from remedy.logs.settings import LogSettings

ROOT = Path(__file__).resolve().parents[2]
ABSENT = object()

# Per field, the kinds of values a whole file may hold: one kind per file lets DuckDB's detection
# accept the field (the typed read), a mix sends it to the JSON checks; each kind has its edge cases.
STRINGS = st.sampled_from(["", "a", "How do I get a REFUND?", "ß ﬁ", "2026-10-01", "7", " ", "Ünïcödé"])
TIMESTAMPS = st.sampled_from(["2026-10-01T10:00:00Z", "2026-10-01T10:00:00.123456+02:00", "2026-10-01",
                              "2026-10-01 10:00:00", "not a time", "", "2026-13-01T00:00:00Z", "1700000000"])
NUMBERS = st.one_of(st.sampled_from([0, 1, 0.5, -0.1, 1.5, 2, 1e-300, 0.30000000000000004]),
                    st.floats(-0.5, 1.5, allow_nan=False))
SCORES = st.dictionaries(st.sampled_from(["trustworthiness", "query_ease", "context_sufficiency", "x", "Y"]),
                         st.one_of(NUMBERS, st.none()), max_size=4)
OTHER = st.one_of(st.booleans(), st.integers(-3, 3), st.lists(STRINGS, max_size=2),
                  st.dictionaries(st.sampled_from(["a", "score"]), NUMBERS, max_size=2), STRINGS, st.none())
KINDS: dict[str, list[st.SearchStrategy[Any]]] = {
    "id": [STRINGS, st.integers(-5, 2**63), OTHER],
    "timestamp": [TIMESTAMPS, OTHER],
    "query": [STRINGS, OTHER],
    "response": [STRINGS, OTHER],
    "context": [STRINGS, st.lists(STRINGS, max_size=3), OTHER],
    "scores": [SCORES, OTHER],
    "is_bad": [st.booleans(), OTHER],
    "guardrailed": [st.booleans(), OTHER],
    "primary_issue": [STRINGS, OTHER],
    "severity": [NUMBERS, OTHER],
    "served_remediation": [STRINGS, OTHER],
    "metadata": [st.dictionaries(st.sampled_from(["channel", "n"]), st.one_of(STRINGS, NUMBERS)), OTHER],
}


@st.composite
def exports(draw: st.DrawFn) -> list[str]:
    """A few lines whose fields each hold values of one kind (or of any kind), some fields absent or null."""
    kinds = {name: draw(st.sampled_from(options)) for name, options in KINDS.items()}
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        row: dict[str, Any] = {}
        for name, values in kinds.items():
            value = draw(st.one_of(values, st.just(ABSENT), st.just(None)) if draw(st.booleans()) else values)
            if value is not ABSENT:
                row[name] = value
        lines.append(json.dumps(row, ensure_ascii=draw(st.booleans())))
    if draw(st.booleans()):  # a repeated score name, which DuckDB's detection does not refuse
        lines.append('{"id": "r", "timestamp": "2026-10-01T10:00:00Z", "query": "q", "scores": {"a": 0.1, "a": 0.2}}')
    return lines


def read_all(path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[Any, ...]], Any, Any]:
    """Every log row (all columns, file order), the skipped count and the first skipped lines, read with
    the typed path (`typed`), the JSON checks only (`json`) or line by line (`lines`)."""
    with monkeypatch.context() as patch:
        if mode == "json":
            patch.setattr(typed, "typed_fields", lambda *args, **kwargs: frozenset())
            patch.setattr(staging, "typed_fields", lambda *args, **kwargs: frozenset())
        elif mode == "lines":
            patch.setattr(staging, "_stage_objects", lambda *args, **kwargs: False)
        logs = read_logs([str(path)], LogSettings())
        cursor = logs.connection.execute(f"SELECT * FROM {logs.table} ORDER BY source_file, line_number")
        return cursor.fetchall(), logs.skipped_lines, logs.first_skipped


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=exports())
def test_the_typed_path_reads_what_the_json_checks_read(lines: list[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    fast = read_all(path, "typed", monkeypatch)
    assert fast == read_all(path, "json", monkeypatch)
    assert fast == read_all(path, "lines", monkeypatch)


def attempts(path: Path, monkeypatch: pytest.MonkeyPatch, settings: LogSettings | None = None) -> list[set[str]]:
    """The typed fields of each read `staging` tried for the file, in order (the last one kept)."""
    tried: list[set[str]] = []
    original = staging.parse_sql

    def spy(*args: Any, typed: frozenset[str] = frozenset(), **kwargs: Any) -> str:
        tried.append(set(typed))
        return original(*args, typed=typed, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(staging, "parse_sql", spy)
        read_logs([str(path)], settings or LogSettings())
    return tried


def test_a_clean_export_is_read_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the fixture: strings and scores converted by DuckDB's reader, in one read
    assert attempts(ROOT / "fixtures" / "logs.jsonl", monkeypatch) == [
        {"id", "timestamp", "query", "response", "scores", "primary_issue", "served_remediation"}]
    # a value the conversion may have changed stops the typed read: the file is read with the JSON checks
    for line in ['{"id": "a", "timestamp": "2026-10-01T10:00:00Z", "query": 7}',
                 '{"id": "a", "timestamp": "2026-10-01T10:00:00Z", "query": "q", "response": {"a": 1}}',
                 '{"id": 1.5, "timestamp": "2026-10-01T10:00:00Z", "query": "q"}',
                 '{"id": "a", "timestamp": "2026-10-01T10:00:00Z", "query": "q", "scores": {"a": "0.5"}}',
                 '{"id": "a", "timestamp": "2026-10-01T10:00:00Z", "query": "q", "scores": [0.5]}']:
        path = tmp_path / "one.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        tried = attempts(path, monkeypatch)
        assert tried[0] and tried[-1] == set(), line
    # integer ids, names holding a colon and a repeated name (a check of its own) keep the typed read
    path.write_text('{"id": 12, "timestamp": "2026-10-01T10:00:00Z", "query": "q", "scores": {"a:b": 1}}\n'
                    '{"id": "b", "timestamp": "2026-10-01T10:00:00Z", "query": "q", "scores": {"a": 0.1, "a": 0.2}}\n')
    assert len(attempts(path, monkeypatch)) == 1
    assert [str(skip) for skip in read_logs([str(path)]).first_skipped] == [
        f"{path}:2: field 'scores': repeats a name"]
    # a field filled by a partition stays JSON
    assert "query" not in typed.typed_fields(LogSettings().fields, (("query", "x"),))


@pytest.mark.parametrize("command", [
    ("coverage", "--format", "json", "--attributions", "rows.jsonl"),
    ("issues", "--format", "json", "--top", "0"),
], ids=["coverage and attributions", "issues"])
def test_commands_print_the_same_with_and_without_the_typed_path(repo: Path, run, command: tuple[str, ...],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.rmtree(repo / "remediations")
    shutil.copytree(ROOT / "remediations", repo / "remediations")
    lines = (ROOT / "fixtures" / "logs.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    empty = '{"id": "x-1", "timestamp": "2026-10-01T10:00:00Z", "query": ""}\n'
    (repo / "logs.jsonl").write_text("".join(lines[:1200]) + empty + "".join(lines[1200:]), encoding="utf-8")
    outputs = []
    for mode in ("typed", "json"):
        shutil.rmtree(repo / ".remedy", ignore_errors=True)
        with monkeypatch.context() as patch:
            if mode == "json":
                patch.setattr(staging, "typed_fields", lambda *args, **kwargs: frozenset())
            result = run(*command[:1], "--logs", "logs.jsonl", *command[1:])
        assert result.exit_code == 0, result.stderr
        extra = (repo / "rows.jsonl").read_text(encoding="utf-8") if "--attributions" in command else ""
        outputs.append((result.stdout, result.stderr, extra))
    assert outputs[0] == outputs[1]
    # a value check on the typed path
    assert "logs.jsonl:1201: field 'query': empty or only white space" in outputs[0][1]


# Parquet: per field, a column type and the values it may hold (None: null); the typed read of the
# columns must give what reading each row as a JSON object gives.
SCORE_NAMES = st.sampled_from(["trustworthiness", "query_ease", "x"])
PARQUET_KINDS: dict[str, list[tuple[str, st.SearchStrategy[Any]]]] = {
    "id": [("VARCHAR", STRINGS), ("BIGINT", st.integers(-5, 2**62))],
    "timestamp": [("VARCHAR", TIMESTAMPS), ("TIMESTAMPTZ", st.sampled_from(["2026-10-01T10:00:00Z",
                                                                             "2026-10-01T10:00:00.5+02:00"]))],
    "query": [("VARCHAR", STRINGS), ("BIGINT", st.integers(-3, 3))],
    "response": [("VARCHAR", STRINGS), ("BOOLEAN", st.booleans())],
    "context": [("VARCHAR", st.one_of(STRINGS, st.just('["a", "b"]'))), ("VARCHAR[]", st.lists(STRINGS, max_size=3)),
                ("JSON", OTHER)],
    "scores": [("STRUCT(trustworthiness DOUBLE, x DOUBLE)",
                st.fixed_dictionaries({}, optional={"trustworthiness": st.one_of(NUMBERS, st.none()),
                                                    "x": st.one_of(NUMBERS, st.none())})),
               ("MAP(VARCHAR, DOUBLE)", st.dictionaries(SCORE_NAMES, st.one_of(NUMBERS, st.none()), max_size=3)),
               ("MAP(VARCHAR, VARCHAR)", st.dictionaries(SCORE_NAMES, st.sampled_from(["0.5", "x"]), max_size=2)),
               ("VARCHAR", st.sampled_from(['{"query_ease": 0.2}', "0.5", "{bad"])), ("JSON", OTHER)],
    "is_bad": [("BOOLEAN", st.booleans()), ("VARCHAR", STRINGS)],
    "guardrailed": [("BOOLEAN", st.booleans())],
    "primary_issue": [("VARCHAR", STRINGS), ("BIGINT", st.integers(0, 3))],
    "severity": [("DOUBLE", NUMBERS), ("VARCHAR", STRINGS)],
    "served_remediation": [("VARCHAR", STRINGS), ("JSON", OTHER)],
    "metadata": [("STRUCT(channel VARCHAR)", st.fixed_dictionaries({"channel": STRINGS})), ("JSON", OTHER),
                 ("VARCHAR", st.sampled_from(['{"channel": "web"}', "web"]))],
}


@st.composite
def parquet_exports(draw: st.DrawFn) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Column types (some fields without a column) and a few rows of values of those types."""
    kinds = {name: draw(st.sampled_from(options)) for name, options in PARQUET_KINDS.items() if draw(st.integers(0, 5))}
    rows = [{name: draw(st.one_of(values, st.none()) if draw(st.booleans()) else values)
             for name, (_, values) in kinds.items()} for _ in range(draw(st.integers(1, 5)))]
    return {name: kind for name, (kind, _) in kinds.items()}, rows


def read_parquet_both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(typed read, each row as a JSON object): rows, skipped count and first skipped lines of each."""
    def read() -> Any:
        logs = read_logs([str(path)], LogSettings())
        rows = logs.connection.execute(f"SELECT * FROM {logs.table} ORDER BY line_number").fetchall()
        return rows, logs.skipped_lines, logs.first_skipped

    fast = read()
    with monkeypatch.context() as patch:
        patch.setattr(staging, "stage_typed_columns", lambda *args, **kwargs: False)
        return fast, read()


def write_parquet(tmp_path: Path, export: tuple[dict[str, str], list[dict[str, Any]]]) -> Path | None:
    """The rows of `export` as a Parquet file with its column types (None: no column at all)."""
    import duckdb

    kinds, rows = export
    if not kinds:
        return None
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    path = tmp_path / "export.parquet"
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in kinds.items())
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{source}', columns = {{{columns}}})) "
                             f"TO '{path}' (FORMAT parquet)")
    return path


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export=parquet_exports())
def test_the_typed_parquet_read_reads_what_the_json_checks_read(export: tuple[dict[str, str], list[dict[str, Any]]],
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:

    path = write_parquet(tmp_path, export)
    if path is None:
        return
    fast, slow = read_parquet_both(path, monkeypatch)
    assert fast == slow


def test_a_clean_parquet_export_is_read_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    path = tmp_path / "logs.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{ROOT / 'fixtures' / 'logs.jsonl'}', sample_size = -1)) "
                             f"TO '{path}' (FORMAT parquet)")
    assert attempts(path, monkeypatch) == [
        {"id", "timestamp", "query", "response", "scores", "primary_issue", "served_remediation"} - {"timestamp"}]
    fast, slow = read_parquet_both(path, monkeypatch)
    assert fast == slow and len(fast[0]) > 1000
    # scores whose items are not numbers stop the typed read: the file is read row by row as JSON
    duckdb.connect().execute(f"COPY (SELECT 'a' AS id, '2026-10-01T10:00:00Z' AS timestamp, 'q' AS query, "
                             f"MAP {{'a': 'high'}} AS scores) TO '{path}' (FORMAT parquet)")
    tried = attempts(path, monkeypatch)
    assert tried[0] == {"id", "timestamp", "query", "scores"} and tried[-1] == set()
    assert [str(skip) for skip in read_logs([str(path)]).first_skipped] == [
        f"{path}:1: field 'scores': every score must be a number between 0 and 1"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export=parquet_exports())
def test_a_typed_batch_reads_what_the_json_checks_read(export: tuple[dict[str, str], list[dict[str, Any]]],
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Ray engine's batches of Parquet rows (`canonical_batch`) take the same typed read by columns."""
    import duckdb
    import pyarrow.parquet as pq

    from remedy.logs import reading

    path = write_parquet(tmp_path, export)
    if path is None:
        return
    raw = pq.read_table(path)

    def batch() -> Any:
        found = reading.canonical_batch(duckdb.connect(), raw, str(path), LogSettings(), lines=False, first_line=1)
        return found.rows.to_pylist(), found.skipped_lines, found.first_skipped

    fast = batch()
    with monkeypatch.context() as patch:
        patch.setattr(reading, "_insert_columns", lambda *args, **kwargs: False)
        assert fast == batch()
