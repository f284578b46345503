"""The one output encoder: typed results (frozen dataclasses) as JSON, or their rows as a table, CSV or Markdown.

Every reporting command hands its core function's result to `render` with a `View` that says which
field holds the rows, which columns a table shows and what the headline totals are. JSON is the whole
result, written by `json_document` and nowhere else, so every command writes timestamps the same way
(ISO 8601 UTC with `Z`), keeps nested data nested and never writes NaN. Tables, CSV and Markdown show
the rows; tables and Markdown end with the headline totals (CSV stays one table a spreadsheet reads, and
no cell of it runs as a formula: `csv_cell`).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import io
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from remedy.control_characters import visible
from remedy.json_fields import JSON_NAME, OMIT_NONE  # the field metadata keys the encoder reads
from remedy.report.markdown_text import markdown_text

FORMATS = ("table", "json", "csv", "markdown")


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: dataclasses field by field (their `@property`s are not data), datetimes
    as ISO 8601 UTC with Z (a naive datetime is UTC: DuckDB's TIMESTAMP), dates as ISO dates, paths and
    other objects as text, tuples as lists, and a float that is not finite as None."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {str(key): plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return iso_z(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        document = {}
        for name, json_name, omit_none in _fields(kind):  # type: ignore[arg-type]  # a class is hashable
            item = getattr(value, name)
            if item is None and omit_none:
                continue
            document[json_name] = plain(item)
        return document
    if isinstance(value, float):  # numpy's float64 is a float too
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [plain(item) for item in items]
    if isinstance(value, PurePath):
        return value.as_posix()
    return str(value)


_AS_IS = frozenset({type(None), bool, int, str})


@functools.cache
def _fields(kind: type) -> tuple[tuple[str, str, bool], ...]:
    """A dataclass' (name, JSON name, omitted when None) per field, looked up once per class."""
    return tuple((field.name, field.metadata.get(JSON_NAME, field.name), bool(field.metadata.get(OMIT_NONE)))
                 for field in dataclasses.fields(kind))


def iso_z(moment: datetime.datetime) -> str:
    """ISO 8601 UTC with Z: `2026-08-21T18:55:45Z` (an aware time is converted to UTC first)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def json_document(document: Any, *, compact: bool = False) -> str:
    """The one way remedy writes JSON: `plain(document)` indented (one line when `compact`, as the server
    answers), UTF-8, and never NaN or Infinity (not JSON: a parser rejects them) - a similarity that is
    not a finite number is written as null."""
    if compact:
        return json.dumps(plain(document), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return json.dumps(plain(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(frozen=True)
class View:
    """How a result shows as rows: the field holding them, the columns, the headline totals.

    `cells` turns one row into the cells a table shows (default: the row's JSON); `headline` the
    totals printed under a table or Markdown (None: none); `text` replaces the rows altogether for a
    result that is no table (`remedy issue N`, `remedy match`) in the table and Markdown formats.
    """

    rows: str = ""
    columns: tuple[str, ...] = ()
    headline: Callable[[Any], str] | None = None
    cells: Callable[[Any], Mapping[str, Any]] | None = None
    text: Callable[[Any, str], str] | None = None


def render(result: Any, fmt: str, view: View) -> str:
    """`result` in `fmt`: json (the whole result), csv (its rows), table or markdown (rows, then totals)."""
    if fmt == "json":
        return json_document(result)
    if view.text is not None and fmt != "csv":
        return view.text(result, fmt)
    rows = [dict(view.cells(row)) if view.cells else plain(row) for row in getattr(result, view.rows)]
    text = render_rows(rows, view.columns, fmt)
    if fmt == "csv" or view.headline is None:
        return text
    headline = view.headline(result)
    return text + (f"\n{headline}\n" if headline else "")


def render_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str, *, key: str = "rows",
                extra: Mapping[str, Any] | None = None) -> str:
    """`rows` in the chosen format; JSON is `{**extra, key: rows}` so scripts get a stable document."""
    if fmt == "json":
        return json_document({**(extra or {}), key: list(rows)})
    rows = [plain(row) for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({column: csv_cell(row.get(column)) for column in columns} for row in rows)
        return buffer.getvalue()
    # One cell, one line: a newline or tab inside a query would break the table's layout.
    cells = [[visible(_cell(row.get(column)), one_line=True) for column in columns] for row in rows]
    if fmt == "markdown":  # cells hold queries, answers, names: text, never Markdown (report/markdown_text.py)
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
        lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    widths = [max([len(column), *(len(row[index]) for row in cells)]) for index, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


# A spreadsheet runs a cell that starts with one of these as a formula (`=HYPERLINK(…)` from a log's
# query is one click away from a request or worse): such a cell gets a leading ', which spreadsheets show
# as text and drop. A value that is a number (a negative count, -0.5) is a number, not a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value: Any) -> str:
    """`value` as one CSV cell that no spreadsheet runs as a formula."""
    text = _cell(value)
    if starts_a_formula(text) and not (isinstance(value, (int, float)) or _NUMBER.fullmatch(text)):
        return "'" + text
    return text


def starts_a_formula(text: str) -> bool:
    """Whether a spreadsheet may read `text` as a formula: its first character is one of FORMULA_STARTS,
    or is once white space, invisible characters (zero-width space, BOM, other format and control
    characters) are skipped and its compatibility form taken (the full-width `＝`, the small `﹢`):
    spreadsheets trim or fold those, and ` =1+1`, `＝1+1` and `\u200b=1+1` went through (issue 35)."""
    if text.startswith(FORMULA_STARTS):
        return True
    for character in text:
        if character.isspace() or unicodedata.category(character) in ("Cf", "Cc"):
            continue
        return unicodedata.normalize("NFKC", character).startswith(FORMULA_STARTS)
    return False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
