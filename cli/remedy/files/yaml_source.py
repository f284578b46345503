"""Reading one remediation file: bytes → a mapping of values, with the position of every key and value.

Safe by construction: libyaml's safe loader (no object construction), aliases refused (so an alias
bomb never expands), a size cap, and every failure turned into a `SourceError` with a rule code and a
position instead of an exception from deep inside PyYAML.
"""

from __future__ import annotations

import bisect
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from remedy import file_codes

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader



def _timestamp_or_text(loader: Any, node: yaml.ScalarNode) -> Any:
    """A YAML date or time, or its text when no calendar has it (`2026-02-30`, year 0): PyYAML raised
    ValueError from deep inside (an internal error, exit 3); as text, the schema names the field."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


class _RemediationLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader, with impossible dates kept as text."""


_RemediationLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

# The F rules' codes (the rule modules document them, the reader raises them; both read them from file_codes).
UNREADABLE, YAML_SYNTAX, NOT_A_MAPPING, ANCHORS, SYMLINK = (
    file_codes.FILE_UNREADABLE, file_codes.FILE_YAML_SYNTAX, file_codes.FILE_NOT_A_MAPPING, file_codes.FILE_ANCHORS,
    file_codes.FILE_SYMLINK)
MAX_FILE_BYTES = 1_000_000  # a remediation is a few hundred bytes; anything this big is a mistake
# What YAML (and so libyaml's line and column marks) counts as a line break.
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass(frozen=True)
class Position:
    """1-based line and column, as editors show them."""

    line: int
    column: int


@dataclass(frozen=True)
class SourceError(Exception):
    """A file that cannot be read as a YAML mapping; `code` is the CODE of one of the F rule modules."""

    code: str
    message: str
    position: Position = Position(1, 1)


@dataclass
class Document:
    """One parsed file: values by top-level key, plus where each key and value stands."""

    path: Path
    text: str
    values: dict[str, Any]
    key_positions: dict[str, Position]
    value_positions: dict[str, Position]
    # For list values: the position of each item, so a problem can point at the offending entry.
    item_positions: dict[str, list[Position]] = field(default_factory=dict)
    duplicate_keys: list[tuple[str, Position]] = field(default_factory=list)
    nodes: dict[str, tuple[yaml.Node, yaml.Node]] = field(default_factory=dict)
    flow_style: bool = False


def read_document(path: Path) -> Document:
    """Read and parse one file; raise SourceError (never a YAML or OS exception) when it cannot be."""
    return parse_bytes(path, read_capped(path))


def parse_bytes(path: Path, data: bytes) -> Document:
    """Parse a file's bytes, wherever they come from (the disk, a git revision); SourceError when they are
    not UTF-8 text holding a YAML mapping."""
    return parse_document(path, decode_text(data))


def parse_document(path: Path, text: str) -> Document:
    if not text.strip():
        raise SourceError(NOT_A_MAPPING, "the file is empty; a remediation is a YAML mapping (kind, id, status, …)")
    if "\t" in text:
        # YAML forbids tabs in indentation; say so plainly instead of PyYAML's scanner message.
        raise SourceError(YAML_SYNTAX, "tab character: YAML indentation must use spaces",
                          position_of(text, text.index("\t")))
    loader = _RemediationLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SourceError(NOT_A_MAPPING, "the file holds no YAML document")
        _refuse_aliases(root)
        if not isinstance(root, yaml.MappingNode):
            kind = {yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}.get(type(root), "not a mapping")
            raise SourceError(NOT_A_MAPPING, f"the file is {kind}; a remediation is a YAML mapping (kind, id, …)",
                              _position(root.start_mark))
        return _document_from_mapping(path, text, root, loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.context, error.problem) if part) or "malformed YAML"
        raise SourceError(YAML_SYNTAX, f"YAML syntax: {message}", _position(mark) if mark else Position(1, 1)) from None
    except yaml.YAMLError as error:
        raise SourceError(YAML_SYNTAX, f"YAML syntax: {error}") from None
    except RecursionError:
        raise SourceError(YAML_SYNTAX, "YAML nesting too deep") from None
    finally:
        loader.dispose()


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(UNREADABLE, f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
                          Position(line, 1)) from None


