"""Writing values into SQL text, for the few places DuckDB takes no parameter (COPY ... TO, ATTACH, SET,
struct keys, metadata). Everywhere else, pass parameters (`$name`) instead of building SQL. And one
setting changed for a block of work (`memory_limit`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def sql_string(text: str) -> str:
    """A SQL string literal holding exactly `text` ('it''s')."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier holding exactly `name` ("a ""b"" c")."""
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's `memory_limit` on `con` is `limit` (e.g. "1GB") while the block runs, then what it was."""
    found = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.execute(f"SET memory_limit = {sql_string(limit)}")
    try:
        yield
    finally:
        if found is not None:
            con.execute(f"SET memory_limit = {sql_string(str(found[0]))}")


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop `name` whether it is a table or a view (DROP TABLE refuses a view and the reverse)."""
    found = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $n AND NOT internal "
        "AND database_name = current_database() "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $n "
        "AND database_name = current_database()",
        {"n": name},
    ).fetchall()
    for (kind,) in found:
        con.execute(f"DROP {kind} IF EXISTS {name}")
