"""Durations and moments written by people: `14d`, `36h`, `2w`, `90m`, `inf` (the `[issues] half_life` key,
`--half-life`), and ISO 8601 times (`--since`, `--until`)."""

from __future__ import annotations

import datetime
import math
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_PATTERN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")


def parse_duration(text: str) -> float:
    """Seconds in `text` (a number and a unit s, m, h, d or w), or math.inf for `inf`; ValueError otherwise."""
    if text.strip().lower() in ("inf", "infinity", "none"):
        return math.inf
    found = _PATTERN.fullmatch(text.lower())
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"a duration like 14d, 36h, 2w or inf, not {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_moment(text: str) -> datetime.datetime:
    """An ISO 8601 date or time (`2026-11-01`, `2026-11-01T08:00:00Z`) as a naive UTC datetime, as the logs'
    timestamps are held; a time without an offset is UTC. ValueError otherwise."""
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed
