"""`remedy match` as text for a person: what is served, and the nearest misses."""

from __future__ import annotations

from remedy.matching.calibrate_folder import CalibrationReport
from remedy.matching.explain import MatchedText, MatchReport, NearAnswer
from remedy.matching.self_test import SelfTestReport
from remedy.matching.settings_origin import settings_text
from remedy.matching.suggestions import Suggestions
from remedy.report.tables import View, plain, render_rows
from remedy.suggestion_apply import AppliedEntry, AppliedLabels

STAGES = {
    "static": "the static model (no verifier: install the `precise` extra)",
    "screen": "the static screen (far from every entry: the verifier was not needed)",
    "verifier": "the verifier (the similarity is the fused score of both models)",
}


def match_text(report: MatchReport, fmt: str = "table") -> str:
    bullet = "- " if fmt == "markdown" else "  "
    lines = [f"query: {report.query}",
             f"settings: {settings_text(report.threshold, report.margin)}",
             f"decided by: {STAGES.get(report.stage, report.stage)}"]
    if report.screen is not None:
        screen = report.screen
        lines.append(f"screen: best static similarity {screen.best_static_similarity:.3f} "
                     + (f">= {screen.value:g}: passed to the verifier" if screen.passed else
                        f"< {screen.value:g}: the screen stopped the query (the verifier did not run)"))
    lines.append("")
    answer = report.answer
    if answer:
        how = "exact" if answer.exact else f"similarity {answer.similarity:.3f}, margin {answer.margin:.3f}"
        if answer.static_similarity is not None:
            verifier = "not run" if answer.verifier_similarity is None else f"{answer.verifier_similarity:.3f}"
            how += f"; static {answer.static_similarity:.3f}, verifier {verifier}"
        lines += [f"answer: {answer.id} ({how})"]
        if answer.matched is not None:
            lines.append(f"{bullet}matched by {_matched(answer.matched)}")
        lines += [f"{bullet}{line}" for line in answer.text.splitlines()]
    else:
        lines.append("answer: none (the assistant answers on its own)")
        if report.near_answer is not None:
            lines.append(f"{bullet}nearest answer: {_near(report.near_answer, report)}")
    for guidance in report.guidance:
        lines += [f"guidance: {guidance.id} (similarity {guidance.similarity:.3f})",
                  *(f"{bullet}{line}" for line in guidance.text.splitlines())]
    if not report.guidance:
        lines.append("guidance: none")
    review = report.review
    if review:
        detail = f", response similarity {review.response_similarity:.3f}" \
            if review.response_similarity is not None else ""
        effect = "applies" if review.applies else "does not apply"
        lines.append(f"review: {review.id} verdict {review.verdict} {effect} (similarity "
                     f"{review.similarity:.3f}{detail})")
    else:
        lines.append("review: none")
    drafts = [f"{kind} {found.id} ({found.similarity:.3f})" for kind, found in report.drafts.items() if found]
    if drafts:
        lines.append("drafts that would match once active: " + ", ".join(drafts))
    lines += ["", "nearest:"]
    lines += [f"{bullet}{n.similarity:.3f}  {n.id} ({n.kind}, {n.status})" if n.static_similarity is None else
              f"{bullet}{n.static_similarity:.3f} static  {n.id} ({n.kind}, {n.status})" for n in report.nearest]
    return "\n".join(lines) + "\n"


def _matched(matched: MatchedText) -> str:
    where = "its question" if matched.field == "question" else f"also_matches[{matched.position}]"
    return f"{where}: {matched.text!r}"


def _near(near: NearAnswer, report: MatchReport) -> str:
    """The best active answer that was not served, and what refused it."""
    if near.refused_by == "screen":
        return (f"{near.id} (static similarity {near.static_similarity:.3f}): not served, the static screen "
                f"stopped the query at {report.screen.value:g}" if report.screen else f"{near.id}: screened out")
    said = f"{near.id} (similarity {near.similarity:.3f}, margin {near.margin:.3f}"
    said += f"; nearest {_matched(near.matched)})" if near.matched else ")"
    if near.refused_by == "must_not_match" and near.blocked_by is not None:
        blocked = near.blocked_by
        return (f"{said}: refused by its must_not_match[{blocked.position}] {blocked.text!r} "
                f"(similarity {blocked.similarity:.3f})")
    if near.refused_by == "threshold":
        return f"{said}: below the threshold"
    return f"{said}: its lead over the runner-up is below the margin {report.margin:g}"


# CSV: the nearest entries, one a row (the text formats show them after the decisions).
MATCH = View(rows="nearest", columns=("id", "kind", "status", "similarity"), text=match_text)


