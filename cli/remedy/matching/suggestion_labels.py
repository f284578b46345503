"""The suggestion labels file (DESIGN 2.4): written by `suggest --out`, filled in by experts.

One flow mapping a line, grouped by entry under a comment that quotes the entry's question:

    # remedy suggestion labels; model bundled@<fingerprint>. Fill in label: yes | no | skip
    # refund-cancelled-flight   Q: Can I get a refund if my flight is cancelled?
    - {id: refund-cancelled-flight, query: "my flight got cancelled, money back?", similarity: 0.81, count: 3, label: }

`label: yes` (the same question: serve this answer) makes the query an `also_matches` of the entry,
`no` (it must not get this answer) a `must_not_match`; `skip` or empty leaves it out. `similarity`
and `count` are what the logs said when the file was written, for the expert's eye. A query is one
line of text: a line break in it is refused (the writer collapses white space, the reader names the
line). Every problem is reported with the file, line and field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from remedy.control_characters import CONTROL, describe
from remedy.errors import InputError
from remedy.files.regular import read_regular_text
from remedy.files.yaml_source import LINE_BREAK

FIELDS = ("id", "query", "similarity", "count", "label")
# Longer than any question an expert would add to also_matches (the logs' own limit is far higher).
MAX_QUERY_CHARACTERS = 2_000
# Bidirectional controls (Trojan Source): they reorder how a line reads in an editor or a diff.
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
YES, NO, SKIP = "yes", "no", "skip"
MAX_FILE_BYTES = 20_000_000
_HEADER = "# remedy suggestion labels; model "


@dataclass(frozen=True)
class SuggestionLabel:
    """One suggestion and the expert's answer (None while not judged)."""

    id: str
    query: str
    similarity: float | None = None
    count: int | None = None
    label: str | None = None  # YES | NO | SKIP | None
    file: str = ""
    line: int = 0
    id_line: int = 0
    query_line: int = 0
    label_line: int = 0


def render_suggestion_labels(rows: Sequence[SuggestionLabel], *, model: str, fingerprint: str,
                             questions: dict[str, str], summary: Iterable[str] = ()) -> str:
    """The fill-in file: a header that tells the expert what to do, then the rows grouped by entry."""
    lines = [
        f"{_HEADER}{model}@{fingerprint}. Fill in label: yes | no | skip",
        "# yes:  the same question; this answer is right for it (it becomes an also_matches of the entry)",
        "# no:   it must not get this answer (it becomes a must_not_match); skip or empty: leave it out",
        "# similarity, count: what the logs said when this was written. Then: remedy suggest --apply THIS_FILE",
        *(f"# {line}" for line in summary),
    ]
    current = None
    for row in rows:
        if row.id != current:
            current = row.id
            question = questions.get(row.id, "")
            lines.append(f"# {row.id}" + (f"   Q: {_one_line(question)}" if question else ""))
        parts = [f"id: {flow_scalar(row.id)}", f"query: {flow_scalar(row.query)}"]
        if row.similarity is not None:
            parts.append(f"similarity: {_number(row.similarity)}")
        if row.count is not None:
            parts.append(f"count: {row.count}")
        parts.append("label: " + (row.label or ""))
        lines.append("- {" + ", ".join(parts) + "}")
    return "\n".join(lines) + "\n"


def flow_scalar(value: str) -> str:
    """A scalar that reads back as exactly `value` inside `{…}`: plain where that is safe, else double-quoted.

    A line break cannot stand in a one-line item: ValueError (suggest collapses white space first)."""
    if LINE_BREAK.search(value):
        raise ValueError(f"a suggestion is one line of text, not {value!r}")
    if value and value == value.strip() and not any(c in value for c in "#,[]{}:\"'") and value.isprintable():
        try:
            if yaml.safe_load(f"- {{k: {value}}}") == [{"k": value}]:
                return value
        except yaml.YAMLError:
            pass
    dumped = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=math.inf)  # type: ignore[arg-type]
    return dumped.strip().removesuffix("...").strip()


