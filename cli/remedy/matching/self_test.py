"""`remedy test`: every `also_matches` must match its entry and no `must_not_match` may.

Each example is decided by the real rule against the entries of its kind and status, so the test
fails exactly when a user typing that text would get the wrong remediation (or this one wrongly).
It also reports, for information, how many `also_matches` would still match if they were not listed
(held out): a measure of how well an entry catches paraphrases nobody wrote down.
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.files.folder import display_path
from remedy.files.remediation import Remediation
from remedy.matching.folder_index import FolderIndex


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
    examples: int
    failures: list[ExampleFailure]
    held_out_matched: int  # also_matches that match their entry even when not listed
    held_out_total: int


def run_self_tests(folder: FolderIndex, remediations: list[Remediation]) -> SelfTestReport:
    failures: list[ExampleFailure] = []
    examples = held_out = held_out_total = 0
    for entry in sorted(remediations, key=lambda r: r.id):
        statuses = (entry.status,)
        if entry.also_matches:
            texts = list(entry.also_matches)
            decisions = folder.index.decide(texts, kind=entry.kind, statuses=statuses)
            hidden = folder.index.decide(texts, kind=entry.kind, statuses=statuses, leave_out_exact=True)
            for position, (text, decision, unlisted) in enumerate(zip(texts, decisions, hidden, strict=True)):
                examples += 1
                held_out_total += 1
                held_out += unlisted.entry_id == entry.id
                if decision.entry_id != entry.id:
                    failures.append(_failure(entry, "also_matches", position, text, decision))
        if entry.must_not_match:
            texts = list(entry.must_not_match)
            for position, (text, decision) in enumerate(
                    zip(texts, folder.index.decide(texts, kind=entry.kind, statuses=statuses), strict=True)):
                examples += 1
                if decision.entry_id == entry.id:
                    failures.append(_failure(entry, "must_not_match", position, text, decision))
    return SelfTestReport(examples, failures, held_out, held_out_total)


def _failure(entry: Remediation, field: str, position: int, text: str, decision) -> ExampleFailure:  # noqa: ANN001
    where = entry.item_position(field, position)
    winner = decision.entry_id
    similarity = decision.similarity
    return ExampleFailure(entry.id, display_path(entry.path), where.line, where.column, field, text, winner,
                          round(float(similarity), 4))
