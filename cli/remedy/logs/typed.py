"""Which fields of a JSON lines file DuckDB's typed reader reads straight into their columns.

The per-field checks (`remedy.logs.fields`) read every value as JSON text and test its first character,
then take the value out of the text again. DuckDB's JSON reader can convert a value to its column type
itself, but it converts loosely: a number read as VARCHAR is its text, `"true"` read as BOOLEAN is true.
So only the fields whose lossy conversions can be seen in the converted value are read typed: the
strings (a number, a boolean, an object or a list read as VARCHAR becomes valid JSON text that does
not start with `"`) and `scores` (read as its JSON text: an item that is not a number shows after its
`:`). A value that may have been converted (`TypedRead.suspect`) stops the read, and the file is read
with every field as JSON, as before; booleans, numbers, `context` and `metadata` are always read as JSON.

Parquet columns carry their types, so nothing is converted: a string field in a VARCHAR column is read as
it is and needs no `suspect` check (`parquet_reads`); `scores` in a STRUCT or MAP column is read as its
JSON text, with the check; every other column as its JSON text, through the JSON checks.
"""

from __future__ import annotations

from collections.abc import Mapping

from remedy.logs.fields import FIELDS


def typed_fields(names: Mapping[str, str], partitions: tuple[tuple[str, str], ...] = ()) -> frozenset[str]:
    """The canonical fields the typed read converts: those with a `TypedRead`, but a field a hive
    partition value may fill (`fields.with_partitions` works on JSON values)."""
    partitioned = {key for key, _ in partitions}
    return frozenset(field.name for field in FIELDS if field.typed is not None and names[field.name] not in partitioned)


def reader_columns(names: Mapping[str, str], typed: frozenset[str]) -> dict[str, str]:
    """Export field name -> the type DuckDB's reader converts it to: typed, or JSON for the checks."""
    return {names[field.name]: field.typed.read_as if field.typed and field.name in typed else "JSON"
            for field in FIELDS}


def parquet_reads(names: Mapping[str, str], schema: Mapping[str, str],
                  partitions: tuple[tuple[str, str], ...] = ()) -> tuple[frozenset[str], frozenset[str]]:
    """(typed, exact) for a Parquet file of `schema` (column -> DuckDB type): the fields read typed, and
    those of them whose values are the column's own (a VARCHAR column: no conversion to suspect)."""
    typed, exact = set(), set()
    readable = typed_fields(names, partitions)
    for field in FIELDS:
        kind = schema.get(names[field.name])
        if field.typed is None or field.name not in readable or kind is None:
            continue
        if field.typed.read_as == "VARCHAR" and kind == "VARCHAR":
            typed.add(field.name)
            exact.add(field.name)
        elif field.typed.read_as == "JSON" and kind.startswith(("STRUCT(", "MAP(")):
            typed.add(field.name)
    return frozenset(typed), frozenset(exact)