def read_suggestion_labels(path: Path) -> list[SuggestionLabel]:
    """Every row of a suggestion labels file; InputError names the file, line and field of a problem."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a suggestion labels file")
        text = read_regular_text(path)  # a FIFO put there must not hang --apply
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read suggestion labels file: {error}") from None
    return parse_suggestion_labels(text, str(path))


def parse_suggestion_labels(text: str, name: str) -> list[SuggestionLabel]:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as error:
        raise InputError(f"{name}: not valid YAML ({error})") from None
    try:
        root = loader.get_single_node()
        if root is None or (isinstance(root, yaml.ScalarNode) and loader.construct_object(root) is None):
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise InputError(f"{name}:{root.start_mark.line + 1}: a suggestion labels file is a list of "
                             "'- {id: …, query: …, label: …}' items")
        return [_row(loader, item, name) for item in root.value]
    except RecursionError:  # thousands of nested brackets
        raise InputError(f"{name}: nested too deeply; not a suggestion labels file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise InputError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    finally:
        loader.dispose()


def _row(loader: yaml.SafeLoader, node: yaml.Node, name: str) -> SuggestionLabel:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{name}:{line}: each item must be a mapping {{id, query, similarity, count, label}}")
    values: dict[str, tuple[Any, int]] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        key_line = key_node.start_mark.line + 1
        if key not in FIELDS:
            raise InputError(f"{name}:{key_line}: unknown field {key!r} (expected {', '.join(FIELDS)})")
        if key in values:
            raise InputError(f"{name}:{key_line}: field '{key}' appears twice")
        if not isinstance(value_node, yaml.ScalarNode):
            raise InputError(f"{name}:{key_line}: field '{key}' must be a single value")
        try:
            value = loader.construct_object(value_node)
        except ValueError as error:  # a date no calendar has (2026-02-30) in a plain scalar
            raise InputError(f"{name}:{value_node.start_mark.line + 1}: field '{key}' is not a value YAML can "
                             f"read ({error}); quote it") from None
        if key == "label" and isinstance(value, bool):
            # YAML 1.1 reads on / off / true / false as booleans too: only the words the file offers count
            value = value_node.value
        values[key] = (value, value_node.start_mark.line + 1)

    def at(field: str) -> int:
        return values.get(field, (None, line))[1]

    def fail(field: str, message: str) -> InputError:
        return InputError(f"{name}:{at(field)}: field '{field}' {message}")

    entry = values.get("id", (None, line))[0]
    if not isinstance(entry, str) or not entry.strip():
        raise fail("id", "must be the id of a remediation")
    query = values.get("query", (None, line))[0]
    if not isinstance(query, str) or not query.strip():
        raise fail("query", "must be non-empty text")
    if LINE_BREAK.search(query):
        raise fail("query", "holds a line break; a suggestion is one line of text")
    if len(query) > MAX_QUERY_CHARACTERS:
        raise fail("query", f"is {len(query):,} characters long; a log query is at most {MAX_QUERY_CHARACTERS:,}")
    hidden = _hidden(query)
    if hidden:
        raise fail("query", f"holds {describe(hidden.group())}, which would hide or reorder text in the "
                            "remediation file; remove it")
    similarity = values.get("similarity", (None, line))[0]
    if similarity is not None and (isinstance(similarity, bool) or not isinstance(similarity, (int, float))
                                   or not math.isfinite(similarity)):
        raise fail("similarity", f"must be a number, not {similarity!r}")
    count = values.get("count", (None, line))[0]
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise fail("count", f"must be a whole number of log rows, not {count!r}")
    label = _label(values.get("label", (None, line))[0])
    if label == "bad":
        raise fail("label", f"must be yes, no or skip (or empty while not judged), not {values['label'][0]!r}")
    return SuggestionLabel(id=entry.strip(), query=query, similarity=None if similarity is None else float(similarity),
                           count=count, label=label, file=name, line=line, id_line=at("id"),
                           query_line=at("query"), label_line=at("label"))


def labelable(query: str) -> bool:
    """Whether the reader takes `query` back: `suggest --out` leaves out the log queries it would refuse."""
    return len(query) <= MAX_QUERY_CHARACTERS and _hidden(query) is None and not LINE_BREAK.search(query)


def _hidden(query: str) -> re.Match[str] | None:
    return CONTROL.search(query) or BIDI.search(query)


def _label(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in (YES, "y"):
            return YES
        if word in (NO, "n"):
            return NO
        if word == SKIP:
            return SKIP
    return "bad"


def labels_pin(path: Path) -> str | None:
    """`model@fingerprint` from the header `suggest --out` wrote (None: no header)."""
    try:
        with path.open(encoding="utf-8") as stream:
            first = stream.readline(4096)
    except (OSError, UnicodeDecodeError):
        return None
    if not first.startswith(_HEADER):
        return None
    return first[len(_HEADER):].split(". Fill in", 1)[0].strip() or None


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 100 else flat[:97] + "..."
