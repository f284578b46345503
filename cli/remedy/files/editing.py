"""Changing top-level scalar fields of a remediation file while keeping every other byte.

Comments, key order, quoting and line endings survive (CRLF, CR-only, and the Unicode line breaks
that YAML counts as lines: positions come from the same line rule as libyaml's marks): only the
characters of the changed values are replaced, and a missing key is inserted as one new line after
an anchor key. The result is parsed again and compared with the original, so an edit can never change more than it says.
"""

from __future__ import annotations

import yaml

from remedy.errors import RefusedError
from remedy.files.yaml_source import LINE_BREAK, Document, SourceError, line_starts, parse_document


def with_fields(document: Document, updates: dict[str, str], *, insert_after: str) -> str:
    """The file's text with each key in `updates` set to the given plain scalar value."""
    if document.flow_style:
        raise RefusedError(f"{document.path}: written as a one-line {{…}} mapping; rewrite it in block style "
                           "to let remedy edit it")
    text = document.text
    newline = _newline(text)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in character offsets
    starts = line_starts(text)
    for key, value in updates.items():
        if key in document.nodes:
            node = document.nodes[key][1]
            if not isinstance(node, yaml.ScalarNode) or node.start_mark.line != node.end_mark.line:
                raise RefusedError(f"{document.path}: '{key}' is not a one-line value; cannot edit it safely")
            start = starts[node.start_mark.line] + node.start_mark.column
            end = starts[node.end_mark.line] + node.end_mark.column
            quote = node.style if node.style in ("'", '"') else ""
            replacement = f"{quote}{value}{quote}"
            if start == end and text[start - 1:start] == ":":
                replacement = " " + replacement  # `key:` with no value at all
            edits.append((start, end, replacement))
        else:
            anchor_key, anchor_value = document.nodes[insert_after]
            end_line = anchor_value.end_mark.line if anchor_value.end_mark.column else anchor_value.end_mark.line - 1
            at = starts[end_line + 1] if end_line + 1 < len(starts) else len(text)
            indent = " " * anchor_key.start_mark.column
            prefix = "" if at == 0 or LINE_BREAK.fullmatch(text[at - 1]) else newline
            edits.append((at, at, f"{prefix}{indent}{key}: {value}{newline}"))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    _verify(document, text, updates)
    return text


def _newline(text: str) -> str:
    """The file's own line ending (the first CRLF, CR or LF in it), for an inserted line."""
    found = next((match.group() for match in LINE_BREAK.finditer(text) if match.group() in ("\r\n", "\r", "\n")),
                 "\n")
    return found


def _verify(document: Document, text: str, updates: dict[str, str]) -> None:
    try:
        edited = parse_document(document.path, text)
    except SourceError as error:  # pragma: no cover - would be a bug in the edit above
        raise RefusedError(f"{document.path}: the edit would break the file ({error.message}); "
                           "nothing written") from None
    expected = {key: value for key, value in document.values.items() if key not in updates}
    actual = {key: value for key, value in edited.values.items() if key not in updates}
    changed = {key for key in updates if str(edited.values.get(key)) != updates[key]
               and not _same_timestamp(edited.values.get(key), updates[key])}
    if expected != actual or changed:
        raise RefusedError(f"{document.path}: the edit would change more than {', '.join(updates)}; nothing written")


def _same_timestamp(parsed: object, written: str) -> bool:
    from remedy.files.schema import parse_timestamp

    return parsed is not None and parse_timestamp(parsed) == parse_timestamp(written)
