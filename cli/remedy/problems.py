"""A problem found in a remediation folder: a small frozen value that rules yield and formatters print."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    file: str  # path relative to the working directory, as the user typed it or as git shows it
    line: int
    column: int
    code: str
    severity: Severity
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def as_severity(value: str) -> Severity:
    """A rule module's SEVERITY constant, checked: a typo there must fail loudly, not print oddly."""
    if value not in ("error", "warning"):
        raise ValueError(f"severity must be 'error' or 'warning', not {value!r}")
    return "error" if value == "error" else "warning"


def count_errors(problems: list[Problem]) -> int:
    return sum(1 for problem in problems if problem.severity == "error")
