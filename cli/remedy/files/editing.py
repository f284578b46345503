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


def with_list_items(document: Document, additions: dict[str, list[str]], *, anchors: tuple[str, ...]) -> str:
    """The file's text with `additions[key]` appended to each list field `key` (created when missing).

    A block list gets new `- item` lines after its last item, at its own indent; a flow list `[…]` new
    items before its `]`; an empty value (`key:` or `null`) becomes a flow list. A missing key is
    inserted as a block list after the first of `anchors` that the file has. Items are written plain
    where that reads back the same, else double-quoted. The result is parsed again and compared: only
    the listed fields may change, and only by the items added.
    """
    if document.flow_style:
        raise RefusedError(f"{document.path}: written as a one-line {{…}} mapping; rewrite it in block style "
                           "to let remedy edit it")
    text = document.text
    newline = _newline(text)
    starts = line_starts(text)
    edits: list[tuple[int, int, str]] = []
    missing: list[str] = []
    for key, items in additions.items():
        if not items:
            continue
        if key not in document.nodes:
            missing.append(key)
            continue
        key_node, node = document.nodes[key]
        if isinstance(node, yaml.ScalarNode) and document.values.get(key) is None:
            start = starts[node.start_mark.line] + node.start_mark.column
            end = starts[node.end_mark.line] + node.end_mark.column
            flow = "[" + ", ".join(_item(item, flow=True) for item in items) + "]"
            edits.append((start, end, (" " if start == end and text[start - 1:start] == ":" else "") + flow))
        elif isinstance(node, yaml.SequenceNode) and node.flow_style:
            close = starts[node.end_mark.line] + node.end_mark.column - 1  # the `]`
            joined = ", ".join(_item(item, flow=True) for item in items)
            edits.append((close, close, (", " if node.value else "") + joined))
        elif isinstance(node, yaml.SequenceNode) and node.value:
            last = node.value[-1]
            first = node.value[0]
            line_text = text[starts[first.start_mark.line]:starts[first.start_mark.line] + first.start_mark.column]
            dash = line_text.rfind("-")
            indent = " " * (dash if dash >= 0 else key_node.start_mark.column + 2)
            at = _after_node(text, starts, last)
            prefix = "" if at == 0 or LINE_BREAK.fullmatch(text[at - 1]) else newline
            block = "".join(f"{indent}- {_item(item, flow=False)}{newline}" for item in items)
            edits.append((at, at, prefix + block))
        else:
            raise RefusedError(f"{document.path}: '{key}' is not a list of texts; cannot add to it safely")
    if missing:
        anchor = next((key for key in anchors if key in document.nodes), None)
        if anchor is None:
            raise RefusedError(f"{document.path}: none of {', '.join(anchors)} to place {', '.join(missing)} after")
        anchor_key, anchor_value = document.nodes[anchor]
        at = _after_node(text, starts, anchor_value)
        prefix = "" if at == 0 or LINE_BREAK.fullmatch(text[at - 1]) else newline
        indent = " " * anchor_key.start_mark.column
        block = "".join(f"{indent}{key}:{newline}" + "".join(f"{indent}  - {_item(item, flow=False)}{newline}"
                                                             for item in additions[key]) for key in missing)
        edits.append((at, at, prefix + block))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    _verify_lists(document, text, additions)
    return text


def _after_node(text: str, starts: list[int], node: yaml.Node) -> int:
    """The offset where the line after `node` starts (the end of the text when it is the last line)."""
    end_line = node.end_mark.line if node.end_mark.column else node.end_mark.line - 1
    return starts[end_line + 1] if end_line + 1 < len(starts) else len(text)


def _item(value: str, *, flow: bool) -> str:
    """One list item that reads back as exactly `value`: plain where safe, else double-quoted."""
    if LINE_BREAK.search(value):
        raise RefusedError(f"{value!r}: a line break cannot be added as one item of a list of texts")
    risky = "#,[]{}" if flow else "#"
    if value and value == value.strip() and value.isprintable() and not any(c in value for c in risky):
        probe = f"k: [{value}]" if flow else f"k:\n  - {value}\n"
        try:
            if yaml.safe_load(probe) == {"k": [value]}:
                return value
        except yaml.YAMLError:
            pass
    dumped = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=float("inf"))  # type: ignore[arg-type]
    return str(dumped).strip().removesuffix("...").strip()


def _verify_lists(document: Document, text: str, additions: dict[str, list[str]]) -> None:
    try:
        edited = parse_document(document.path, text)
    except SourceError as error:  # pragma: no cover - would be a bug in the edit above
        raise RefusedError(f"{document.path}: the edit would break the file ({error.message}); "
                           "nothing written") from None
    expected = {key: value for key, value in document.values.items() if key not in additions}
    actual = {key: value for key, value in edited.values.items() if key not in additions}
    grown = all(edited.values.get(key) == [*(document.values.get(key) or []), *items]
                for key, items in additions.items() if items)
    if expected != actual or not grown:
        raise RefusedError(f"{document.path}: the edit would change more than {', '.join(additions)}; "
                           "nothing written")
