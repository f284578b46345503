"""The one encoder: typed results to JSON, rows and headline totals."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from remedy.json_fields import JSON_NAME, OMIT_NONE
from remedy.report.tables import View, json_document, plain, render


@dataclass(frozen=True)
class Row:
    id: str
    seen: dt.datetime | None
    scores: dict[str, float]
    from_: str = field(default="file", metadata={JSON_NAME: "from"})
    extra: str | None = field(default=None, metadata={OMIT_NONE: True})


@dataclass(frozen=True)
class Result:
    total: int
    rows: tuple[Row, ...]
    path: Path = Path("remediations/a.yaml")


RESULT = Result(2, (Row("a", dt.datetime(2026, 8, 21, 18, 55, 45), {"trust": 0.5}),
                    Row("b", None, {"trust": float("nan")}, extra="x")))
VIEW = View(rows="rows", columns=("id", "seen", "from"), headline=lambda r: f"{r.total} rows")


def test_json_is_the_whole_result_nested_with_z_times() -> None:
    document = json.loads(json_document(RESULT))
    assert document == {"total": 2, "path": "remediations/a.yaml", "rows": [
        {"id": "a", "seen": "2026-08-21T18:55:45Z", "scores": {"trust": 0.5}, "from": "file"},
        {"id": "b", "seen": None, "scores": {"trust": None}, "from": "file", "extra": "x"}]}
    assert render(RESULT, "json", VIEW) == json_document(RESULT)


def test_tables_show_the_rows_then_the_totals_and_csv_only_the_rows() -> None:
    table = render(RESULT, "table", VIEW)
    assert table.splitlines() == ["id  seen                  from", "a   2026-08-21T18:55:45Z  file",
                                  "b                         file", "", "2 rows"]
    assert render(RESULT, "markdown", VIEW).endswith("| b |  | file |\n\n2 rows\n")
    assert render(RESULT, "csv", VIEW) == "id,seen,from\na,2026-08-21T18:55:45Z,file\nb,,file\n"


@given(st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1),
                    timezones=st.one_of(st.none(), st.timezones())))
def test_any_time_is_written_as_utc_with_z_and_reads_back_as_the_same_instant(moment: dt.datetime) -> None:
    written = plain(moment)
    assert written.endswith("Z") and "+" not in written
    back = dt.datetime.fromisoformat(written[:-1]).replace(tzinfo=dt.timezone.utc)
    expected = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    # Compared in UTC: PEP 495 makes an inter-zone == False for a local time in a DST gap or fold
    # (hypothesis found 2016-09-25 03:00 Pacific/Chatham), though it names one instant.
    assert back == expected.astimezone(dt.timezone.utc)
