"""`remedy test`: every `also_matches` must match its entry and no `must_not_match` may.

Each example is decided by the real rule against the entries of its kind and status, so the test
fails exactly when a user typing that text would get the wrong remediation (or this one wrongly).
It also reports, for information, how many `also_matches` would still match if they were not listed
(held out): a measure of how well an entry catches paraphrases nobody wrote down.
Examples are decided in one batch per (kind, status): one matrix product, not one per entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from remedy.files.folder import display_path
from remedy.files.remediation import Remediation
from remedy.matching.matcher import Matcher


@dataclass(frozen=True)
class Example:
    entry: Remediation
    field: str  # also_matches | must_not_match
    position: int
    text: str
    listed: Any  # the Decision as the folder stands
    held_out: Any | None  # for also_matches: the Decision with this text left out of the index


@dataclass(frozen=True)
class ExampleFailure:
    id: str
    file: str
    line: int
    column: int
    field: str  # also_matches | must_not_match
    text: str
    winner: str | None  # the entry that matched instead (None: nothing matched)
    similarity: float  # the winner's, or this entry's best similarity when nothing matched


@dataclass(frozen=True)
class SelfTestReport:
    """`remedy test`: the counts, then the examples that failed."""

    examples: int
    failed: int
    held_out_matched: int  # also_matches that match their entry even when not listed
    held_out_total: int
    failures: tuple[ExampleFailure, ...]


def decide_examples(matcher: Matcher, remediations: Iterable[Remediation], field: str) -> Iterator[Example]:
    """Every `field` example of the (non-paused) remediations, decided in one batch per kind and status."""
    groups: dict[tuple[str, str], list[tuple[Remediation, int, str]]] = {}
    for entry in sorted(remediations, key=lambda r: r.id):
        if entry.status == "paused":
            continue
        for position, text in enumerate(getattr(entry, field)):
            groups.setdefault((entry.kind, entry.status), []).append((entry, position, text))
    for (kind, status), items in sorted(groups.items()):
        texts = [text for _, _, text in items]
        listed = matcher.index.decide(texts, kind=kind, statuses=(status,))
        held_out = (matcher.index.decide(texts, kind=kind, statuses=(status,), leave_out_exact=True)
                    if field == "also_matches" else [None] * len(texts))
        for (entry, position, text), as_listed, unlisted in zip(items, listed, held_out, strict=True):
            yield Example(entry, field, position, text, as_listed, unlisted)


def run_self_tests(matcher: Matcher, remediations: list[Remediation]) -> SelfTestReport:
    failures: list[ExampleFailure] = []
    examples = held_out = held_out_total = 0
    for example in decide_examples(matcher, remediations, "also_matches"):
        examples += 1
        held_out_total += 1
        assert example.held_out is not None  # always decided for also_matches
        held_out += example.held_out.entry_id == example.entry.id
        if example.listed.entry_id != example.entry.id:
            failures.append(_failure(example))
    for example in decide_examples(matcher, remediations, "must_not_match"):
        examples += 1
        if example.listed.entry_id == example.entry.id:
            failures.append(_failure(example))
    failures.sort(key=lambda f: (f.id, f.field, f.line))
    return SelfTestReport(examples, len(failures), held_out, held_out_total, tuple(failures))


def _failure(example: Example) -> ExampleFailure:
    where = example.entry.item_position(example.field, example.position)
    return ExampleFailure(example.entry.id, display_path(example.entry.path), where.line, where.column,
                          example.field, example.text, example.listed.entry_id,
                          round(float(example.listed.similarity), 4))
