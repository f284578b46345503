"""Writing calibrated settings into remedy.toml: line edits that keep the user's comments and layout."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from remedy.config import CONFIG_FILE, Config
from remedy.errors import UsageError
from remedy.files.atomic import write_atomically


def write_calibration(config: Config, *, threshold: float, margin: float, model: str, fingerprint: str,
                      evidence: dict[str, str | int | float] | None = None) -> Path:
    """Set top-level `threshold` and `margin`, and pin them to the model in a `[calibration]` table.

    `evidence` (e.g. the labels' hash, the target, the bound reached) is recorded in the same table.
    """
    path = config.file or (config.root / CONFIG_FILE)
    if path.name == "pyproject.toml":
        raise UsageError(f"{path}: --write edits remedy.toml only; copy the values into [tool.remedy] by hand")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    text = _set_top_level(text, "threshold", _decimal(threshold))
    text = _set_top_level(text, "margin", _decimal(margin))
    table = (f"[calibration]\nmodel = {_quote(model)}\nfingerprint = {_quote(fingerprint)}\n"
             f"threshold = {_decimal(threshold)}\nmargin = {_decimal(margin)}\n"
             f"date = {datetime.date.today().isoformat()}\n")
    for key, value in (evidence or {}).items():
        table += f"{key} = {_quote(value) if isinstance(value, str) else value}\n"
    text = _replace_table(text, "calibration", table)
    write_atomically(path, text)
    return path


def _decimal(value: float) -> str:
    # The grid steps by 0.005: two decimals would move the setting off the one that was certified.
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _set_top_level(text: str, key: str, value: str) -> str:
    lines = text.splitlines(keepends=True)
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    pattern = re.compile(rf"^\s*#?\s*{key}\s*=")
    for i in range(first_table):
        if pattern.match(lines[i]):
            lines[i] = f"{key} = {value}\n"
            return "".join(lines)
    lines.insert(first_table, f"{key} = {value}\n")
    return "".join(lines)


def _replace_table(text: str, name: str, table: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{name}]"), None)
    if start is None:
        separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return text + separator + table
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return "".join(lines[:start]) + table + ("\n" if end < len(lines) else "") + "".join(lines[end:])
