"""Which fields of a JSON lines file DuckDB's typed reader can read straight into their columns.

The per-field checks (`remedy.logs.fields`) read every value as JSON text and test its first character:
about 10 CPU seconds per million lines, twenty times DuckDB's own typed parse. DuckDB's reader converts
loosely, though (a number read as VARCHAR is its text, `"true"` read as BOOLEAN is true), so a typed
read alone would accept lines the checks refuse. DuckDB's type detection over the whole file says what
kinds of values each field holds (`VARCHAR` only if every value is a string or null; `JSON` for a mix):
a field whose values are all of a kind its `TypedRead` accepts cannot fail a type check, and is read
typed, with only its value checks (empty, out of range) left in SQL. Every other field, and every
field of a file the detection cannot parse, is read as JSON with the full checks, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from remedy.errors import is_interrupt
from remedy.logs.fields import FIELDS, NUMBER_TYPES, TypedRead
from remedy.logs.readers import FAST_JSON_OBJECT_BYTES, duckdb_path
from remedy.logs.sources import LogFile

if TYPE_CHECKING:
    import duckdb

# Detection must see the types of the scores' items (depth 2 under the line); deeper values stay JSON.
_DEPTH = 3
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
# DuckDB spells the type of a column (or member) of nulls only as "NULL", quoted.
_NULL_TYPE = re.compile(r'(?<= )"NULL"(?=,|$)')


def detected_types(con: duckdb.DuckDBPyConnection, log_file: LogFile) -> dict[str, str] | None:
    """Column name -> the type DuckDB detects over every line of the file, or None when it cannot read
    the file as JSON objects (then the lines are read one by one anyway)."""
    import duckdb

    compression = "gzip" if log_file.gzip else "none"
    try:
        found = con.execute(
            f"DESCRIBE SELECT * FROM read_json({duckdb_path(log_file.path)}, format = 'newline_delimited', "
            f"records = true, sample_size = -1, maximum_depth = {_DEPTH}, compression = '{compression}', "
            # formats given: no date format is guessed for every string (a fifth of the detection's time)
            f"dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%dT%H:%M:%S.%fZ', "
            f"maximum_object_size = {FAST_JSON_OBJECT_BYTES})").fetchall()
    except duckdb.Error as error:
        if is_interrupt(error):
            raise
        return None
    return {str(name): _unquoted_null(str(kind)) for name, kind, *_ in found}


def _unquoted_null(kind: str) -> str:
    return "NULL" if kind == '"NULL"' else _NULL_TYPE.sub("NULL", kind)


def typed_fields(types: Mapping[str, str], names: Mapping[str, str],
                 partitions: tuple[tuple[str, str], ...] = ()) -> frozenset[str]:
    """The canonical fields that can be read typed, given the detected `types` of a file's columns.

    A field whose name is found only in another case, or renamed by the detection (`query_1` beside
    `Query`), is read as JSON: DuckDB matches column names without regard to case. So is a field a
    partition value may fill (`fields.with_partitions` works on JSON values)."""
    lowered: dict[str, list[str]] = {}
    for column in types:
        base = re.sub(r"_[0-9]+$", "", column.lower())
        lowered.setdefault(column.lower(), []).append(column)
        if base != column.lower():
            lowered.setdefault(base, []).append(column)
    partitioned = {key for key, _ in partitions}
    typed = set()
    for field in FIELDS:
        name = names[field.name]
        if field.typed is None or name in partitioned:
            continue
        similar = lowered.get(name.lower(), [])
        if similar and similar != [name]:
            continue
        if _accepts(field.typed, types.get(name, "NULL")):
            typed.add(field.name)
    return frozenset(typed)


def _accepts(read: TypedRead, kind: str) -> bool:
    if "NUMBER_OBJECT" in read.accepts:
        return kind == "NULL" or _number_object(kind)
    return kind in read.accepts


def _number_object(kind: str) -> bool:
    """A detected STRUCT (or MAP) whose members are all numbers or nulls, nothing nested."""
    if kind.startswith("MAP(VARCHAR, ") and kind.endswith(")"):
        return kind[len("MAP(VARCHAR, "):-1] in NUMBER_TYPES
    if not (kind.startswith("STRUCT(") and kind.endswith(")")):
        return False
    inner = _QUOTED.sub("x", kind[len("STRUCT("):-1])
    if "(" in inner or "[" in inner:
        return False
    members = [member.strip() for member in inner.split(",")] if inner.strip() else []
    return all(len(parts := member.split(" ")) == 2 and parts[1] in NUMBER_TYPES for member in members)


def reader_columns(names: Mapping[str, str], typed: frozenset[str]) -> dict[str, str]:
    """Export field name -> the type DuckDB's reader converts it to: typed, or JSON for the checks."""
    return {names[field.name]: field.typed.read_as if field.typed and field.name in typed else "JSON"
            for field in FIELDS}
