"""The one SQL quoting helper: any text round-trips through DuckDB as a literal and as a column name."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.sql import sql_identifier, sql_string

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
CON = duckdb.connect()  # one connection: connecting per example is slow on a loaded machine


@settings(deadline=None)
@given(TEXT)
def test_a_string_literal_holds_exactly_the_text(text: str) -> None:
    assert CON.execute(f"SELECT {sql_string(text)}").fetchone() == (text,)


@settings(deadline=None)
@given(TEXT.filter(lambda name: name.strip() != ""))
def test_an_identifier_holds_exactly_the_name(name: str) -> None:
    CON.execute(f"CREATE OR REPLACE TABLE t ({sql_identifier(name)} INTEGER)")
    assert [column[0] for column in CON.execute("SELECT * FROM t").description] == [name]
