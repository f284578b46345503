"""The remediation file format, declared once: which keys each kind takes, their types and sets.

The schema rules, the `Remediation` model and `remedy schema` (JSON Schema for editors) all read
this table, so the format cannot drift between them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from remedy.owner_handles import OWNER_PATTERN

KINDS = ("answer", "guidance", "review")
STATUSES = ("draft", "active", "paused")
VERDICTS = ("good", "bad", "skip")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # anchored for the JSON Schema; test with is_slug (fullmatch)
MAX_ID_LENGTH = 80


def is_slug(text: str) -> bool:
    """The whole text is a slug: `re.match` with `$` would also accept a trailing newline."""
    return SLUG.fullmatch(text) is not None


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # text | string | slug | enum | texts | strings | log_ids | owners | threshold | date | timestamp
    description: str
    kinds: tuple[str, ...] = KINDS
    required: bool = False
    choices: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("kind", "enum", "What this remediation is.", required=True, choices=KINDS),
    Field("id", "slug", "Unique slug, equal to the file name without .yaml.", required=True),
    Field("status", "enum", "draft (not served), active (served), paused (not served, history kept).",
          required=True, choices=STATUSES),
    Field("question", "text", "The user question this remediation is for (for a review: the judged query).",
          required=True),
    Field("answer", "text", "The verbatim answer served for the question and similar queries.",
          kinds=("answer",), required=True),
    Field("guidance", "text", "Advice added to the assistant's prompt for similar queries.",
          kinds=("guidance",), required=True),
    Field("verdict", "enum", "good lets similar responses pass guardrails, bad blocks them, skip only marks "
          "the case addressed.", kinds=("review",), required=True, choices=VERDICTS),
    Field("response", "text", "The assistant response being judged.", kinds=("review",), required=True),
    Field("note", "text", "Why the response is good or bad.", kinds=("review",)),
    Field("also_matches", "texts", "Paraphrases that must match this entry (checked by `remedy test`)."),
    Field("must_not_match", "texts", "Near queries that must not match this entry."),
    Field("threshold", "threshold", "Similarity threshold for this entry (cosine, 0 to 1)."),
    Field("tags", "strings", "Free labels for grouping."),
    Field("owners", "owners", "Who reviews changes to this entry: GitHub users '@name', teams '@org/team' or e-mail "
          "addresses. Overrides the [owners] default of its folder; [] means nobody. `remedy owners --write` "
          "turns them into CODEOWNERS lines."),
    Field("review_by", "date", "After this date `validate` warns that the entry needs a fresh look."),
    Field("activated", "timestamp", "When the entry was last activated (written by `remedy activate`)."),
    Field("source_logs", "log_ids", "Ids of the failure logs this entry was created from."),
    Field("replaces", "slug", "The id of the answer this one replaces: its text is a new version of that answer's "
          "(written by `remedy new answer --from ID`; pause the old one when this one is activated).",
          kinds=("answer",)),
    Field("created", "timestamp", "Creation time where the folder is not in git."),
    Field("updated", "timestamp", "Last edit time where the folder is not in git."),
    Field("updated_by", "string", "Last editor where the folder is not in git."),
)

FIELDS_BY_NAME = {field.name: field for field in FIELDS}
LIST_TYPES = ("texts", "strings", "log_ids", "owners")
TEXT_FIELD_BY_KIND = {"answer": "answer", "guidance": "guidance", "review": "response"}


def fields_for(kind: str) -> tuple[Field, ...]:
    return tuple(field for field in FIELDS if kind in field.kinds)


def json_schema() -> dict:
    """A JSON Schema (draft 2020-12) of the file format, for yaml-language-server and other editors."""
    type_schemas: dict[str, dict[str, object]] = {
        "text": {"type": "string", "minLength": 1},
        "string": {"type": "string"},
        "slug": {"type": "string", "pattern": SLUG.pattern, "maxLength": MAX_ID_LENGTH},
        "texts": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "strings": {"type": "array", "items": {"type": "string"}},
        "log_ids": {"type": "array", "items": {"type": ["string", "integer"]}},
        "owners": {"type": "array", "items": {"type": "string", "pattern": OWNER_PATTERN}},
        "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "date": {"type": "string", "format": "date"},
        "timestamp": {"type": "string", "format": "date-time"},
    }

    def property_schema(field: Field, kind: str) -> dict:
        schema: dict[str, object] = ({"enum": list(field.choices)} if field.type == "enum"
                                     else dict(type_schemas[field.type]))
        if field.name == "kind":
            schema = {"const": kind}
        return {**schema, "description": field.description}

    variants = []
    for kind in KINDS:
        fields = fields_for(kind)
        variants.append({
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {
                "properties": {field.name: property_schema(field, kind) for field in fields},
                "required": [field.name for field in fields if field.required],
                "additionalProperties": False,
            },
        })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://remedy.dev/schema/remediation.json",
        "title": "remedy remediation",
        "description": "One Expert Answer, Guidance or Review (see docs/remediations.md).",
        "type": "object",
        "properties": {"kind": {"enum": list(KINDS), "description": FIELDS_BY_NAME["kind"].description}},
        "required": ["kind", "id", "status", "question"],
        "allOf": variants,
    }


def value_error(field: Field, value: object) -> str | None:
    """Why `value` is not acceptable for `field` (type, set, emptiness), or None when it is."""
    def is_text(item: object) -> bool:
        return isinstance(item, str)

    if is_empty(value):
        return None  # emptiness is its own rule (S004)
    match field.type:
        case "text" | "string":
            if isinstance(value, bool):
                return "must be text, not true/false (YAML reads a bare yes/no/on/off as true/false: quote it)"
            if not is_text(value):
                return f"must be text, not {_type_name(value)}"
        case "slug":
            if not is_text(value):
                return f"must be text, not {_type_name(value)}"
        case "enum":
            if not is_text(value):
                return f"must be one of {', '.join(field.choices)}, not {_type_name(value)}"
        case "texts" | "strings" | "log_ids" | "owners":
            if not isinstance(value, list):
                return f"must be a list, not {_type_name(value)}"
            for index, item in enumerate(value):
                allowed = is_text(item) or (field.type == "log_ids" and isinstance(item, int)
                                             and not isinstance(item, bool))
                if not allowed and not is_empty(item):
                    return f"item {index + 1} must be text, not {_type_name(item)}"
        case "threshold":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"must be a number, not {_type_name(value)}"
            if not 0 < value <= 1:
                return f"must be above 0 and at most 1, not {value}"
        case "date":
            if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
                return f"must be a date like 2027-05-01, not {value!r}"
        case "timestamp":
            if parse_timestamp(value) is None:
                return f"must be a date or time like 2026-11-03T10:00:00Z, not {value!r}"
    return None


def is_empty(value: object) -> bool:
    """A missing value, blank text, or an empty list: YAML writes all three as easily as a real value."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def empty_items(value: object) -> list[int]:
    """1-based indexes of blank items in a list value."""
    return [index + 1 for index, item in enumerate(value) if is_empty(item)] if isinstance(value, list) else []


def parse_timestamp(value: object) -> datetime.datetime | None:
    """A YAML timestamp, date, or ISO 8601 string as an aware UTC datetime; None when it is none of those."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    return None


def _type_name(value: object) -> str:
    names = {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)
