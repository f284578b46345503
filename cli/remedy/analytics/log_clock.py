"""What "now" is for the analytics: the moment the issue queue's ages and trends, and the report's period,
count from.

It is the newest log of the input, not the wall clock, so the same logs give the same queue whenever they
are read. But one log dated far in the future (`2100-01-01`) made every other log 73 years old: every
impact 0.000, every trend "0 vs 0". So a log dated after tomorrow (UTC) by this machine's clock is
implausible: "now" is the newest log that is not, and the implausible logs are named on stderr (file and
line where the log table holds them). They are kept (their failures still count; an issue's age counts
from now, so a log from the future weighs as one from now, never more). The tolerance of a day covers
clocks that are a little off and local times written as UTC (at most 14 hours ahead); it is whole days
so that the step's partials per day (`__by_day`) decide it exactly, on either engine. Only when every log
is in the future (a machine whose clock is wrong, a test export dated ahead) does the newest log count.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

# Logs dated on a later day (UTC) than today plus this many days, by this machine's clock, are in the future.
FUTURE_DAYS = 1
# How many implausible logs are named on stderr.
NAMED = 3
log = logging.getLogger("remedy")


def reference_time(con: duckdb.DuckDBPyConnection, by_day: str, logs: str,
                   today: dt.date | None = None) -> dt.datetime | None:
    """The newest log dated no later than tomorrow (`today`: UTC by this machine's clock), from the partials
    per day `by_day` (columns logs and newest; a report window's slices too); the newest log when every log
    is later; None without logs. Logs dated later are named on stderr, from the log table `logs` (file:line)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    last_day = today + dt.timedelta(days=FUTURE_DAYS)
    after = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time())
    # A day's partial is all before `after` or all from it; a report window's slices are too, but for a
    # slice that spans that midnight (which then counts as in the future).
    found = con.execute(f"SELECT max(newest) FILTER (WHERE newest < ?), max(newest), "
                        f"coalesce(sum(logs) FILTER (WHERE newest >= ?), 0) FROM {by_day}", [after, after]).fetchone()
    plausible, newest, future = found if found else (None, None, 0)
    if not future:
        return plausible
    _warn(con, logs, int(future), last_day, after, plausible)
    return plausible if plausible is not None else newest


def _warn(con: duckdb.DuckDBPyConnection, logs: str, future: int, last_day: dt.date, after: dt.datetime,
          plausible: dt.datetime | None) -> None:
    rows = con.execute(f"SELECT source_file, line_number, ts FROM {logs} WHERE ts >= ? "
                       f"ORDER BY source_file, line_number LIMIT {NAMED}", [after]).fetchall()
    named = "; ".join(f"{file}:{line}: field 'timestamp': {_iso(ts)}" if line else f"{file}: {_iso(ts)}"
                      for file, line, ts in rows if file is not None)
    ages = (f"ages and trends count from the newest log before then ({_iso(plausible)})" if plausible is not None
            else "every log is, so ages count from the newest one: is this machine's clock right?")
    log.warning("%s log(s) dated after %s, tomorrow by this machine's clock, are implausible%s; %s",
                f"{future:,}", last_day.isoformat(), f" ({named})" if named else "", ages)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
