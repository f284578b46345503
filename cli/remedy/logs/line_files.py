"""Files that DuckDB cannot read line by line exactly, rewritten as one JSON document per input line.

The reader numbers lines by position (see `reading`), so a rewrite keeps every line where it was: line
N of the output stands for line N of the input. A line that cannot be read carries `MARK` and the
reason instead, and is reported as `file:N: reason` like any malformed line. Two cases need it:

- CSV: DuckDB's reader counts records, not lines (a quoted cell with a line break shifts every later
  number), and a single ragged row makes its sniffer read the whole file as one column. Python's
  `csv` module splits records strictly and says on which line each starts; a record becomes a JSON
  object on its first line (its other lines, the header and blank lines stay empty).
- JSON lines that are not all UTF-8: DuckDB stops at the first bad byte. Only then (the fast path
  has failed) each line is decoded here, and the bad ones are marked.

Both write into a temporary file that the caller deletes; the input is only read.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections.abc import Iterable, Iterator
from typing import IO

from remedy.errors import InputError
from remedy.logs.fields import MARK
from remedy.logs.settings import LogSettings

NOT_UTF8 = "not UTF-8 text"
_BOOLEAN_FIELDS = ("is_bad", "guardrailed")
_TRUE, _FALSE = frozenset({"true", "t", "yes", "1"}), frozenset({"false", "f", "no", "0"})
# A cell may be as long as a JSON line may be (a long context); the csv module's default is 128 KB.
csv.field_size_limit(256 * 1024 * 1024)
_SNIFF_BYTES = 64 * 1024


def csv_as_lines(path: str, compressed: bool, settings: LogSettings, out: IO[str]) -> None:
    """Write one line per line of the CSV file `path` to `out` (see the module docstring)."""
    bad_lines: set[int] = set()
    with _open(path, compressed) as stream:
        reader = csv.reader(_decoded(_csv_lines(path, compressed, stream), bad_lines), strict=True)
        fields = {name: canonical for canonical, name in settings.fields.items()}
        header: list[str] | None = None
        written = 0
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # e.g. a quote that never closes: the rest cannot be split
                out.write("\n" * (start - 1 - written) + f"{MARK}not valid CSV ({error})\n")
                return
            end = reader.line_num
            out.write("\n" * (start - 1 - written))
            if header is None and record:
                header = [name.lstrip("\ufeff") for name in record]
                _refuse_repeated_fields(path, header, fields)
                line = ""
            elif not record or record == [""]:
                line = ""
            elif any(number in bad_lines for number in range(start, end + 1)):
                line = MARK + NOT_UTF8
            elif header is not None and len(record) != len(header):
                line = f"{MARK}this row has {len(record)} field(s), the header has {len(header)}"
            else:
                line = json.dumps(_document(header or [], record, fields), ensure_ascii=False)
            out.write(line + "\n" * (end - start + 1))
            written = end


def csv_header(path: str, compressed: bool) -> list[str]:
    """The names in the first row of a CSV file (for messages)."""
    with _open(path, compressed) as stream:
        try:
            first = next(csv.reader(_decoded(_csv_lines(path, compressed, stream), set())), [])
        except csv.Error:
            return []  # for a message only: the reading names what is wrong with the file
    return [name.lstrip("\ufeff") for name in first]


def _refuse_repeated_fields(path: str, header: list[str], fields: dict[str, str]) -> None:
    """Two columns of a field's name: which one holds the field cannot be known (the last one was used)."""
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if name in fields and name in seen:
            raise InputError(f"{path}:1: the header names column {name!r} twice (columns {seen[name]} and "
                             f"{number}): which one holds field {fields[name]!r} cannot be known; rename or drop one")
        seen.setdefault(name, number)


def _csv_lines(path: str, compressed: bool, stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a CSV file as bytes, each with its line end: split on `\n` (so `\r\n` too), or on `\r`
    when the file ends its lines with `\r` alone (classic Mac OS, some spreadsheet exports): its first
    64 KB hold a `\r` and no `\n`. Either way a line of the file is a line of the rewritten file."""
    with _open(path, compressed) as sniffed:
        head = sniffed.read(_SNIFF_BYTES)
    if b"\n" in head or b"\r" not in head:
        yield from stream
        return
    rest = b""
    for block in iter(lambda: stream.read(1 << 20), b""):
        *lines, rest = (rest + block).split(b"\r")
        yield from (line + b"\r" for line in lines)
    if rest:
        yield rest


def utf8_lines(path: str, compressed: bool, out: IO[str]) -> None:
    """Copy the lines of `path` to `out`, each line that is not UTF-8 replaced by `MARK` + the reason."""
    with _open(path, compressed) as stream:
        for raw in stream:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = MARK + NOT_UTF8 + ("\n" if raw.endswith(b"\n") else "")
            out.write(text)


def _document(header: list[str], record: list[str], fields: dict[str, str]) -> dict[str, object]:
    """The row as a JSON object of its canonical fields: an empty cell is absent, booleans and the
    severity typed when they read as such (else kept as text, which the checks then name)."""
    document: dict[str, object] = {}
    for name, cell in zip(header, record, strict=True):
        canonical = fields.get(name)
        if canonical is None or cell == "":
            continue
        value: object = cell
        if canonical in _BOOLEAN_FIELDS:
            lowered = cell.strip().lower()
            value = True if lowered in _TRUE else False if lowered in _FALSE else cell
        elif canonical == "severity":
            value = _number(cell)
        document[name] = value
    return document


def _number(cell: str) -> object:
    try:
        number = float(cell)
    except ValueError:
        return cell
    return number if math.isfinite(number) else cell


def _decoded(stream: Iterable[bytes], bad_lines: set[int]) -> Iterator[str]:
    for number, raw in enumerate(stream, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield raw.decode("utf-8", errors="replace")


def _open(path: str, compressed: bool) -> IO[bytes]:
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")
