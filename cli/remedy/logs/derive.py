"""The derived columns of the log table: normalized query, failure, severity, primary issue, and the one
date filter every path applies (`--since` inclusive, `--until` exclusive, naive times are UTC).

Only the distinct query texts cross into Python, once, to compute `normalized_query` with
`normalize_question` (DuckDB has no NFKC nor casefold, so SQL cannot match it exactly).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from remedy.logs.fields import FIELDS
from remedy.normalize import normalize_question
from remedy.sql import sql_string

if TYPE_CHECKING:
    import duckdb

    from remedy.logs.settings import LogSettings

# The columns of the log table: every field's, then the derived ones.
DERIVED_COLUMNS: tuple[str, ...] = ("normalized_query", "is_failure", "source_file", "line_number")
LOG_COLUMNS: tuple[str, ...] = (*(field.column for field in FIELDS), *DERIVED_COLUMNS)
# A staged row: the file it came from, why it was skipped (NULL: kept), and the columns a line gives.
STAGED_ROW_COLUMNS: tuple[str, ...] = ("file_index", "reason", *(field.column for field in FIELDS),
                                       "normalized_query", "is_failure")
# The scores that name a primary issue, in order of precedence (DESIGN 1).
ISSUE_BY_SCORE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("context_sufficiency",), "search_failure"),
    (("response_helpfulness", "query_ease"), "unhelpful"),
    (("trustworthiness",), "hallucination"),
)
_UDF_NAME = "remedy_normalize_question"
# Distinct query texts the normalizer remembers (about 100 bytes each): memory stays flat.
_MEMO_LIMIT = 500_000


def staged_table_sql(staged: str) -> str:
    """The staged table: one row per line, in file order (rowid = position), STAGED_ROW_COLUMNS."""
    return f"CREATE TABLE {staged} (" + ", ".join(f"{name} {kind}" for name, kind in _staged_types().items()) + ")"


def no_rows_sql() -> str:
    """A SELECT of no staged rows, with their columns and types (an empty file's cache entry)."""
    return "SELECT " + ", ".join(f"NULL::{kind} AS {name}" for name, kind in _staged_types().items()) + " WHERE false"


def _staged_types() -> dict[str, str]:
    types = {"file_index": "INTEGER", "reason": "VARCHAR", "normalized_query": "VARCHAR", "is_failure": "BOOLEAN",
             **{field.column: field.staged_type or field.sql_type for field in FIELDS}}
    return {name: types[name] for name in STAGED_ROW_COLUMNS}


def date_filter(since: dt.datetime | dt.date | None, until: dt.datetime | dt.date | None,
                column: str = "ts") -> list[str]:
    """SQL conditions on `column` for `since` (inclusive) and `until` (exclusive)."""
    filters = []
    if since is not None:
        filters.append(f"{column} >= TIMESTAMP '{as_utc_naive(since).isoformat(sep=' ')}'")
    if until is not None:
        filters.append(f"{column} < TIMESTAMP '{as_utc_naive(until).isoformat(sep=' ')}'")
    return filters


def as_utc_naive(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def rows_sql(parsed: str, settings: LogSettings) -> str:
    """SELECT the staged rows (STAGED_ROW_COLUMNS) from `parsed` (`fields.parse_sql`): each line's fields,
    reason, normalized query and derived columns (NULL on a skipped line), in the order of `parsed`."""
    derived = {
        "severity": "coalesce(severity, 1.0 - list_min(scores.numbers), "
                    "CASE WHEN is_failure THEN 1.0 ELSE 0.0 END)",
        "primary_issue": f"coalesce(primary_issue, CASE WHEN is_failure THEN {_issue_sql(settings)} END)",
    }
    columns = ", ".join(f"CASE WHEN reason IS NULL THEN {derived[name]} END AS {name}" if name in derived else name
                        for name in STAGED_ROW_COLUMNS)
    return f"""
        SELECT {columns}
        FROM (
            SELECT *,
                   CASE WHEN reason IS NULL THEN
                       coalesce(is_bad, {_some_score_fails_sql(settings)}, guardrailed, false) END AS is_failure
            FROM (
                SELECT *, {normalized_sql('query')} AS normalized_query
                FROM ({parsed})
            )
        )
        """


def canonical_columns(computed: dict[str, str] | None = None, prefix: str = "") -> str:
    """SQL: the log table's columns (LOG_COLUMNS) from staged rows (columns `{prefix}<name>`); a field
    staged in another form (`LogField.canonical`) is turned back, `computed` gives a column's own SQL."""
    computed = dict(computed or {})
    for field in FIELDS:
        if field.canonical:
            computed.setdefault(field.column, f"{field.canonical.format(c=prefix + field.column)} AS {field.column}")
    return ", ".join(computed.get(name, f"{prefix}{name}") for name in LOG_COLUMNS)


def log_table_sql(table: str, staged: str, filters: list[str]) -> str:
    """SELECT the log table (LOG_COLUMNS) from the staged rows of `staged` and `{table}__files`: the
    good lines that pass `filters`, each with its file and line number."""
    columns = canonical_columns({"source_file": "source_file", "line_number": "line_number"}, "s.")
    return f"""
        SELECT {columns}
        FROM (SELECT s.*, f.source_file, s.rowid - f.first_rowid + f.first_line AS line_number
              FROM {staged} s JOIN {table}__files f USING (file_index)) s
        WHERE {" AND ".join(["s.reason IS NULL", *filters])}
        """


def _cutoff(settings: LogSettings, name: str) -> float:
    return settings.failure_cutoffs.get(name, settings.failure_cutoff)


def _some_score_fails_sql(settings: LogSettings) -> str:
    """SQL: a score is below its cutoff (NULL without scores). With one cutoff for all, that is the
    smallest score below it: no lambda per row (a third of the derived columns' time)."""
    if not settings.failure_cutoffs:
        return f"list_min(scores.numbers) < {settings.failure_cutoff!r}"
    cases = " ".join(
        f"WHEN {sql_string(name)} THEN {cutoff!r}" for name, cutoff in sorted(settings.failure_cutoffs.items())
    )
    failing = (f"list_filter(scores.names, lambda name, i: scores.numbers[i] < "
               f"(CASE name {cases} ELSE {settings.failure_cutoff!r} END))")
    return f"CASE WHEN list_min(scores.numbers) IS NOT NULL THEN len({failing}) > 0 END"


def _issue_sql(settings: LogSettings) -> str:
    """SQL: the primary issue of a failure from its failing scores (ISSUE_BY_SCORE). A score's name is
    found once in `scores.names` (a repeated name makes the line skipped), so its number is the one at
    that name's position."""
    def fails(score: str) -> str:
        return (f"coalesce(scores.numbers[list_position(scores.names, {sql_string(score)})] "
                f"< {_cutoff(settings, score)!r}, false)")

    cases = " ".join("WHEN " + " OR ".join(fails(score) for score in scores) + f" THEN {sql_string(issue)}"
                     for scores, issue in ISSUE_BY_SCORE)
    return f"(CASE {cases} ELSE 'other' END)"


def normalized_sql(text: str) -> str:
    """SQL: `normalize_question(text)`. An ASCII text (as many bytes as characters; most queries) is
    normalized in SQL, which gives the same text (NFKC and case folding change no ASCII character but
    upper case, and `_ASCII_SPACE` and `_ASCII_PUNCTUATION` are the ASCII characters that Python's
    `\\s`, `str.isspace` and the Unicode categories P* name); any other goes to the Python function
    (`register_normalizer`), which DuckDB calls with those rows only."""
    # Only a text with a run of spaces or another white space character needs the (slower) collapse.
    collapsed = (f"CASE WHEN regexp_matches({text}, '[{_ASCII_SPACE.replace(' ', '')}]| {{2}}') "
                 f"THEN regexp_replace(lower({text}), '[{_ASCII_SPACE}]+', ' ', 'g') ELSE lower({text}) END")
    ascii_sql = f"ltrim(regexp_replace({collapsed}, '[ {_ASCII_PUNCTUATION}]+$', ''), ' ')"
    return f"(CASE WHEN strlen({text}) = length({text}) THEN {ascii_sql} ELSE {_UDF_NAME}({text}) END)"


def _ascii_class(keep: Callable[[str], bool]) -> str:
    """The ASCII characters for which `keep` holds, as the inside of an RE2 character class."""
    return "".join(c if c == " " else f"\\x{{{ord(c):02x}}}" for c in map(chr, range(128)) if keep(c))


_ASCII_SPACE = _ascii_class(lambda c: re.fullmatch(r"\s", c) is not None)
_ASCII_PUNCTUATION = _ascii_class(lambda c: unicodedata.category(c).startswith("P"))


def register_normalizer(con: duckdb.DuckDBPyConnection) -> None:
    """`remedy_normalize_question(query)` on `con`: normalize_question, each distinct text computed once
    (a memo per registration, cleared when it holds _MEMO_LIMIT texts), a vector of rows per call."""
    import duckdb
    import pyarrow as pa
    from duckdb.func import PythonUDFType

    memo: dict[str, str] = {}

    def normalize(queries: Any) -> Any:  # DuckDB evaluates these annotations: module-level names only
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        out: list[str | None] = []
        for query in queries.to_pylist():
            if query is None:
                out.append(None)
                continue
            found = memo.get(query)
            if found is None:
                found = memo[query] = normalize_question(query)
            out.append(found)
        return pa.array(out, pa.string())

    try:
        con.remove_function(_UDF_NAME)
    except duckdb.Error:
        pass  # not registered on this connection yet
    con.create_function(_UDF_NAME, normalize, ["VARCHAR"], "VARCHAR", type=PythonUDFType.ARROW,
                        side_effects=False)
