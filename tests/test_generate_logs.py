"""The demo log generator (fixtures/generate_logs.py) and the committed fixtures it produced."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "fixtures" / "generate_logs.py"
REMEDIATIONS = ROOT / "remediations"
ISSUES = {"hallucination", "search_failure", "unhelpful", "difficult_query", "other"}
SCORE_FOR_ISSUE = {
    "hallucination": "trustworthiness",
    "search_failure": "context_sufficiency",
    "unhelpful": "response_helpfulness",
    "difficult_query": "query_ease",
}
HOSTED = {
    "query": "question",
    "is_bad": "is_bad_response",
    "scores": "eval_scores",
    "primary_issue": "primary_eval_issue",
    "served_remediation": "applied_expert_answer_id",
}


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_logs", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def answers() -> dict[str, dict]:
    out = {}
    for path in (REMEDIATIONS / "answers").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[doc["id"]] = doc
    return out


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True, check=True
    )


def rows_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def generate_text(gen: ModuleType, rows: int, seed: int, shape: str = "remedy") -> str:
    out = io.StringIO()
    gen.generate(rows, seed, shape, gen.load_remediations(REMEDIATIONS), out)
    return out.getvalue()


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def activated(doc: dict) -> datetime:
    value = doc["activated"]
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_time(str(value))


def test_same_seed_gives_identical_bytes_and_other_seeds_differ(tmp_path: Path) -> None:
    run(tmp_path, "--rows", "3000", "--seed", "5", "--out", "a.jsonl")
    run(tmp_path, "--rows", "3000", "--seed", "5", "--out", "b.jsonl")
    run(tmp_path, "--rows", "3000", "--seed", "6", "--out", "c.jsonl")
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.jsonl", "b.jsonl", "c.jsonl"))
    assert a == b
    assert a != c


def test_writes_the_requested_rows_with_a_one_line_summary(tmp_path: Path) -> None:
    result = run(tmp_path, "--rows", "1234", "--seed", "1", "--out", "sub/logs.jsonl")
    lines = (tmp_path / "sub" / "logs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1234
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "1234 rows" in result.stderr
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["logs.jsonl"]  # no temp file left


def test_zero_rows_writes_an_empty_file(tmp_path: Path) -> None:
    run(tmp_path, "--rows", "0", "--seed", "1", "--out", "empty.jsonl")
    assert (tmp_path / "empty.jsonl").read_bytes() == b""


def test_rows_follow_the_log_schema(gen: ModuleType, answers: dict[str, dict]) -> None:
    rows = rows_of(generate_text(gen, 5000, 3))
    ids = [r["id"] for r in rows]
    assert ids[0] == "log-000001" and len(set(ids)) == len(ids)
    times = [parse_time(r["timestamp"]) for r in rows]
    assert times == sorted(times)
    assert datetime(2026, 8, 1, tzinfo=timezone.utc) <= times[0]
    assert times[-1] <= datetime(2026, 11, 21, tzinfo=timezone.utc)
    for row, when in zip(rows, times, strict=True):
        assert isinstance(row["query"], str) and row["query"]
        assert isinstance(row["response"], str)
        if "context" in row:
            assert isinstance(row["context"], (str, list))
        for value in (row.get("scores") or {}).values():
            assert 0.0 <= value <= 1.0
        assert isinstance(row.get("is_bad", False), bool)
        assert isinstance(row.get("guardrailed", False), bool)
        assert row.get("primary_issue", "other") in ISSUES
        assert 0.0 <= row.get("severity", 0.0) <= 1.0
        assert set(row["metadata"]) == {"channel", "locale", "session_id"}
        served = row.get("served_remediation")
        if served is not None:
            doc = answers[served]
            assert doc["status"] in ("active", "paused")
            assert when >= activated(doc)
    share = sum("is_bad" in r for r in rows) / len(rows)
    assert 0.65 < share < 0.75
    share = sum("served_remediation" in r for r in rows) / len(rows)
    assert 0.75 < share < 0.85


def test_failure_scores_agree_with_the_primary_issue(gen: ModuleType) -> None:
    rows = rows_of(generate_text(gen, 5000, 4))
    failures = 0
    for row in rows:
        scores = row.get("scores") or {}
        issue = row.get("primary_issue")
        if row.get("is_bad") is False:
            assert not scores or min(scores.values()) >= 0.5
            assert row.get("guardrailed") is not True
        if issue in SCORE_FOR_ISSUE and SCORE_FOR_ISSUE[issue] in scores:
            assert scores[SCORE_FOR_ISSUE[issue]] < 0.5
        failing = row.get("is_bad")
        if failing is None:  # the tool's rule: lowest score below the cutoff, else guardrailed
            failing = (bool(scores) and min(scores.values()) < 0.5) or bool(row.get("guardrailed"))
        failures += bool(failing)
    assert 0.25 < failures / len(rows) < 0.38


def test_about_a_quarter_of_queries_are_distinct(gen: ModuleType) -> None:
    rows = rows_of(generate_text(gen, 20000, 9))
    distinct = len({r["query"] for r in rows}) / len(rows)
    assert 0.18 < distinct < 0.33


def test_gz_suffix_writes_gzip_of_the_same_lines(tmp_path: Path) -> None:
    run(tmp_path, "--rows", "800", "--seed", "2", "--out", "logs.jsonl.gz")
    run(tmp_path, "--rows", "800", "--seed", "2", "--out", "logs.jsonl")
    packed = (tmp_path / "logs.jsonl.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == (tmp_path / "logs.jsonl").read_bytes()


def test_hosted_shape_renames_the_evaluator_fields(gen: ModuleType) -> None:
    plain = rows_of(generate_text(gen, 400, 11))
    hosted = rows_of(generate_text(gen, 400, 11, shape="hosted"))
    for ours, theirs in zip(plain, hosted, strict=True):
        renamed = {HOSTED.get(k, k): v for k, v in ours.items()}
        assert renamed == theirs
    keys = set().union(*hosted)
    assert {"question", "is_bad_response", "eval_scores", "primary_eval_issue", "applied_expert_answer_id"} <= keys
    assert not keys & {"query", "is_bad", "scores", "primary_issue", "served_remediation"}


def test_committed_fixtures_agree_with_the_remediations(answers: dict[str, dict]) -> None:
    rows = rows_of((ROOT / "fixtures" / "logs.jsonl").read_text(encoding="utf-8"))
    assert 2500 <= len(rows) <= 3000
    by_id = {r["id"]: r for r in rows}
    served = [r for r in rows if r.get("served_remediation")]
    assert served
    for row in served:
        doc = answers[row["served_remediation"]]
        assert doc["status"] in ("active", "paused")
        assert parse_time(row["timestamp"]) >= activated(doc)
    for path in REMEDIATIONS.rglob("*.yaml"):
        for log_id in yaml.safe_load(path.read_text(encoding="utf-8")).get("source_logs") or []:
            assert log_id in by_id, f"{path.name}: {log_id} is not in fixtures/logs.jsonl"
    hosted = rows_of((ROOT / "fixtures" / "hosted_export.jsonl").read_text(encoding="utf-8"))
    assert len(hosted) == 300
    assert all("question" in r and "query" not in r for r in hosted)
