"""Writing values into SQL text, for the few places DuckDB takes no parameter (COPY ... TO, ATTACH, SET,
struct keys, metadata). Everywhere else, pass parameters (`$name`) instead of building SQL."""

from __future__ import annotations


def sql_string(text: str) -> str:
    """A SQL string literal holding exactly `text` ('it''s')."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier holding exactly `name` ("a ""b"" c")."""
    return '"' + name.replace('"', '""') + '"'
