"""The one SQL quoting helper: any text round-trips through DuckDB as a literal and as a column name."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from remedy.sql import sql_identifier, sql_string

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@given(TEXT)
def test_a_string_literal_holds_exactly_the_text(text: str) -> None:
    assert duckdb.connect().execute(f"SELECT {sql_string(text)}").fetchone() == (text,)


@given(TEXT.filter(lambda name: name.strip() != ""))
def test_an_identifier_holds_exactly_the_name(name: str) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({sql_identifier(name)} INTEGER)")
    assert [column[0] for column in con.execute("SELECT * FROM t").description] == [name]
