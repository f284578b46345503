"""The fast paths of large analyses decide exactly like the plain ones.

- attribution screens out queries no entry can accept before `decide_vectors`: the decisions must be
  those of deciding every query for every (kind, role);
- the parsed-log cache: a warm run prints what the cold run printed, and a changed export is re-read;
- the decision cache: a warm run whose queries are all known reads the rows unsorted, with the same outputs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from remedy.analytics.attribution import KINDS, ROLES, attribute_logs
from remedy.analytics.coverage import SERVES_PARTIAL, coverage_partials
from remedy.analytics.step import MERGE_SQL, AttributionStep, merge_sql
from remedy.config import load_config
from remedy.files.folder import load_folder
from remedy.logs.reading import iter_distinct_queries, read_logs
from remedy.matching.matcher import build_matcher
from tests.conftest import write_answer

QUERIES = [
    "What is the baggage allowance?", "what is the BAGGAGE allowance", "how much baggage can I take",
    "Can I bring my dog on the plane?", "can my cat fly with me", "is my pet allowed in the cabin",
    "How do I get a refund?", "I want my money back for a cancelled flight", "refund please",
    "Where can I download quantum chromodynamics lecture notes", "asdkjh qwpoe", "", "?",
    "Explain how a bicycle derailleur is adjusted", "baggage", "dog", "seat upgrade with miles",
]


def test_screened_attribution_equals_deciding_every_query(repo: Path) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", extra="also_matches:\n  - how heavy can my bag be\n")
    write_answer(repo, "dogs", "Can I bring my dog on the plane?", status="draft")
    write_answer(repo, "pets", "Can my pet travel in the cabin?", status="paused",
                 extra="activated: 2026-09-01T00:00:00Z\n")
    write_answer(repo, "refund", "How do I get a refund?", extra="threshold: 0.2\n")  # accepts a lot
    write_answer(repo, "miles", "Can I upgrade my seat with miles?", extra="threshold: 0.99\n")
    rows = [{"id": str(i), "timestamp": "2026-10-01T00:00:00Z", "query": q or "x"} for i, q in enumerate(QUERIES)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(cwd=repo)
    matcher = build_matcher(load_folder(config.remediations_dir).remediations, config)
    logs = read_logs(["logs.jsonl"], connection=duckdb.connect())

    attribute_logs(logs, matcher, table="screened", part_size=5)
    got = {row[:4]: row[4:] for row in logs.connection.execute(
        "SELECT normalized_query, remediation_id, kind, role, similarity, margin FROM screened").fetchall()}

    expected = {}
    for batch in iter_distinct_queries(logs, batch_size=5):
        vectors = matcher.encode(batch.normalized_queries)
        for kind in KINDS:
            for role, statuses in ROLES.items():
                decisions = matcher.index.decide_vectors(vectors, batch.normalized_queries, kind=kind,
                                                        statuses=statuses)
                expected |= {(text, d.entry_id, kind, role): (d.similarity, d.margin)
                             for text, d in zip(batch.normalized_queries, decisions, strict=True) if d.entry_id}
    assert set(got) == set(expected)  # the same decisions; cosines agree to float32 rounding
    assert all(abs(got[key][0] - expected[key][0]) < 1e-5 and abs(got[key][1] - expected[key][1]) < 1e-5
               for key in got)
    assert {key[1] for key in got} >= {"bags", "dogs", "refund"}  # the test exercises every path


def test_warm_coverage_prints_what_cold_coverage_printed(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?")
    rows = [{"id": str(i), "timestamp": "2026-10-01T00:00:00Z", "query": q or "x", "is_bad": i % 2 == 0}
            for i, q in enumerate(QUERIES)]
    logs = repo / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    cold = run("coverage", "--logs", "logs.jsonl", "--format", "json")
    assert list((repo / ".remedy" / "logs").glob("*.parquet"))
    warm = run("coverage", "--logs", "logs.jsonl", "--format", "json")
    assert cold.exit_code == warm.exit_code == 0
    assert warm.stdout == cold.stdout
    assert warm.stderr == cold.stderr
    assert "logs.jsonl:18: not valid JSON" in warm.stderr

    with logs.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "new", "timestamp": "2026-10-02T00:00:00Z", "query": "baggage?"}) + "\n")
    changed = json.loads(run("coverage", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert changed["logs"]["total"] == json.loads(cold.stdout)["logs"]["total"] + 1


def _attribution_tables(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, list[tuple]]:
    """Every output of `attribute_logs` in a fixed order (partials merged, as every reader sums them)."""
    return {"decisions": con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall(),
            "rows": con.execute(f"SELECT * FROM {table}__rows ORDER BY ALL").fetchall(),
            **{name: con.execute(f"SELECT * FROM ({merge_sql(name, table)}) ORDER BY ALL").fetchall()
               for name in MERGE_SQL}}


def test_warm_attribution_runs_over_all_rows_at_once_and_equals_cold(repo: Path, monkeypatch) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", extra="also_matches:\n  - how heavy can my bag be\n")
    write_answer(repo, "dogs", "Can I bring my dog on the plane?", status="draft")
    write_answer(repo, "refund", "How do I get a refund?", extra="threshold: 0.2\n")
    write_answer(repo, "pets", "Can my pet travel in the cabin?", status="paused",
                 extra="activated: 2026-09-01T00:00:00Z\n")
    rows = [{"id": str(i), "timestamp": f"2026-10-{1 + i % 9:02d}T00:00:00Z", "query": QUERIES[i * 7 % len(QUERIES)]
             or "x", "is_bad": i % 3 == 0, "served_remediation": "bags" if i % 5 == 0 else None} for i in range(60)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(cwd=repo)
    matcher = build_matcher(load_folder(config.remediations_dir).remediations, config)
    logs = read_logs(["logs.jsonl"], connection=duckdb.connect())
    recalled: list[bool] = []
    recall = AttributionStep.recall

    def recording(self: AttributionStep, queries) -> bool:
        recalled.append(recall(self, queries))
        return recalled[-1]

    monkeypatch.setattr(AttributionStep, "recall", recording)

    attribute_logs(logs, matcher, table="plain", part_size=7, rows=True)  # no decision cache at all
    attribute_logs(logs, matcher, table="cold", part_size=7, rows=True, cache_dir=config.cache_dir)
    assert recalled == []  # nothing cached yet: the sorted path
    stats = attribute_logs(logs, matcher, table="warm", part_size=7, rows=True, cache_dir=config.cache_dir)
    assert recalled == [True]  # every query known: nothing decided, every output one SQL over all rows
    assert stats.distinct_queries == logs.connection.execute(
        "SELECT count(DISTINCT normalized_query) FROM logs").fetchone()[0]
    plain = _attribution_tables(logs.connection, "plain")
    assert plain["decisions"] and plain["rows"]
    assert _attribution_tables(logs.connection, "cold") == plain
    assert _attribution_tables(logs.connection, "warm") == plain

    # A new query among known ones: the sorted path again, deciding only the new one, as without `recall`
    # (the batches looking the known ones up in the cache themselves), on a copy of the same cache.
    with (repo / "logs.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "new", "timestamp": "2026-10-09T00:00:00Z",
                                 "query": "my refund is late"}) + "\n")
    logs = read_logs(["logs.jsonl"], connection=duckdb.connect())
    attribute_logs(logs, matcher, table="plain", part_size=7, rows=True)
    shutil.copytree(config.cache_dir, repo / "copy")
    attribute_logs(logs, matcher, table="partly", part_size=7, rows=True, cache_dir=config.cache_dir)
    assert recalled == [True, False]
    monkeypatch.setattr(AttributionStep, "recall", lambda self, queries: False)
    attribute_logs(logs, matcher, table="before", part_size=7, rows=True, cache_dir=repo / "copy")
    partly = _attribution_tables(logs.connection, "partly")
    assert partly == _attribution_tables(logs.connection, "before")
    assert any(row[0] == "my refund is late" for row in partly["decisions"])

    # A damaged decision file: the look-up finds nothing, everything is decided again, nothing breaks.
    for path in (config.cache_dir / "decisions").rglob("*.parquet"):
        path.write_bytes(b"not parquet")
    monkeypatch.setattr(AttributionStep, "recall", recording)
    attribute_logs(logs, matcher, table="damaged", part_size=7, rows=True, cache_dir=config.cache_dir)
    assert recalled == [True, False, False]
    assert _attribution_tables(logs.connection, "damaged") == _attribution_tables(logs.connection, "plain")


def test_warm_coverage_writes_the_attributions_cold_coverage_wrote(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?")
    write_answer(repo, "refund", "How do I get a refund?", extra="threshold: 0.2\n")
    rows = [{"id": str(i), "timestamp": "2026-10-01T00:00:00Z", "query": QUERIES[i % len(QUERIES)] or "x",
             "is_bad": i % 2 == 0} for i in range(40)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cold = run("coverage", "--logs", "logs.jsonl", "--format", "json", "--attributions", "cold.jsonl")
    warm = run("coverage", "--logs", "logs.jsonl", "--format", "json", "--attributions", "warm.jsonl")
    assert cold.exit_code == warm.exit_code == 0
    assert warm.stdout == cold.stdout
    assert (repo / "cold.jsonl").read_bytes() == (repo / "warm.jsonl").read_bytes() != b""


def test_warm_extra_partials_equal_the_batches_sums(repo: Path) -> None:
    """The callers' own partials (coverage's serves, the report's slices) come out of the whole-log SQL as
    the batches' sums did."""
    write_answer(repo, "bags", "What is the baggage allowance?", extra="activated: 2026-09-01T00:00:00Z\n")
    rows = [{"id": str(i), "timestamp": f"2026-10-{1 + i % 9:02d}T00:00:00Z", "query": QUERIES[i % len(QUERIES)]
             or "x", "is_bad": i % 2 == 0, "served_remediation": "bags" if i % 4 == 0 else None} for i in range(50)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(cwd=repo)
    matcher = build_matcher(load_folder(config.remediations_dir).remediations, config)
    logs = read_logs(["logs.jsonl"], connection=duckdb.connect())
    partials = coverage_partials()
    for table in ("cold", "warm"):
        attribute_logs(logs, matcher, table=table, part_size=7, cache_dir=config.cache_dir, partials=partials)
    sums = {table: logs.connection.execute(
        f"SELECT remediation_id, normalized_query, source, sum(serves), sum(failing) "
        f"FROM {table}__{SERVES_PARTIAL} GROUP BY ALL ORDER BY ALL").fetchall() for table in ("cold", "warm")}
    assert sums["cold"] and sums["warm"] == sums["cold"]
    assert {row[2] for row in sums["cold"]} == {"served", "inferred"}
