"""Rows of plain values rendered as an aligned table, JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from remedy.control_characters import visible

FORMATS = ("table", "json", "csv", "markdown")


def json_document(document: Any) -> str:
    """The one way remedy writes JSON: indented, UTF-8, other values as text, and never NaN or Infinity
    (not JSON: a parser rejects them) - a similarity that is not a finite number is written as null."""
    return json.dumps(_finite(document), indent=2, ensure_ascii=False, default=str, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def render_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, *, key: str = "rows",
                extra: dict[str, Any] | None = None) -> str:
    """`rows` in the chosen format; JSON is `{key: rows, **extra}` so scripts get a stable document."""
    if fmt == "json":
        return json_document({**(extra or {}), key: list(rows)})
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({column: _cell(row.get(column)) for column in columns} for row in rows)
        return buffer.getvalue()
    # One cell, one line: a newline or tab inside a query would break the table's layout.
    cells = [[visible(_cell(row.get(column)), one_line=True) for column in columns] for row in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    widths = [max([len(column), *(len(row[index]) for row in cells)]) for index, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)
