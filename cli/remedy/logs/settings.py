"""Where each canonical log field lives in an export, and the cutoffs that turn scores into failures.

The `[logs]` table of the configuration maps canonical names to the export's names; `preset = "hosted"`
starts from the names a hosted evaluator's export uses, and individual keys override the preset.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from remedy.errors import UsageError
from remedy.logs.fields import CANONICAL_FIELDS, REQUIRED_FIELDS

if TYPE_CHECKING:
    from remedy.config import Config


# Exports of hosted evaluators name a few fields differently; everything else keeps its canonical name.
PRESETS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "hosted": MappingProxyType(
            {
                "query": "question",
                "is_bad": "is_bad_response",
                "scores": "eval_scores",
                "primary_issue": "primary_eval_issue",
                "served_remediation": "applied_expert_answer_id",
            }
        ),
    }
)

DEFAULT_FAILURE_CUTOFF = 0.5


def _identity_fields() -> Mapping[str, str]:
    return MappingProxyType({name: name for name in CANONICAL_FIELDS})


@dataclass(frozen=True)
class LogSettings:
    """How to read one kind of log export.

    `fields` maps every canonical name (CANONICAL_FIELDS) to the name of that field in the export.
    A score below its cutoff (`failure_cutoffs[name]`, else `failure_cutoff`) marks a failure where a
    log has no `is_bad`.
    """

    fields: Mapping[str, str] = field(default_factory=_identity_fields)
    failure_cutoff: float = DEFAULT_FAILURE_CUTOFF
    failure_cutoffs: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(CANONICAL_FIELDS))
        if unknown:
            raise UsageError(f"[logs]: unknown field {unknown[0]!r}; expected one of {', '.join(CANONICAL_FIELDS)}")
        merged = {**_identity_fields(), **self.fields}
        _check_field_names(merged)
        _check_cutoff("failure_cutoff", self.failure_cutoff)
        for name, cutoff in self.failure_cutoffs.items():
            if not isinstance(name, str) or not name:
                raise UsageError(f"[failure_cutoffs]: score names must be non-empty strings, got {name!r}")
            _check_cutoff(f"failure_cutoffs.{name}", cutoff)
        object.__setattr__(self, "fields", MappingProxyType(merged))
        object.__setattr__(self, "failure_cutoff", float(self.failure_cutoff))
        object.__setattr__(
            self, "failure_cutoffs", MappingProxyType({k: float(v) for k, v in self.failure_cutoffs.items()})
        )

    def name_of(self, canonical: str) -> str:
        """The export's name for a canonical field (KeyError for a name that is not canonical)."""
        return self.fields[canonical]

    def cutoff_for(self, score: str) -> float:
        """The failure cutoff that applies to one score."""
        return self.failure_cutoffs.get(score, self.failure_cutoff)

    @classmethod
    def from_config(
        cls,
        table: Mapping[str, Any] | None = None,
        failure_cutoff: float = DEFAULT_FAILURE_CUTOFF,
        failure_cutoffs: Mapping[str, float] | None = None,
    ) -> LogSettings:
        """Settings from the `[logs]` table (optionally with `preset`), `failure_cutoff`, `[failure_cutoffs]`.

        Raises UsageError naming the key for an unknown key or preset, or a value of the wrong type.
        """
        table = dict(table or {})
        fields: dict[str, str] = {}
        preset = table.pop("preset", None)
        if preset is not None:
            if not isinstance(preset, str) or preset not in PRESETS:
                raise UsageError(f"[logs] preset: unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
            fields.update(PRESETS[preset])
        for key, value in table.items():
            if key not in CANONICAL_FIELDS:
                raise UsageError(
                    f"[logs]: unknown key {key!r}; expected preset or one of {', '.join(CANONICAL_FIELDS)}"
                )
            if not isinstance(value, str):
                raise UsageError(f"[logs] {key}: expected a field name (a string), got {value!r}")
            fields[key] = value
        return cls(fields=fields, failure_cutoff=failure_cutoff, failure_cutoffs=dict(failure_cutoffs or {}))


def log_settings(config: Config) -> LogSettings:
    """The project's settings: its `[logs]` names and its failure cutoffs."""
    return LogSettings.from_config(config.logs, config.failure_cutoff, config.failure_cutoffs)


def _check_field_names(fields: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for canonical, name in fields.items():
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"[logs] {canonical}: expected a non-empty field name, got {name!r}")
        if '"' in name or "\\" in name or any(ord(ch) < 32 for ch in name):
            raise UsageError(
                f"[logs] {canonical}: field name {name!r} may not contain quotes, backslashes or control characters"
            )
        if name in seen:
            raise UsageError(f"[logs] {canonical}: field {name!r} is already used for {seen[name]!r}")
        seen[name] = canonical


def _check_cutoff(key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{key}: expected a number between 0 and 1, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{key}: expected a number between 0 and 1, got {value!r}")


# Names exports commonly give the required fields, to suggest a `[logs]` mapping when none fits.
_LIKELY_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "id": ("log_id", "request_id", "trace_id", "message_id", "uuid", "_id", "ID"),
    "timestamp": ("created_at", "time", "ts", "date", "datetime", "@timestamp", "timestamp_utc", "created"),
    "query": ("question", "prompt", "input", "user_query", "user_input", "user_message", "message", "text"),
})


def suggest_mapping(found: set[str], settings: LogSettings) -> str:
    """What to write in `[logs]` so that an export with the field names `found` can be read.

    A preset whose required names are all there comes first; else each required field that is
    missing gets a likely name from the export; else the fields found and the ones needed are listed.
    """
    missing = [canonical for canonical in REQUIRED_FIELDS if settings.name_of(canonical) not in found]
    if not missing or not found:
        return ""
    for name, preset in PRESETS.items():
        fields = {**_identity_fields(), **preset}
        if all(fields[canonical] in found for canonical in REQUIRED_FIELDS):
            return f'these look like {name} field names: add `[logs]` with `preset = "{name}"` to remedy.toml'
    lines = []
    for canonical in missing:
        candidate = next((name for name in _LIKELY_NAMES[canonical] if name in found), None)
        if candidate is None:
            break
        lines.append(f'{canonical} = "{candidate}"')
    else:
        return "map its field names in remedy.toml: `[logs]` " + ", ".join(lines)
    needed = ", ".join(f"'{settings.name_of(c)}'" + ("" if settings.name_of(c) == c else f" ({c})") for c in missing)
    shown = ", ".join(sorted(found)[:12]) + (" …" if len(found) > 12 else "")
    return (f"it has no field {needed}; its fields are {shown}: map them under `[logs]` in "
            "remedy.toml (docs/logs.md)")
