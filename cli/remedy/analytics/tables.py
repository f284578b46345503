"""Moving Python columns into DuckDB without pandas or pyarrow: list parameters, unnested side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb


def insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
    """Append rows given column-wise (equal lengths) to an existing table with those column names."""
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    selects = ", ".join(f"unnest($c{index}) AS {name}" for index, name in enumerate(names))
    con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {selects}",
                {f"c{index}": list(columns[name]) for index, name in enumerate(names)})


def create_table(con: duckdb.DuckDBPyConnection, table: str, schema: dict[str, str],
                 columns: Mapping[str, Sequence[Any]] | None = None) -> None:
    """(Re)create `table` with `schema` (name -> SQL type) and optionally fill it."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"CREATE TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in schema.items())})")
    if columns:
        insert_columns(con, table, columns)


def one_row(con: duckdb.DuckDBPyConnection, sql: str, parameters: Mapping[str, Any] | None = None) -> tuple:
    """The single row an aggregate query returns (DuckDB types `fetchone` as optional)."""
    row = con.execute(sql, parameters or {}).fetchone()
    if row is None:  # pragma: no cover - aggregates always return a row
        raise RuntimeError(f"no row from: {sql}")
    return row
