"""Reading one remediation file: bytes → a mapping of values, with the position of every key and value.

Safe by construction: libyaml's safe loader (no object construction), aliases refused (so an alias
bomb never expands), a size cap, and every failure turned into a `SourceError` with a rule code and a
position instead of an exception from deep inside PyYAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 1_000_000  # a remediation is a few hundred bytes; anything this big is a mistake


@dataclass(frozen=True)
class Position:
    """1-based line and column, as editors show them."""

    line: int
    column: int


@dataclass(frozen=True)
class SourceError(Exception):
    """A file that cannot be read as a YAML mapping; `code` is one of the F rules."""

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
    text = _read_text(path)
    return parse_document(path, text)


def parse_document(path: Path, text: str) -> Document:
    if not text.strip():
        raise SourceError("F003", "the file is empty; a remediation is a YAML mapping (kind, id, status, …)")
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        column = text.index("\t") - (text.rfind("\n", 0, text.index("\t")) + 1) + 1
        # YAML forbids tabs in indentation; say so plainly instead of PyYAML's scanner message.
        raise SourceError("F002", "tab character: YAML indentation must use spaces", Position(line, column))
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SourceError("F003", "the file holds no YAML document")
        _refuse_aliases(root)
        if not isinstance(root, yaml.MappingNode):
            kind = {yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}.get(type(root), "not a mapping")
            raise SourceError("F003", f"the file is {kind}; a remediation is a YAML mapping (kind, id, …)",
                              _position(root.start_mark))
        return _document_from_mapping(path, text, root, loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.context, error.problem) if part) or "malformed YAML"
        raise SourceError("F002", f"YAML syntax: {message}", _position(mark) if mark else Position(1, 1)) from None
    except yaml.YAMLError as error:
        raise SourceError("F002", f"YAML syntax: {error}") from None
    except RecursionError:
        raise SourceError("F002", "YAML nesting too deep") from None
    finally:
        loader.dispose()


def _read_text(path: Path) -> str:
    try:
        if path.is_dir():
            raise SourceError("F001", "is a directory, not a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError("F001", f"file is {size:,} bytes; remediation files are limited to {MAX_FILE_BYTES:,}")
        data = path.read_bytes()
    except SourceError:
        raise
    except OSError as error:
        raise SourceError("F001", f"cannot read: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError("F001", f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
                          Position(line, 1)) from None


def _refuse_aliases(root: yaml.Node) -> None:
    """A node reached twice is an alias; refusing them makes alias bombs harmless."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise SourceError("F004", "YAML anchors and aliases (&name / *name) are not allowed in remediations",
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
            raise SourceError("F003", "a key must be a plain name", key_position)
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