def read_capped(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; SourceError for anything else.

    A symlink is refused (F006) rather than followed: a link could point at a file outside the
    repository (a secrets file, /dev/zero) or hide an answer's real file from the gate. Devices,
    FIFOs and sockets are refused before they are opened for reading (a FIFO would block, /dev/zero
    never ends), and never more than the cap + 1 byte is read, whatever the file claims its size is.
    """
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise SourceError(SYMLINK, f"is a symlink (to {os.readlink(path)}); remedy does not follow links: "
                                       "put the real file or folder here")
        if stat.S_ISDIR(info.st_mode):
            raise SourceError(UNREADABLE, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(UNREADABLE, f"is not a regular file (a {_file_type(info.st_mode)}); remediations are "
                                      "plain text files")
        if info.st_size > MAX_FILE_BYTES:
            raise too_big(info.st_size)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(path, flags)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # swapped after the check above
                raise SourceError(UNREADABLE, "is not a regular file")
            chunks, remaining = [], MAX_FILE_BYTES + 1
            while remaining > 0:
                chunk = os.read(descriptor, min(remaining, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(descriptor)
    except SourceError:
        raise
    except OSError as error:
        raise SourceError(UNREADABLE, f"cannot read: {error.strerror or error}") from None
    data = b"".join(chunks)
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(UNREADABLE, f"file is over {MAX_FILE_BYTES:,} bytes; remediation files are limited to "
                                  f"{MAX_FILE_BYTES:,}")
    return data


def too_big(size: int) -> SourceError:
    return SourceError(UNREADABLE, f"file is {size:,} bytes; remediation files are limited to {MAX_FILE_BYTES:,}")


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def line_starts(text: str) -> list[int]:
    """The character offset where each line starts, counting lines as YAML does (CR, LF, CRLF, NEL, LS, PS).

    libyaml skips a leading byte-order mark in its columns, so the first line starts after it.
    """
    return [1 if text.startswith("\ufeff") else 0, *(match.end() for match in LINE_BREAK.finditer(text))]


def position_of(text: str, offset: int, starts: list[int] | None = None) -> Position:
    """The 1-based line and column of a character offset."""
    starts = starts if starts is not None else line_starts(text)
    line = max(bisect.bisect_right(starts, offset) - 1, 0)
    return Position(line + 1, offset - starts[line] + 1)


def offset_of(text: str, position: Position, starts: list[int] | None = None) -> int:
    """The character offset of a 1-based line and column (the end of the text past the last line)."""
    starts = starts if starts is not None else line_starts(text)
    if position.line - 1 >= len(starts):
        return len(text)
    return starts[position.line - 1] + position.column - 1


def _refuse_aliases(root: yaml.Node) -> None:
    """A node reached twice is an alias; refusing them makes alias bombs harmless."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise SourceError(ANCHORS, "YAML anchors and aliases (&name / *name) are not allowed in remediations",
                              _position(node.start_mark))
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _document_from_mapping(path: Path, text: str, root: yaml.MappingNode, loader: Any) -> Document:
    document = Document(path=path, text=text, values={}, key_positions={}, value_positions={},
                        flow_style=bool(root.flow_style))
    for key_node, value_node in root.value:
        key_position = _position(key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            raise SourceError(NOT_A_MAPPING, "a key must be a plain name", key_position)
        key = str(loader.construct_object(key_node, deep=True))
        if key in document.values:
            document.duplicate_keys.append((key, key_position))
            continue
        document.values[key] = loader.construct_object(value_node, deep=True)
        document.key_positions[key] = key_position
        document.value_positions[key] = _position(value_node.start_mark)
        document.nodes[key] = (key_node, value_node)
        if isinstance(value_node, yaml.SequenceNode):
            document.item_positions[key] = [_position(item.start_mark) for item in value_node.value]
    return document


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)