def self_test_summary(report: SelfTestReport) -> str:
    return (f"{report.examples} examples, {report.failed} failed; {report.held_out_matched} of "
            f"{report.held_out_total} also_matches would match even if not listed")


def self_test_text(report: SelfTestReport, fmt: str) -> str:
    """The failed examples (none: only the totals), then the totals."""
    rows = render_rows([plain(failure) for failure in report.failures], SELF_TEST_COLUMNS, fmt) \
        if report.failures else ""
    return rows + ("\n" if rows else "") + self_test_summary(report) + "\n"


SELF_TEST_COLUMNS = ("file", "line", "id", "field", "text", "winner", "similarity")
SELF_TEST = View(rows="failures", columns=SELF_TEST_COLUMNS, text=self_test_text)


CALIBRATION_COLUMNS = ("threshold", "margin", "precision", "precision_lower", "recall", "accepted", "wrong")


def calibration_headline(report: CalibrationReport) -> str:
    """The recommendation, or why there is none and what would help: always in the terms of the bound shown."""
    bound = f"{report.confidence:.1%} lower bound on precision {report.precision_lower:.3f}"
    if report.met_target:
        return (f"recommended: {settings_text(report.threshold, report.margin)}: {bound} >= "
                f"{report.target_precision} (estimate {report.precision:.3f}, recall {report.recall:.3f}) on "
                f"{report.labels} labels from {report.source}")
    closest = f"closest: {settings_text(report.threshold, report.margin)} ({bound}"
    if report.why_not == "floor":
        # The bound clears the target, but a certificate also needs enough accepted labels (calibrate_folder.py).
        closest += (f" >= {report.target_precision}, estimate {report.precision:.3f}, but it rests on "
                    f"{report.accepted_labels} accepted label(s); a certificate needs the equivalent of "
                    f"{report.floor:g}: the best of thousands of settings looks safe by luck on fewer)")
    else:
        closest += f", estimate {report.precision:.3f})"
    if report.labels_needed:
        more = f"roughly {report.labels_needed} more label(s) like these could certify it"
    elif report.why_not == "examples":
        more = ("more labels will not: the folder's own examples (must_not_match won by their entry, also_matches "
                "held out) forbid every setting the labels could certify; see `remedy test`, fix the entries or "
                "their examples")
    elif report.why_not == "distant":
        more = (f"more labels like these would take over 4,096 times as many: the labels show precision only just "
                f"above {report.target_precision} (add must_not_match, fix the entries that win wrongly, or lower "
                "the target)")
    elif report.why_not == "perfection":
        more = "no finite number of labels certifies a precision of 1: lower the target"
    else:
        more = (f"it cannot be reached by more labels at this precision: at every setting the labels show "
                f"precision at or below {report.target_precision} (add must_not_match, fix the entries that win "
                "wrongly, or lower the target)")
    return (f"no setting certifies precision {report.target_precision} on {report.labels} labels from "
            f"{report.source}; {closest}; {more}")


def calibration_text(report: CalibrationReport, fmt: str) -> str:
    rows = render_rows([plain(point) for point in report.shown_curve], CALIBRATION_COLUMNS, fmt)
    return rows + f"\n{calibration_headline(report)}\n"


CALIBRATION = View(rows="curve", columns=CALIBRATION_COLUMNS, text=calibration_text)


def suggestions_summary(result: Suggestions) -> str:
    shown = len(result.suggestions)
    in_band = sum(e.in_band for e in result.entries)
    return (f"{shown} suggestions for {len(result.entries)} entries ({in_band:,} distinct log queries in the bands, "
            f"{result.band:g} below each threshold; near-duplicates folded at {result.fold:g}; {result.order} "
            f"first) from {result.distinct_queries:,} distinct queries in {result.logs:,} logs; judge them with "
            "`remedy suggest … --out labels.yaml`, then `remedy suggest --apply labels.yaml`")


SUGGESTIONS = View(rows="suggestions", columns=("id", "similarity", "margin", "count", "variants", "served",
                                                "runner_up", "query"), headline=suggestions_summary)


def applied_summary(result: AppliedLabels) -> str:
    added = sum(len(e.also_matches) + len(e.must_not_match) for e in result.entries)
    head = (f"{result.file}: {result.yes} yes, {result.no} no, {result.skipped} skipped, {result.unanswered} not "
            f"judged; {added} texts added to {len(result.entries)} files")
    return head + ("; next: remedy test, then commit the changed files" if added else "")


def applied_cells(row: AppliedEntry) -> dict[str, object]:
    return {"id": row.id, "file": row.file, "also_matches_added": len(row.also_matches),
            "must_not_match_added": len(row.must_not_match)}


APPLIED = View(rows="entries", columns=("id", "file", "also_matches_added", "must_not_match_added"),
               headline=applied_summary, cells=applied_cells)
