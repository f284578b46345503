"""The remediation data model: one validated file as a typed, immutable value."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from remedy.files.schema import (
    TEXT_FIELD_BY_KIND,
    empty_items,
    fields_for,
    is_empty,
    parse_timestamp,
    value_error,
)
from remedy.files.yaml_source import Document, Position
from remedy.normalize import normalize_question


@dataclass(frozen=True)
class Remediation:
    id: str
    kind: str  # answer | guidance | review
    status: str  # draft | active | paused
    question: str
    text: str  # the answer, the guidance, or (for a review) the judged response
    path: Path
    verdict: str | None = None
    note: str | None = None
    also_matches: tuple[str, ...] = ()
    must_not_match: tuple[str, ...] = ()
    threshold: float | None = None
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] | None = None  # None: not set here, the folder's [owners] default applies
    review_by: datetime.date | None = None
    activated: datetime.datetime | None = None
    source_logs: tuple[str, ...] = ()
    replaces: str | None = None  # an answer: the id of the answer whose new version this is
    created: datetime.datetime | None = None
    updated: datetime.datetime | None = None
    updated_by: str | None = None
    document: Document | None = field(default=None, compare=False, repr=False)

    @property
    def normalized_question(self) -> str:
        return normalize_question(self.question)

    def position(self, key: str) -> Position:
        """Where `key`'s value stands in the file (the key itself when absent: the top of the file)."""
        if self.document and key in self.document.value_positions:
            return self.document.value_positions[key]
        return Position(1, 1)

    def item_position(self, key: str, index: int) -> Position:
        if self.document and index < len(self.document.item_positions.get(key, [])):
            return self.document.item_positions[key][index]
        return self.position(key)

    @classmethod
    def from_document(cls, document: Document) -> Remediation | None:
        """The remediation a document describes, or None when its kind, id, status or a field is invalid.

        Schema rules report why; this only decides whether the document is usable.
        """
        values = document.values
        kind = values.get("kind")
        if kind not in TEXT_FIELD_BY_KIND:
            return None
        known = {spec.name for spec in fields_for(kind)}
        if set(values) - known:
            return None
        for spec in fields_for(kind):
            if spec.name in values:
                value = values[spec.name]
                if is_empty(value) and spec.required or empty_items(value) or value_error(spec, value):
                    return None
                if spec.choices and value not in spec.choices:
                    return None
            elif spec.required:
                return None
        return cls(
            id=values["id"],
            kind=kind,
            status=values["status"],
            question=values["question"],
            text=values[TEXT_FIELD_BY_KIND[kind]],
            path=document.path,
            verdict=values.get("verdict"),
            note=values.get("note"),
            also_matches=tuple(values.get("also_matches") or ()),
            must_not_match=tuple(values.get("must_not_match") or ()),
            threshold=values.get("threshold"),
            tags=tuple(values.get("tags") or ()),
            owners=tuple(values["owners"]) if values.get("owners") is not None else None,
            review_by=values.get("review_by"),
            activated=parse_timestamp(values["activated"]) if "activated" in values else None,
            source_logs=tuple(str(item) for item in values.get("source_logs") or ()),
            replaces=values.get("replaces"),
            created=parse_timestamp(values["created"]) if "created" in values else None,
            updated=parse_timestamp(values["updated"]) if "updated" in values else None,
            updated_by=values.get("updated_by"),
            document=document,
        )

