"""remedy.analytics' DataFrames give the CLI's numbers, typed, and the CLI never imports polars."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from remedy.analytics import attributions_frame, coverage_frame, issues_frame, load
from remedy.commands.app import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("frames")
    shutil.copytree(ROOT / "remediations", project / "remediations")
    shutil.copy(ROOT / "fixtures" / "logs.jsonl", project / "logs.jsonl")
    return project


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def iso(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(column).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_frames_hold_the_numbers_the_commands_print(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demo)
    analysis = load("logs.jsonl")

    coverage = coverage_frame(analysis)
    assert coverage.schema["covered_failures"] == pl.Int64
    assert coverage.schema["last_prevention"] == pl.Datetime("us", "UTC")
    printed = cli_json("coverage", "--logs", "logs.jsonl")["remediations"]
    assert iso(coverage, "last_prevention").to_dicts() == printed
    drafts = coverage_frame(analysis, status="draft", kind="answer")
    assert drafts["id"].to_list() == [r["id"] for r in printed if (r["status"], r["kind"]) == ("draft", "answer")]

    attributed = attributions_frame(analysis)
    assert attributed.columns == ["log_id", "timestamp", "query", "is_failure", "severity", "primary_issue",
                                  "remediation_id", "kind", "status", "similarity"]
    per_entry = attributed.group_by("remediation_id").len()
    assert dict(per_entry.iter_rows()) == {r["id"]: r["covered_logs"] for r in printed if r["covered_logs"]}
    assert attributed.filter(pl.col("is_failure"))["remediation_id"].value_counts().height > 0

    issues = issues_frame(analysis, top=5)
    shown = cli_json("issues", "--logs", "logs.jsonl", "--top", "5")["issues"]
    assert issues.select("rank", "id", "size", "impact", "state").to_dicts() == \
        [{key: issue[key] for key in ("rank", "id", "size", "impact", "state")} for issue in shown]
    assert issues["log_ids"].to_list() == [issue["log_ids"] for issue in shown]
    assert iso(issues, "first_seen")["first_seen"].to_list() == [issue["first_seen"] for issue in shown]
    assert issues_frame(analysis, half_life="inf", states="all").height >= issues_frame(analysis).height > 5


def test_a_frame_reads_log_paths_itself(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demo)
    frame = coverage_frame(["logs.jsonl"])
    assert frame.height == len(list((demo / "remediations").rglob("*.yaml")))
    since = coverage_frame(load("logs.jsonl", since="2026-11-01"))
    assert since["covered_logs"].sum() < frame["covered_logs"].sum()


def test_the_cli_does_not_import_polars() -> None:
    code = ("import sys; from remedy.commands.app import app; import remedy.analytics.coverage, "
            "remedy.analytics.issue_queue; print('polars' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
