"""An `also_matches` that matched its entry at the base no longer does (`remedy check`).

The change broke a paraphrase that worked: users who type it get another remediation, or none.
Each side is matched with its own configuration and model, the same decision rule as `remedy
test`; an example that already failed at the base, or is new in the change, is `remedy test`'s
(M002) business, not the gate's. Skipped with `--no-semantic`.

Bad: a new answer whose question is so close to `refund-cancelled-flight` that it now wins
"my flight was cancelled, can I get my money back".

Good: reword the new question, or move the paraphrase to the entry that should win it.
"""

from __future__ import annotations

from collections.abc import Iterator

from remedy.problems import Problem, as_severity
from remedy.rules.context import GateContext

CODE = "G003"
NAME = "gate.example-lost"
SEVERITY = "error"


def check(context: GateContext) -> Iterator[Problem]:
    if not context.semantic or not any(change.what != "unchanged" for change in context.changes):
        return
    from remedy.matching.matcher import build_matcher
    from remedy.matching.self_test import run_self_tests

    base, current = context.base.remediations, context.current.remediations
    before = run_self_tests(build_matcher(base, context.base_config.config), base)
    now = run_self_tests(build_matcher(current, context.config), current)
    failed_before = {(f.id, f.field, f.text) for f in before.failures}
    base_examples = {(r.id, text) for r in base for text in r.also_matches}
    for failure in now.failures:
        key = (failure.id, failure.field, failure.text)
        if failure.field == "also_matches" and key not in failed_before and (failure.id, failure.text) in base_examples:
            instead = f"'{failure.winner}' wins it now" if failure.winner else "nothing matches it now"
            yield Problem(failure.file, failure.line, failure.column, CODE, as_severity(SEVERITY),
                          f"also_matches {failure.text!r} matched '{failure.id}' at the base; {instead} "
                          f"(similarity {failure.similarity:.2f})")
