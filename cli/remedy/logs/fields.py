"""The log fields: one declaration per field, read by every path (JSON lines, Parquet, CSV, Ray batches).

Each `LogField` says what column the field becomes, which JSON values it accepts (its checks, with the
reason a line is skipped for) and how its typed value is computed. `parse_sql` turns the declarations
into one SELECT over `f_<field>` columns (each field's JSON value, minified) that yields the staged
columns plus a `reason` column: NULL for a good line, else the first check it fails. A new field is
one entry in `FIELDS` (and its name in DESIGN 1).

A JSON value's type is read from its first character (minified JSON: `"` string, `{` object, `[` list,
`t`/`f` boolean, `n` null, `-` or a digit a number), so no value is parsed twice to be checked. In the
SQL of a declaration, `{f}` is the field's JSON value and `{tag}` its first character (`n` when the
field is absent or null).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from remedy.sql import sql_identifier as quote_ident
from remedy.sql import sql_string

CONTEXT_SEPARATOR = "\n\n"
MARK = "\x01"  # starts a line that could not be read; the rest of the line is the reason (line_files)
# trim() with a character set is slow on long lines: test short lines only, and objects by a regex.
_BLANK = "doc IS NULL OR (strlen(doc) < 256 AND trim(doc, ' ' || chr(9) || chr(13)) = '')"
OBJECT_START = r"(starts_with(doc, '{') OR regexp_matches(doc, '^[ \t]+\{'))"
# The longest line read (bytes). Parsing a line takes several times its size (the text, its parsed fields,
# the checks, the staged row): a 50 MB line ran DuckDB out of its memory limit and lost the whole file.
# A longer line is skipped and named, as a malformed one; the rest of the file is read.
MAX_LINE_BYTES = 16 * 1024 * 1024


def _fits() -> str:
    """SQL: the line `doc` is not longer than MAX_LINE_BYTES (read when the SQL is made: tests lower it)."""
    return f"strlen(doc) <= {MAX_LINE_BYTES}"


def _too_long() -> str:
    """SQL: the reason a line longer than MAX_LINE_BYTES is skipped for."""
    limit = f"{MAX_LINE_BYTES / (1024 * 1024):g} MB" if MAX_LINE_BYTES >= 1024 * 1024 else f"{MAX_LINE_BYTES} bytes"
    return f"'a line of ' || strlen(doc) || {sql_string(f' bytes: longer than the {limit} a line may hold')}"


def is_number(json_text: str) -> str:
    """SQL: a minified JSON value is a number (its first character). No IN list: DuckDB plans long
    IN lists as joins, which would give up the row order that line numbers rely on."""
    first = f"left({json_text}, 1)"
    return f"({first} = '-' OR {first} BETWEEN '0' AND '9')"


@dataclass(frozen=True)
class Check:
    """A line is skipped when `condition` holds: reason `field '<name>': <message><detail>`."""

    condition: str
    message: str
    detail: str | None = None  # SQL appended to the message (e.g. the offending value)


# A string read as VARCHAR by DuckDB's JSON reader that may not have been a string: the reader writes
# a number, true/false, an object or a list as its JSON text, which is valid JSON not starting with `"`
# (a string that reads so too, such as "7" or "null", only sends the file to the JSON checks).
_NOT_A_STRING = "(json_valid({f}) AND left({f}, 1) <> '\"')"


@dataclass(frozen=True)
class TypedRead:
    """How a field is read on the typed fast path (`remedy.logs.typed`): DuckDB's JSON reader converts
    each value to `read_as` itself, and `value` and `checks` (in `{f}`, the typed value; one per
    `LogField.checks`, in order, `false` for a type check that a typed value cannot fail) give the
    same staged value and reason as the JSON checks. DuckDB converts loosely (a number read as
    VARCHAR is its text), so `suspect` holds for any value the conversion may have changed: a file
    with one such value is read with the JSON checks instead."""

    read_as: str
    value: str
    checks: tuple[str, ...] = ()
    helpers: tuple[tuple[str, str], ...] = ()
    suspect: str = _NOT_A_STRING


@dataclass(frozen=True)
class LogField:
    name: str  # canonical name: the key in `[logs]` and DESIGN 1
    column: str  # the column it becomes in the log table
    sql_type: str
    value: str  # SQL of the typed value of a good line
    checks: tuple[Check, ...] = ()
    helpers: tuple[tuple[str, str], ...] = ()  # (name, SQL) computed before the checks, usable by them
    required: bool = False
    # In Parquet and CSV an object or a list often arrives as JSON text in a string column: its opener.
    embedded_json: str | None = None
    # When the staged rows (and the log cache) keep the field in another form than the log table's
    # column: that type, and the SQL of the column from it (`{c}`), computed only where a query reads it.
    staged_type: str | None = None
    canonical: str | None = None
    typed: TypedRead | None = None  # the typed fast path for this field (None: always read as JSON)


# Python's white space (`str.isspace`: what `normalize_question` strips) as an RE2 class; a test checks
# every code point.
_WHITE_SPACE_CLASS = "[\\t-\\r\\x{1c}-\\x{1f} \\x{85}\\pZ]"


def _blank_text(text: str) -> str:
    """SQL: a string is empty or only white space (a query of nothing to match or group). Only a text
    starting with white space is tested whole, so most queries cost one comparison and one character."""
    space = _WHITE_SPACE_CLASS.replace("{", "{{").replace("}", "}}")  # the result is a template (`_sql`)
    return (f"({text} = '' OR (regexp_full_match(left({text}, 1), '{space}') "
            f"AND regexp_full_match({text}, '{space}*')))")


def _optional(*allowed: str) -> str:
    return "{tag} NOT IN ('n', " + ", ".join(f"'{a}'" for a in allowed) + ")"


def _text() -> str:
    return "CASE WHEN {tag} = '\"' THEN nullif({f}->>'$', '') END"


def _boolean() -> str:
    return "CASE {tag} WHEN 't' THEN true WHEN 'f' THEN false END"


def _typed_text() -> TypedRead:
    return TypedRead("VARCHAR", "nullif({f}, '')", ("false",))


# The instants a log may carry (UTC): years 1970 to 9999. No assistant logged before the Unix epoch (an
# earlier year is a zero or a sentinel: 0001-01-01, 1900-01-01), Python's dates end with 9999, and DuckDB's
# TIMESTAMP reaches BC years and year 294247, which no output could print as ISO 8601 (`0002-01-01 (BC)`).
TS_RANGE = ("1970-01-01", "10000-01-01")  # [from, to)
RANGE_MESSAGE = "out of range (years 1970 to 9999): "
_TS_OUT_OF_RANGE = f"(ts_value < TIMESTAMP '{TS_RANGE[0]}' OR ts_value >= TIMESTAMP '{TS_RANGE[1]}')"
# A UTC offset is at most 14:00 either way (Kiritimati, +14:00, is the widest of any time zone; RFC 3339's
# grammar would allow ±23:59, but no clock shows such an offset) and its minutes are below 60. DuckDB reads
# `+99:00` and `+05:99` as offsets of 99 hours and 6:39, so a broken exporter would move its logs by days.
MAX_OFFSET_HOURS = 14
OFFSET_MESSAGE = f"UTC offset beyond ±{MAX_OFFSET_HOURS}:00 or minutes above 59: "


def _offset_out_of_range(text: str) -> str:
    """SQL: the timestamp `text` (read as `ts_value`) carries an offset out of range. The offset is the
    local time (DuckDB's TIMESTAMP cast ignores an offset or a zone name) minus the instant; a text
    ending in `Z` (most exports) has none, so it costs one comparison."""
    return (f"(ts_value IS NOT NULL AND NOT ends_with({text}, 'Z') AND "
            f"(abs(epoch_us(try_cast({text} AS TIMESTAMP)) - epoch_us(ts_value)) > {MAX_OFFSET_HOURS * 3_600_000_000}"
            f" OR regexp_matches({text}, '[+-][0-9][0-9]:?[6-9][0-9]\\s*$')))")


# The staged form of `scores`: names and numbers in the object's order (a null item: a NULL number).
SCORES_STAGED = "STRUCT(names VARCHAR[], numbers DOUBLE[])"
_SCORE_VALUE = (
    f"CASE WHEN {is_number('e')} THEN e::DOUBLE "
    "WHEN left(e, 1) = '{{' AND json_type(e, '$.score') IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
    "THEN json_extract(e, '$.score')::DOUBLE END"
)

FIELDS: tuple[LogField, ...] = (
    LogField(
        "id", "log_id", "VARCHAR", "CASE WHEN {tag} = '\"' THEN {f}->>'$' ELSE {f}::VARCHAR END",
        checks=(
            # an integer of any size (above 2^64 the JSON type says DOUBLE, but the text keeps every digit)
            Check("NOT ({tag} = '\"' OR json_type({f}) IN ('BIGINT', 'UBIGINT') "
                  "OR (json_type({f}) = 'DOUBLE' AND regexp_full_match({f}, '-?[0-9]+')))",
                  "expected a string or an integer"),
            Check("{tag} = '\"' AND {f}->>'$' = ''", "empty"),
        ),
        required=True,
        # an integer read as VARCHAR is its JSON text, as `{f}::VARCHAR` gives it
        typed=TypedRead("VARCHAR", "{f}", ("false", "{f} = ''"),
                        suspect=f"({_NOT_A_STRING} AND NOT regexp_full_match({{f}}, '-?[0-9]+'))"),
    ),
    LogField(
        "timestamp", "ts", "TIMESTAMP", "ts_value",
        helpers=(("ts_value", "CASE WHEN {tag} = '\"' THEN try_cast({f}->>'$' AS TIMESTAMPTZ)::TIMESTAMP END"),),
        checks=(
            Check("{tag} <> '\"'", "expected an ISO 8601 string"),
            Check("ts_value IS NULL", "not an ISO 8601 timestamp: ", "left({f}->>'$', 40)"),
            Check(_offset_out_of_range("{f}->>'$'"), OFFSET_MESSAGE, "left({f}->>'$', 40)"),
            Check(_TS_OUT_OF_RANGE, RANGE_MESSAGE, "left({f}->>'$', 40)"),
        ),
        required=True,
        typed=TypedRead("VARCHAR", "ts_value", ("false", "ts_value IS NULL", _offset_out_of_range("{f}"),
                                                _TS_OUT_OF_RANGE),
                        (("ts_value", "try_cast({f} AS TIMESTAMPTZ)::TIMESTAMP"),)),
    ),
    LogField(
        "query", "query", "VARCHAR", "query_text",
        helpers=(("query_text", "CASE WHEN {tag} = '\"' THEN {f}->>'$' END"),),
        checks=(Check("{tag} <> '\"'", "expected a string"),
                Check(_blank_text("query_text"), "empty or only white space")),
        required=True,
        typed=TypedRead("VARCHAR", "{f}", ("false", _blank_text("{f}"))),
    ),
    LogField("response", "response", "VARCHAR", _text(), checks=(Check(_optional('"'), "expected a string"),),
             typed=_typed_text()),
    LogField(
        "context", "context", "VARCHAR",
        "CASE {tag} WHEN '\"' THEN nullif({f}->>'$', '') WHEN '[' THEN nullif(array_to_string("
        f"from_json({{f}}, '[\"VARCHAR\"]'), {sql_string(CONTEXT_SEPARATOR)}), '') END",
        checks=(Check(_optional('"', "["), "expected a string or a list of strings"),),
        embedded_json="[",
    ),
    LogField(
        # Staged as the names and the numbers (building a MAP costs about as much as all the other
        # checks together); the log table's MAP is made from them when a query reads the column.
        "scores", "scores", "MAP(VARCHAR, DOUBLE)",
        "{{'names': coalesce(score_names, []), 'numbers': coalesce(score_values, [])}}::" + SCORES_STAGED,
        helpers=(
            # Each item read as a number or as {"score": number}.
            ("score_names", "CASE WHEN {tag} = '{{' THEN json_keys({f}) END"),
            ("score_items", "CASE WHEN {tag} = '{{' THEN json_extract({f}, '$.*') END"),
            ("score_values", f"list_transform(score_items, lambda e: {_SCORE_VALUE})"),
        ),
        checks=(
            Check(_optional("{{"), "expected an object"),
            Check("len(list_distinct(score_names)) < len(score_names)", "repeats a name"),
            # every item that is not null must have given a value in [0, 1]
            Check("len(list_filter(score_items, lambda e: left(e, 1) <> 'n')) "
                  "<> len(list_filter(score_values, lambda v: v BETWEEN 0 AND 1))",
                  "every score must be a number between 0 and 1"),
        ),
        embedded_json="{",
        staged_type=SCORES_STAGED,
        canonical="map({c}.names, {c}.numbers)",
        # read as the object's JSON text: the names and numbers without a check per item; `suspect`: not
        # an object, or an item that is not a number or null (its value starts with `"`, t, f, `[` or `{`)
        typed=TypedRead(
            "JSON",
            "{{'names': coalesce(score_names, []), 'numbers': coalesce(score_values, [])}}::" + SCORES_STAGED,
            ("false", "len(list_distinct(score_names)) < len(score_names)",
             "list_min(score_values) < 0 OR list_max(score_values) > 1"),
            (("score_names", "json_keys({f})"), ("score_values", "json_extract({f}, '$.*')::DOUBLE[]")),
            suspect="(left({f}, 1) <> '{{' OR regexp_matches({f}, ':[\"tf\\[{{]'))"),
    ),
    # booleans and numbers stay JSON: DuckDB reads "true" as true and "0.5" as 0.5, which no typed value shows
    LogField("is_bad", "is_bad", "BOOLEAN", _boolean(), checks=(Check(_optional("t", "f"), "expected true or false"),)),
    LogField("guardrailed", "guardrailed", "BOOLEAN", _boolean(),
             checks=(Check(_optional("t", "f"), "expected true or false"),)),
    LogField("primary_issue", "primary_issue", "VARCHAR", _text(),
             checks=(Check(_optional('"'), "expected a string"),), typed=_typed_text()),
    LogField(
        "severity", "severity", "DOUBLE", f"CASE WHEN {is_number('{f}')} THEN {{f}}::DOUBLE END",
        checks=(
            Check(f"{{tag}} <> 'n' AND NOT {is_number('{f}')}", "expected a number"),
            Check(f"{is_number('{f}')} AND NOT coalesce({{f}}::DOUBLE BETWEEN 0 AND 1, false)",
                  "must be between 0 and 1"),
        ),
    ),
    LogField("served_remediation", "served_remediation", "VARCHAR", _text(),
             checks=(Check(_optional('"'), "expected a string or null"),), typed=_typed_text()),
    LogField("metadata", "metadata", "JSON", "CASE WHEN {tag} = '{{' THEN {f} END",
             checks=(Check(_optional("{{"), "expected an object"),), embedded_json="{"),
)

CANONICAL_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS if field.required)
def _sql(field: LogField, template: str) -> str:
    return template.format(f=f"f_{field.name}", tag=f"tag_{field.name}")


def lines_source(source: str, names: Mapping[str, str], *, tabular: bool) -> str:
    """`doc`, `valid`, `j` and the `f_<field>` columns from `source` (one `doc` of JSON text per line):
    each line parsed once (`from_json` into a struct of JSON values)."""
    structure = "{" + ", ".join(f'"{names[f.name]}": "JSON"' for f in FIELDS) + "}"
    values = []
    for field in FIELDS:
        value = f"j.{quote_ident(names[field.name])}"
        values.append(f"{_embedded(field, value) if tabular else value} AS f_{field.name}")
    return f"""
        SELECT doc, valid, j, {", ".join(values)}
        FROM (
            SELECT doc, valid,
                   CASE WHEN valid AND {OBJECT_START} THEN from_json(doc, {sql_string(structure)}) END AS j
            FROM (SELECT doc, doc IS NOT NULL AND {_fits()} AND json_valid(doc) AS valid FROM ({source}))
        )"""


def _embedded(field: LogField, value: str) -> str:
    """A tabular file's JSON value of `field`: a string holding the JSON text of an object or a list (its
    `embedded_json` opener) is read as that object or list, as exporters write nested values to CSV."""
    if not field.embedded_json:
        return value
    return (f"(CASE WHEN left({value}, 2) = '\"{field.embedded_json}' AND json_valid({value}->>'$') "
            f"THEN ({value}->>'$')::JSON ELSE {value} END)")


def columns_source(reader: str, names: Mapping[str, str], columns: frozenset[str], typed: frozenset[str]) -> str:
    """The `f_<field>` columns from a reader of typed columns (Parquet): a field in `typed` as its column's
    value (`TypedRead.read_as`: itself, or its JSON text), any other as its JSON text (`to_json`, nested
    JSON text read as in `lines_source`), a field without a column (not in `columns`) absent. Each row is
    an object, so nothing is blank, invalid or not an object."""
    values = []
    for field in FIELDS:
        name = names[field.name]
        column = quote_ident(name)
        if name not in columns:
            value = "NULL::VARCHAR" if field.name in typed else "NULL::JSON"
        elif field.name in typed and field.typed is not None:
            value = column if field.typed.read_as == "VARCHAR" else f"to_json({column})"
        else:
            value = _embedded(field, f"to_json({column})")
        values.append(f"{value} AS f_{field.name}")
    return f"SELECT '{{}}' AS doc, true AS valid, true AS j, {', '.join(values)} FROM ({reader})"


def objects_source(fields_sql: str, names: Mapping[str, str], keep: Sequence[str] = ()) -> str:
    """The `f_<field>` columns from a reader that parsed every line as an object already
    (`sources.json_fields_sql`): nothing is blank, invalid or not an object. `keep`: columns of the
    reader passed through (a bundle's file index)."""
    values = ", ".join([*(f"{quote_ident(names[f.name])} AS f_{f.name}" for f in FIELDS), *keep])
    return f"SELECT '{{}}' AS doc, true AS valid, true AS j, {values} FROM ({fields_sql})"


def with_partitions(fields: str, names: Mapping[str, str], partitions: Sequence[tuple[str, str]]) -> str:
    """`fields` (`lines_source` or `objects_source`) with a hive partition value (`date=2026-11-30/`) as
    the value of the mapped field of that name where the row lacks it, as Ray Data adds partitions
    under a row's own fields. Partitions that name no mapped field change nothing."""
    values = dict(partitions)
    replaced = [f"coalesce(f_{field.name}, {sql_string(json.dumps(values[names[field.name]]))}::JSON) "
                f"AS f_{field.name}" for field in FIELDS if names[field.name] in values]
    return f"SELECT * REPLACE ({', '.join(replaced)}) FROM ({fields})" if replaced else fields


_JSON_TEXT = "{f}->>'$'"  # a JSON string's text: on a typed field, the value itself
TYPED_REFUSED = "remedy: the typed read cannot vouch for field "


def _value(field: LogField, typed_read: TypedRead | None) -> str:
    return typed_read.value if typed_read else field.value


def parse_sql(fields: str, index: int | str, names: Mapping[str, str], *, marked: bool = False,
              typed: frozenset[str] = frozenset(), exact: frozenset[str] = frozenset()) -> str:
    """SELECT the staged columns (STAGED_COLUMNS, in order) from `fields` (`lines_source`, `objects_source`
    or `columns_source`): the typed fields of a good line, or the reason it is skipped. The fields named in
    `typed` hold DuckDB's typed values (`TypedRead`), the others JSON values; either way a line gets the
    same reason from the same checks, in the same order. A typed field in `exact` was not converted (a
    Parquet string column), so its values need no `suspect` check."""

    def label(field: LogField) -> str:
        name = names[field.name]
        return sql_string(f"'{name}'" if name == field.name else f"'{name}' ({field.name})")

    def read(field: LogField) -> TypedRead | None:
        return field.typed if field.name in typed else None

    def missing(field: LogField) -> str:
        return _sql(field, "{f} IS NULL" if read(field) else "{tag} = 'n'")

    # A value the typed read may have changed stops the read (DuckDB's error()): the caller reads the file
    # with every field as JSON then. Evaluated only where it holds, so a clean file never raises.
    suspects = [(_sql(f, typed_read.suspect), f"error({sql_string(TYPED_REFUSED + names[f.name] + ': ')} || "
                 f"left(f_{f.name}::VARCHAR, 40))") for f in FIELDS if (typed_read := read(f)) and f.name not in exact]
    checks: list[tuple[str, str]] = [
        *suspects,
        (_BLANK, "'blank'"),
        *([(f"left(doc, 1) = {sql_string(MARK)}", "substr(doc, 2)")] if marked else []),
        (f"NOT {_fits()}", _too_long()),
        ("NOT valid", "'not valid JSON'"),
        ("j IS NULL", "'not a JSON object'"),
        *((missing(f), f"'missing required field ' || {label(f)}") for f in FIELDS if f.required),
    ]
    for field in FIELDS:
        typed_read = read(field)
        for number, check in enumerate(field.checks):
            condition = typed_read.checks[number] if typed_read else check.condition
            if condition == "false":
                continue  # a type check that a file of that type passes
            reason = f"'field ' || {label(field)} || {sql_string(': ' + check.message)}"
            if check.detail:  # on typed text, the value itself (`{f}->>'$'` of its JSON string)
                detail = check.detail.replace(_JSON_TEXT, "{f}") if typed_read else check.detail
                reason += f" || {_sql(field, detail)}"
            checks.append((_sql(field, condition), reason))
    reason = "CASE " + " ".join(f"WHEN {condition} THEN {text}" for condition, text in checks) + " END"
    tags = ", ".join(f"coalesce(left(f_{f.name}, 1), 'n') AS tag_{f.name}" for f in FIELDS if not read(f))
    layered = f"SELECT *{', ' + tags if tags else ''} FROM ({fields})"
    for field in FIELDS:  # one layer per helper: a helper used by a later one is computed once
        typed_read = read(field)
        for name, sql in (typed_read.helpers if typed_read else field.helpers):
            layered = f"SELECT *, {_sql(field, sql)} AS {name} FROM ({layered})"
    values = ",\n".join(f"CASE WHEN reason IS NULL THEN {_sql(f, _value(f, read(f)))} END AS {f.column}"
                        for f in FIELDS)
    return f"""
    SELECT {index} AS file_index, reason,
           {values}
    FROM (
        SELECT *, {reason} AS reason
        FROM ({layered})
    )
    """


def field_names(names: Mapping[str, str]) -> Sequence[str]:
    """The export's names of the fields, in FIELDS order."""
    return [names[field.name] for field in FIELDS]
