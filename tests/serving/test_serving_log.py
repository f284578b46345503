"""The serving log: remedy's log format under the project's field names, read back by remedy's log reader."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.logs.reading import read_logs
from remedy.logs.settings import LogSettings
from remedy.serving.serving_log import ServingLog, log_file_name, log_record

AT = datetime.datetime(2026, 12, 1, 23, 59, 59, 123456, tzinfo=datetime.timezone.utc)


def decision(query: str, answer: str | None = "refund", review: dict | None = None) -> dict:
    return {"query": query, "answer": {"id": answer, "similarity": 0.9123} if answer else None,
            "guidance": [{"id": "tone"}], "review": review}


def test_a_record_carries_the_decision() -> None:
    review = {"id": "bad-refund", "verdict": "bad", "applies": True}
    row = log_record(decision("q", review=review), log_id="abc", at=AT, response="r", revision="f00")
    assert row == {"id": "abc", "timestamp": "2026-12-01T23:59:59.123Z", "query": "q", "response": "r",
                   "served_remediation": "refund",
                   "metadata": {"source": "remedy serve", "similarity": 0.9123, "guidance": ["tone"],
                                "review": "bad", "review_id": "bad-refund", "revision": "f00"}}
    unapplied = log_record(decision("q", answer=None, review={**review, "applies": False}), log_id="x", at=AT,
                           response=None, revision=None)
    assert "response" not in unapplied and unapplied["served_remediation"] is None
    assert unapplied["metadata"]["review"] is None and unapplied["metadata"]["review_id"] == "bad-refund"


def test_lines_use_the_projects_field_names_and_read_back(tmp_path: Path) -> None:
    hosted = LogSettings.from_config({"preset": "hosted"})
    serving_log = ServingLog(tmp_path)
    first = serving_log.append(decision("can i get a refund"), response="Yes.", revision=None, at=AT,
                               fields=hosted.fields)
    second = serving_log.append(decision("hello", answer=None), response=None, revision=None, at=AT,
                                fields=hosted.fields)
    path = tmp_path / log_file_name(AT.date())
    assert path.name == "serve-2026-12-01.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [first, second]
    assert lines[0]["question"] == "can i get a refund" and lines[0]["applied_expert_answer_id"] == "refund"
    logs = read_logs([str(tmp_path)], hosted, strict=True)
    rows = logs.connection.execute(f"SELECT log_id, query, served_remediation, is_failure, ts FROM {logs.table} "
                                   "ORDER BY line_number").fetchall()
    assert [(row[0], row[1], row[2], row[3]) for row in rows] == [
        (first, "can i get a refund", "refund", False), (second, "hello", None, False)]
    assert rows[0][4] == datetime.datetime(2026, 12, 1, 23, 59, 59, 123000)


def test_a_write_failure_is_counted_not_raised(tmp_path: Path) -> None:
    serving_log = ServingLog(tmp_path / "missing")
    assert serving_log.append(decision("q"), response=None, revision=None) is None
    assert serving_log.errors == 1 and "serve-" in (serving_log.last_error or "")


@settings(max_examples=60, deadline=None)
@given(query=st.text(), response=st.none() | st.text())
def test_any_text_makes_one_line_that_parses_back(tmp_path_factory, query: str, response: str | None) -> None:
    folder = tmp_path_factory.mktemp("log")
    query = query.encode("utf-8", "replace").decode("utf-8")  # the server replaces lone surrogates first
    response = response.encode("utf-8", "replace").decode("utf-8") if response is not None else None
    log_id = ServingLog(folder).append(decision(query), response=response, revision=None, at=AT)
    data = (folder / log_file_name(AT.date())).read_bytes()
    assert data.count(b"\n") == 1 and data.endswith(b"\n")
    line = json.loads(data)
    assert line["id"] == log_id and line["query"] == query and line.get("response") == response
