"""The Ray engine gives the local engine's results: same coverage, attribution rows, issues and report.

One local Ray instance (num_cpus=2) serves the whole session (starting it is most of the time). The
logs are the project's fixture export split into a JSONL file and a Parquet file, with a malformed
line; the remediations are the demo folder, so answers, guidance and reviews of every status are
attributed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 1024 * 1024)
    yield
    ray.shutdown()


@pytest.fixture
def demo(repo: Path) -> Path:
    shutil.rmtree(repo / "remediations")
    shutil.copytree(ROOT / "remediations", repo / "remediations")
    lines = (ROOT / "fixtures" / "logs.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    folder = repo / "exports"
    folder.mkdir()
    (folder / "first.jsonl").write_text("".join(lines[:900]) + "{broken\n", encoding="utf-8")
    (repo / "rest.jsonl").write_text("".join(lines[900:]), encoding="utf-8")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_json('{repo / 'rest.jsonl'}')) TO '{folder / 'rest.parquet'}' "
                "(FORMAT parquet)")
    (repo / "rest.jsonl").unlink()
    return repo


def test_ray_engine_equals_local_engine(demo: Path, run, ray_instance: None) -> None:
    local = run("coverage", "--logs", "exports", "--format", "json", "--attributions", "local.jsonl")
    distributed = run("coverage", "--logs", "exports", "--format", "json", "--engine", "ray",
                      "--attributions", "ray.jsonl")
    assert local.exit_code == distributed.exit_code == 0, distributed.stderr
    assert distributed.stdout.strip(), distributed.stderr
    assert json.loads(distributed.stdout) == json.loads(local.stdout)
    report = json.loads(local.stdout)
    assert report["logs"]["total"] > 2000 and report["logs"]["skipped_lines"] == 1
    assert report["logs"]["addressed_failures"] > 0 and report["preventions_source"] == "served_remediation"
    rows = [(demo / name).read_text(encoding="utf-8").splitlines() for name in ("local.jsonl", "ray.jsonl")]
    assert len(rows[0]) > 100
    assert sorted(rows[1]) == sorted(rows[0])  # the same attribution rows (order: file and line locally)
    assert "first.jsonl:901: not valid JSON" in distributed.stderr and "first.jsonl:901: not valid JSON" in local.stderr



@pytest.mark.parametrize("window", [(), ("--since", "2026-10-15T06:30", "--until", "2026-11-20T18:00")],
                         ids=["whole export", "period with times of day"])
def test_ray_report_equals_local_report(demo: Path, run, ray_instance: None, window: tuple[str, ...]) -> None:
    # the report's typed data: headline against the previous period, buckets, root causes, remediations,
    # the queue with its drafts (their spellings count non-failure logs: Ray's second pass) and near misses
    local = run("report", "--logs", "exports", "--format", "json", *window)
    distributed = run("report", "--logs", "exports", "--format", "json", "--engine", "ray", *window)
    assert local.exit_code == distributed.exit_code == 0, distributed.stderr
    assert distributed.stdout.strip(), distributed.stderr
    assert json.loads(distributed.stdout) == json.loads(local.stdout)
    data = json.loads(local.stdout)
    assert data["queue"] and data["over_time"] and data["root_causes"]
    # near misses (just under the threshold) on the whole export; the window's failures have none
    assert data["matching"]["near_misses"] or window
    assert data["headline"][0]["value"] > 500 and sum(r["preventions"] for r in data["remediations"]) > 0
    assert (data["previous"] is not None) == bool(window)
    assert data["skipped_lines"] == 1


def test_a_scaffold_draft_addresses_nothing_on_either_engine(demo: Path, run, ray_instance: None) -> None:
    # the addressed totals come from the step's partials (coverage's by_day, the report's slices): the
    # step knows a TODO draft on a Ray worker as it does locally
    before = json.loads(run("coverage", "--logs", "exports", "--format", "json").stdout)
    path = demo / "remediations" / "answers" / "lost-item-on-plane.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Items found on board", "TODO: items found on board"),
                    encoding="utf-8")
    results = {}
    for command in ("coverage", "report"):
        local = run(command, "--logs", "exports", "--format", "json")
        distributed = run(command, "--logs", "exports", "--format", "json", "--engine", "ray")
        assert local.exit_code == distributed.exit_code == 0, distributed.stderr
        results[command] = json.loads(local.stdout)
        assert json.loads(distributed.stdout) == results[command], command
    after = results["coverage"]
    shares = {m["key"]: m["value"] for m in results["report"]["headline"]}
    assert shares["addressed_share"] == after["addressed_share"] < before["addressed_share"]
    lost = next(r for r in after["remediations"] if r["id"] == "lost-item-on-plane")
    assert lost["covered_failures"] > 0  # its row still counts what its question matches
    assert 0 < before["logs"]["addressed_failures"] - after["logs"]["addressed_failures"] <= lost["covered_failures"]
    assert after["by_status"]["active"] == before["by_status"]["active"]


def test_report_engine_usage(demo: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("report", "--logs", "exports", "--format", "json", "--ray-address", "auto").exit_code == 2
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    result = run("report", "--logs", "exports", "--format", "json", "--engine", "ray")
    assert result.exit_code == 2
    assert "pip install 'remedy-sme[ray]'" in result.stderr and not result.stdout


def test_the_issue_queue_does_not_depend_on_the_order_of_the_rows(demo: Path, run) -> None:
    # the Ray driver receives failure logs in whatever order workers finish: the same rows in another
    # order must give the same queue (impact sums, ties, the newest log, spellings)
    forward = run("issues", "--logs", "exports", "--format", "json", "--top", "0")
    lines = (demo / "exports" / "first.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (demo / "exports" / "first.jsonl").write_text("".join(reversed(lines[:-1])) + lines[-1], encoding="utf-8")
    backward = run("issues", "--logs", "exports", "--format", "json", "--top", "0")
    assert forward.exit_code == backward.exit_code == 0, backward.stderr
    assert json.loads(backward.stdout) == json.loads(forward.stdout)


def test_ray_issue_queue_equals_local(demo: Path, run, ray_instance: None) -> None:
    issues_local = run("issues", "--logs", "exports", "--format", "json", "--top", "0")
    issues_ray = run("issues", "--logs", "exports", "--format", "json", "--top", "0", "--engine", "ray")
    assert issues_local.exit_code == issues_ray.exit_code == 0, issues_ray.stderr
    assert issues_ray.stdout.strip() and issues_local.stdout.strip(), (issues_local.stderr, issues_ray.stderr)
    assert json.loads(issues_ray.stdout) == json.loads(issues_local.stdout)
    assert json.loads(issues_local.stdout)["issues"]


def test_ray_reads_hive_partitions_and_strict_refuses(demo: Path, run, ray_instance: None) -> None:
    partition = demo / "partitioned" / "date=2026-11-30"
    partition.mkdir(parents=True)
    shutil.copy(demo / "exports" / "rest.parquet", partition / "part-0.parquet")
    found = json.loads(run("coverage", "--logs", "partitioned", "--format", "json", "--engine", "ray").stdout)
    flat = json.loads(run("coverage", "--logs", "exports/rest.parquet", "--format", "json").stdout)
    assert found == flat

    strict = run("coverage", "--logs", "exports", "--engine", "ray", "--strict")
    assert strict.exit_code == 2
    assert "first.jsonl:901: not valid JSON (--strict)" in strict.stderr  # the line, as the local engine says


def test_a_hive_partitioned_folder_gives_the_same_results_on_both_engines(demo: Path, run,
                                                                         ray_instance: None) -> None:
    # exports/date=…/ nested folders of JSON lines and Parquet, with Spark's `_SUCCESS` and `_temporary/`;
    # a partition (`served=…/`) fills a mapped field the rows lack, on both engines
    hive = demo / "hive"
    (hive / "date=2026-11-29").mkdir(parents=True)
    served = hive / "date=2026-11-30" / "served=cabin-bag-size"
    served.mkdir(parents=True)
    shutil.copy(demo / "exports" / "first.jsonl", hive / "date=2026-11-29" / "part-0.jsonl")
    shutil.copy(demo / "exports" / "rest.parquet", served / "part-0.parquet")
    (hive / "_SUCCESS").write_text("")
    (hive / "_temporary" / "0").mkdir(parents=True)
    shutil.copy(demo / "exports" / "first.jsonl", hive / "_temporary" / "0" / "part-0.jsonl")
    (demo / "remedy.toml").write_text('[logs]\nserved_remediation = "served"\n', encoding="utf-8")

    local = run("coverage", "--logs", "hive", "--format", "json", "--attributions", "local.jsonl")
    distributed = run("coverage", "--logs", "hive", "--format", "json", "--engine", "ray",
                      "--attributions", "ray.jsonl")
    assert local.exit_code == distributed.exit_code == 0, (local.stderr, distributed.stderr)
    assert json.loads(distributed.stdout) == json.loads(local.stdout)
    report = json.loads(local.stdout)
    assert report["logs"]["total"] == 2600 and report["logs"]["skipped_lines"] == 1  # not _temporary/'s copy
    bag = next(row for row in report["remediations"] if row["id"] == "cabin-bag-size")
    assert bag["preventions"] > 0  # from the partition: the JSON lines have no `served` field
    rows = [(demo / name).read_text(encoding="utf-8").splitlines() for name in ("local.jsonl", "ray.jsonl")]
    assert len(rows[0]) > 100 and sorted(rows[1]) == sorted(rows[0])
    assert "hive/date=2026-11-29/part-0.jsonl:901: not valid JSON" in local.stderr
    assert "hive/date=2026-11-29/part-0.jsonl:901: not valid JSON" in distributed.stderr

    issues = [run("issues", "--logs", "hive", "--format", "json", "--top", "0", *engine)
              for engine in ((), ("--engine", "ray"))]
    assert issues[0].exit_code == issues[1].exit_code == 0, issues[1].stderr
    assert json.loads(issues[1].stdout) == json.loads(issues[0].stdout) and json.loads(issues[0].stdout)["issues"]


def test_without_ray_the_engine_says_how_to_install_it(demo: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    result = run("coverage", "--logs", "exports", "--engine", "ray")
    assert result.exit_code == 2
    assert "pip install 'remedy-sme[ray]'" in result.stderr
    assert run("coverage", "--logs", "exports", "--engine", "spark").exit_code == 2


def test_the_local_engine_never_imports_ray(demo: Path) -> None:
    script = ("import sys; from remedy.commands.app import app\n"
              "try:\n    app(['coverage', '--logs', 'exports', '--format', 'json'])\n"
              "except SystemExit as stop:\n    assert not stop.code, stop.code\n"
              "assert 'ray' not in sys.modules, 'the local engine imported ray'\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=demo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["logs"]["total"] > 2000


def test_a_worker_sends_each_decision_once() -> None:
    # blocks are not ordered by query: a worker sends a query's decisions with the first block that holds
    # it, and after forgetting (its bound) sends them again, a duplicate the driver drops
    import pyarrow as pa

    import remedy.analytics.ray_engine as ray_engine
    from remedy.analytics.step import DECISIONS_SCHEMA

    def block(*rows: tuple[str, str, str]) -> pa.Table:
        return pa.Table.from_pylist([{"normalized_query": q, "remediation_id": r, "kind": "answer", "role": role,
                                      "similarity": 0.9, "margin": 0.1} for q, r, role in rows],
                                    schema=DECISIONS_SCHEMA)

    sent = ray_engine._SentDecisions(duckdb.connect())
    first = sent.unsent(block(("refund", "a", "active"), ("refund", "a", "ever_active"), ("bags", "b", "draft")))
    assert first.schema == DECISIONS_SCHEMA and first.num_rows == 3
    second = sent.unsent(block(("refund", "a", "active"), ("refund", "a", "ever_active"), ("seat", "c", "active")))
    assert second.to_pylist() == block(("seat", "c", "active")).to_pylist()
    assert sent.unsent(block()).num_rows == 0
    sent.size = ray_engine._SENT_LIMIT + 1  # past the bound: forgotten, sent again
    assert sent.unsent(block(("refund", "a", "active"))).num_rows == 1
    assert sent.unsent(block(("refund", "a", "active"))).num_rows == 0
