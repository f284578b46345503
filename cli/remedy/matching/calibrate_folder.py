"""`remedy calibrate`: draw a labelling sample from the logs, or choose settings from labels.

Two steps, both on the configured model and folder:

- `sample_project` (`--sample N --logs … --out FILE`): decide every distinct log query, draw the N
  most informative ones (calibration_sample.py) and write the labelling file (calibration_labels.py).
- `calibrate_project` (`--labels FILE…`, `--pairs FILE`, or neither): turn what experts said into
  evidence and choose threshold and margin by the one rule of operating_point.py — the most recall
  whose 95 % lower confidence bound on precision reaches the target.

Where the evidence comes from:
- expert labels: every answered row is scored again with today's folder and model. Its right
  entries are the candidate when `label: yes`, plus `correct:` when it names one; `correct: none`
  means none is right. A bare `label: no` says only that the candidate is wrong: if the folder now
  puts another entry first, nobody said whether that one is right, and it counts as wrong (the safe
  reading) and as not answerable;
- the folder's own examples: each `also_matches` held out (else it matches exactly and proves
  nothing) must match its entry; a `must_not_match` is a wrong match where its own entry comes first
  (it says nothing about the others); one query each;
- `--pairs FILE`: JSONL `{"query", "expected": id | null}`, one query each.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from remedy.config import Config
from remedy.errors import InputError, UsageError
from remedy.files.atomic import write_atomically
from remedy.files.folder import display_path, load_folder
from remedy.files.remediation import Remediation
from remedy.matching.calibration import LabelledPair
from remedy.matching.calibration_labels import (
    LabelRow,
    check_consistent,
    labels_hash,
    labels_pin,
    read_labels,
    render_labels,
)
from remedy.matching.calibration_sample import Sample, draw_sample, label_strata, pooled_weights
from remedy.matching.matcher import Matcher, build_matcher
from remedy.matching.operating_point import CONFIDENCE, Choice, Evidence, OperatingPoint, choose, labels_to_certify
from remedy.normalize import normalize_question

STATUSES = ("active", "draft")
# Each setting's bound is taken at 97.5 %, not 95 %: `calibrate` picks the best of ~8,500 settings on
# the same labels, and the best-looking one is the luckiest. At 95 % the setting chosen from 400 labels
# fell to 0.936 precision on CLINC150 test in one seed of ten; at 97.5 % the worst of ten was 0.961 at
# 400 labels and 0.950 at 800 (benchmarks/calibration.py, docs/model.md).
SEARCH_CONFIDENCE = 0.975
# ... and a certificate must rest on at least twice the accepted labels that could certify the target
# with none wrong (2 x 72 = 144 for 0.95): with fewer, some region of the grid looks error-free by luck.
# Measured (bundled, k=4, ten draws each): without this floor 200-400 labels sometimes certified
# settings 0.917-0.944 precise on test; with it they keep the defaults, and 800 labels certify
# settings 0.952-0.958 precise at worst. Chosen on these CLINC150 runs: a safety floor, not a recall knob.
FLOOR_FACTOR = 2.0
FEW_POSITIVES = 30  # below this many labelled positives, warn: the bound is loose and recall noisy


@dataclass(frozen=True)
class FolderCalibration:
    choice: Choice
    source: str
    model: str
    fingerprint: str
    labels: int  # labelled queries used (all sources)
    positives: int  # ... that have a right entry
    expert_labels: int  # answered rows of the labels files
    unanswered: int  # rows of the labels files still empty
    stale: int  # bare `no` rows whose query now goes to another entry than the one judged
    labels_hash: str | None  # of the labels files, when given
    warnings: list[str] = field(default_factory=list)

    def report(self) -> CalibrationReport:
        point = self.choice.point
        return CalibrationReport(
            threshold=point.threshold, margin=point.margin, precision=round(point.precision, 4),
            precision_lower=round(point.precision_lower, 4), recall=round(point.recall, 4),
            met_target=self.choice.met_target, target_precision=self.choice.target_precision,
            confidence=self.choice.confidence, labels=self.labels, positives=self.positives,
            expert_labels=self.expert_labels, unanswered=self.unanswered, labels_needed=self.choice.labels_needed,
            why_not=self.choice.why_not, floor=round(self.choice.floor, 1), source=self.source, model=self.model,
            fingerprint=self.fingerprint, labels_hash=self.labels_hash,
            warnings=tuple(self.warnings), curve=self.choice.curve)


@dataclass(frozen=True)
class CalibrationReport:
    """What `calibrate --labels` reports (DESIGN 3.1): the chosen setting, its evidence, the whole curve."""

    threshold: float
    margin: float
    precision: float
    precision_lower: float
    recall: float
    met_target: bool
    target_precision: float
    confidence: float
    labels: int
    positives: int
    expert_labels: int
    unanswered: int
    labels_needed: int | None
    why_not: str | None  # when not met: bound | floor | examples | precision | distant | perfection (Choice)
    floor: float  # the fewest effective accepted labels a certificate may rest on
    source: str
    model: str
    fingerprint: str
    labels_hash: str | None
    warnings: tuple[str, ...]
    curve: tuple[OperatingPoint, ...]  # every threshold at the chosen margin

    @property
    def accepted_labels(self) -> int:
        """Labels the chosen setting accepts (its row of the curve)."""
        return next((p.accepted for p in self.curve if p.threshold == self.threshold), 0)

    @property
    def shown_curve(self) -> tuple[OperatingPoint, ...]:
        """The curve as a table shows it: every 0.05 of threshold that accepts something, and the choice."""
        return tuple(p for p in self.curve
                     if p.threshold == self.threshold or (round(p.threshold * 1000) % 50 == 0 and p.accepted))


@dataclass(frozen=True)
class SampleSummary:
    out: Path
    sample: Sample
    model: str
    fingerprint: str
    log_rows: int
    skipped_lines: int
    first_skipped: tuple[Any, ...]
    rounds: tuple[Path, ...]  # every round's labels file, this one last: what `--labels` needs next


def calibrate_project(config: Config, *, pairs_file: Path | None = None, labels_files: Sequence[Path] = (),
                      kind: str = "answer", target_precision: float = 0.95) -> FolderCalibration:
    if not 0.0 < target_precision <= 1.0:
        raise UsageError(f"--target-precision must be in (0, 1], not {target_precision}")
    candidates = _candidates(config, kind)
    built = build_matcher(candidates, config)
    known = {r.id for r in candidates}
    observed: list[Evidence] = []  # labelled queries from the traffic itself: expert labels, pairs
    sources: list[str] = []
    expert = unanswered = stale = 0
    rows: list[LabelRow] = []
    for path in labels_files:
        for row in read_labels(path):
            if row.answered:
                _check_ids(row, known, kind)
                rows.append(row)
            else:
                unanswered += 1
    check_consistent(rows)
    check_against_folder(rows, candidates)
    pin = f"{built.embedder.name}@{built.embedder.fingerprint}"
    # Labels say which entry is right for a query, whatever model asked: they are scored again with today's
    # model, and the sampling weights stay a valid design. But a sample drawn by another model spent its
    # labels on that model's boundary, and its candidates may not be today's: say so, do not hide it.
    foreign = [f"{path} ({other})" for path in labels_files if (other := labels_pin(path)) not in (None, pin)]
    if labels_files:
        expert = len(rows)
        if rows:
            found, stale = _label_evidence(built, rows, kind)
            observed.append(found)
        sources.append(f"{expert} expert label(s) from {', '.join(str(p) for p in labels_files)}")
    if pairs_file is not None:
        pairs = read_pairs(pairs_file, known)
        observed.append(_pair_evidence(built, pairs, kind, leave_one_out=False))
        sources.append(f"pairs file {pairs_file}")
    examples = _folder_examples(built, candidates, kind) if pairs_file is None else None
    if examples is not None:
        sources.append("the folder's also_matches (held out) and must_not_match"
                       + (", as a check that may only tighten the settings" if observed else ""))
    if not observed and examples is None:
        if labels_files:
            raise InputError(f"no answered labels in {', '.join(str(p) for p in labels_files)} "
                             "(fill in label: yes | no) and no also_matches / must_not_match in the folder")
        raise InputError(f"no {kind} has also_matches to calibrate on; add paraphrases, "
                         "or label log queries: remedy calibrate --sample 200 --logs LOGS --out labels.yaml")
    if observed:
        # Precision over the logs is what the labels estimate; the folder's examples are paraphrases its
        # authors wrote, easier than real traffic (held out, they certified settings 0.92 precise on
        # CLINC150 test when pooled with 200 labels: docs/model.md), so they may only veto a setting.
        combined = observed[0]
        for more in observed[1:]:
            combined = combined.concat(more)
        choice = choose(combined, target_precision=target_precision, confidence=SEARCH_CONFIDENCE,
                        constraints=[examples] if examples is not None else (),
                        min_effective=certificate_floor(target_precision))
        positives = int(combined.answerable.sum())  # the recall behind the choice comes from these alone
        if examples is not None:
            combined = combined.concat(examples)
    else:
        assert examples is not None
        combined = examples
        choice = choose(combined, target_precision=target_precision, confidence=SEARCH_CONFIDENCE,
                        min_effective=certificate_floor(target_precision))
        positives = int(combined.answerable.sum())
    warnings = []
    if positives < FEW_POSITIVES:
        warnings.append(f"only {positives} labelled positive(s) (queries with a right answer); with fewer than "
                        f"{FEW_POSITIVES} the bound is loose and recall a rough guess: label more "
                        f"(remedy calibrate --sample N --logs … --labels {' '.join(map(str, labels_files)) or 'THESE'} "
                        "--out NEW)")
    if foreign:
        warnings.append(f"labels sampled with another model than today's {pin}: {', '.join(foreign)}; they still "
                        "count (every query is scored again), but that sample was drawn around the other model's "
                        "boundary: label a fresh sample (remedy calibrate --sample N --logs … --out NEW)")
    if stale:
        warnings.append(f"{stale} label(s) said 'no' to a candidate the query no longer goes to; counted as wrong. "
                        "Fill in `correct:` or label a fresh sample")
    return FolderCalibration(
        choice=choice, source="; ".join(sources), model=built.embedder.name, fingerprint=built.embedder.fingerprint,
        labels=len(combined), positives=positives, expert_labels=expert, unanswered=unanswered, stale=stale,
        labels_hash=labels_hash(list(labels_files)) if labels_files else None, warnings=warnings,
    )


def certificate_floor(target_precision: float) -> float:
    """The fewest (effective) accepted labels a written setting may rest on, for this target."""
    needed = float(labels_to_certify(np.asarray([1.0]), target_precision, SEARCH_CONFIDENCE)[0])
    return FLOOR_FACTOR * needed if math.isfinite(needed) else 0.0


def sample_project(config: Config, log_paths: Sequence[str], n: int, out: Path, *,
                   labels_files: Sequence[Path] = (), kind: str = "answer", seed: int = 0,
                   strict: bool = False) -> SampleSummary:
    """Write `out`: the `n` log queries whose labels tell most, skipping those in `labels_files`."""
    from remedy.files.outputs import refuse_output_in_project, refuse_output_over_inputs
    from remedy.logs.project import read_project_logs
    from remedy.logs.reading import iter_distinct_queries, resolve_log_paths

    if n <= 0:
        raise UsageError(f"--sample must be a positive number of labels, not {n}")
    inputs = [f.path for f in resolve_log_paths(list(log_paths))] + list(labels_files)
    refuse_output_over_inputs(out, inputs, option="--out")
    refuse_output_in_project(out, config, option="--out")
    if out.exists():
        raise UsageError(f"--out {out} exists; choose a new file (pass it with --labels to skip its queries)")
    already: set[str] = set()
    for path in labels_files:
        already |= {normalize_question(row.query) for row in read_labels(path)}
    candidates = _candidates(config, kind)
    # A must_not_match is an expert's "no" already written into the folder: not asked again.
    already |= {normalize_question(text) for entry in candidates for text in entry.must_not_match}
    built = build_matcher(candidates, config)
    logs = read_project_logs(config, log_paths, strict=strict, refuse_unreadable=False)
    queries: list[str] = []
    counts: list[int] = []
    for batch in iter_distinct_queries(logs):
        for text, count in zip(batch.normalized_queries, batch.counts.tolist(), strict=True):
            if text:
                queries.append(text)
                counts.append(int(count))
    if not queries:
        raise InputError(f"no queries in {', '.join(log_paths)} to sample")
    vectors = np.asarray(built.encode(queries), dtype=np.float32)
    decisions = built.index.decide_vectors(vectors, queries, kind=kind, statuses=STATUSES)
    sample = draw_sample(queries, counts, decisions, n, threshold=built.threshold, already_labelled=already,
                         seed=seed, judged=judged_rows(built, vectors))
    if not sample.rows:
        raise InputError("no log query left to ask about (all labelled already, exact matches, screened out "
                         f"as far from every {kind}, or no {kind} in the folder)")
    rounds = (*labels_files, out)
    summary = [f"{len(sample.rows)} of {len(queries):,} distinct log queries ({sum(counts):,} rows), "
               f"drawn by similarity/margin stratum (seed {seed}); {sample.exact:,} exact matches, "
               f"{sample.already_labelled:,} already-labelled queries and {sample.no_opinion:,} the judge "
               "has no opinion of (screened out) left out"]
    text = render_labels(sample.rows, model=built.embedder.name, fingerprint=built.embedder.fingerprint,
                         questions={r.id: r.question for r in candidates}, summary=summary, rounds=rounds)
    write_atomically(out, text)
    return SampleSummary(out, sample, built.embedder.name, built.embedder.fingerprint, sum(counts),
                         logs.skipped_lines, tuple(logs.first_skipped), rounds)


def check_against_folder(rows: Sequence[LabelRow], candidates: Sequence[Remediation]) -> None:
    """Refuse a label that contradicts the folder's own examples, naming both places.

    The folder's `also_matches` and `must_not_match` are labels too, the same expert knowledge written
    into the entries (`remedy suggest --apply` turns yes/no answers into them): an `also_matches` of X
    says "X is right for this query", a `must_not_match` of X says "X is wrong for it". A labels row
    saying the opposite about the same query (after normalization) would be counted both ways.
    """
    listed: dict[str, list[tuple[Remediation, str, int]]] = {}
    for entry in candidates:
        for field_name in ("also_matches", "must_not_match"):
            for position, text in enumerate(getattr(entry, field_name)):
                listed.setdefault(normalize_question(text), []).append((entry, field_name, position))
    for row in rows:
        for entry, field_name, position in listed.get(normalize_question(row.query), ()):
            right = (row.label is True and row.candidate == entry.id) or row.correct == entry.id
            wrong = (row.label is False and row.candidate == entry.id) or row.correct == "none"
            if field_name == "must_not_match" and right:
                why = f"here {entry.id!r} is right, there it is listed under must_not_match of {entry.id!r}"
            elif field_name == "also_matches" and wrong:
                said = "no entry is right (correct: none)" if row.correct == "none" else f"{entry.id!r} is not right"
                why = f"here {said}, there it is listed under also_matches of {entry.id!r}"
            else:
                continue
            where = entry.item_position(field_name, position)
            raise InputError(f"{row.file}:{row.line}: query {row.query!r} contradicts "
                             f"{display_path(entry.path)}:{where.line}: {why}; settle it in one place "
                             "(edit the label, or move the text to the right list of the entry)")


def judged_rows(built: Matcher, vectors: np.ndarray) -> np.ndarray:
    """Which query vectors carry the judge's opinion: not all zero and, with the verifier, not screened out.

    A screened query's verifier part is zeros (fused.py): at the shipped weight its whole vector is, so
    it scores 0 against every entry and its best entry is merely the first in tie-break order.
    """
    judged = np.any(vectors != 0, axis=1)
    if built.verified:
        cut = int(built.embedder.static.dim)  # type: ignore[attr-defined]
        judged &= np.any(vectors[:, cut:] != 0, axis=1)
    return judged


def read_pairs(path: Path, known_ids: set[str]) -> list[LabelledPair]:
    """JSONL lines `{"query": "...", "expected": "entry-id" | null}`; a bad line is refused with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read pairs file: {error}") from None
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("query"), str) or not record["query"].strip():
            raise InputError(f"{path}:{number}: field 'query' must be non-empty text")
        expected = record.get("expected")
        if expected is not None and (not isinstance(expected, str) or expected not in known_ids):
            raise InputError(f"{path}:{number}: field 'expected' must be null or the id of an active or draft "
                             f"entry of the kind, not {expected!r}")
        pairs.append(LabelledPair(record["query"], expected))
    if not pairs:
        raise InputError(f"{path}: no pairs")
    return pairs


def _candidates(config: Config, kind: str) -> list[Remediation]:
    folder = load_folder(config.remediations_dir)
    return [r for r in folder.remediations if r.kind == kind and r.status in STATUSES]


def _check_ids(row: LabelRow, known: set[str], kind: str) -> None:
    for name, value in (("candidate", row.candidate), ("correct", row.correct)):
        if value is not None and value != "none" and value not in known:
            raise InputError(f"{row.file}:{row.line}: field '{name}': no active or draft {kind} has id {value!r}")


def _label_evidence(built: Matcher, rows: Sequence[LabelRow], kind: str) -> tuple[Evidence, int]:
    decisions = built.index.decide([r.query for r in rows], kind=kind, statuses=STATUSES)
    right: list[set[str]] = []
    stale = 0
    for row, decision in zip(rows, decisions, strict=True):
        entries = row.right_entries()
        if entries is None:  # a bare "no": only the candidate is known to be wrong
            stale += decision.best_id != row.candidate
            entries = set()
        right.append(entries)
    # Rows of several rounds (files) are re-weighed together so that no stratum counts twice, and each
    # stratum's precision is bounded on its own labels (operating_point.py: the stratified bound).
    return Evidence.from_decisions(decisions, right, pooled_weights(rows), label_strata(rows)), stale


def _pair_evidence(built: Matcher, pairs: Sequence[LabelledPair], kind: str, *,
                   leave_one_out: bool) -> Evidence:
    decisions = built.index.decide([p.query for p in pairs], kind=kind, statuses=STATUSES,
                                   leave_out_exact=leave_one_out)
    return Evidence.from_decisions(decisions, [{p.expected} if p.expected else set() for p in pairs])


def _folder_examples(built: Matcher, candidates: Sequence[Remediation], kind: str) -> Evidence | None:
    positives = [LabelledPair(text, r.id) for r in candidates for text in r.also_matches]
    parts = []
    if positives:
        # Each also_matches is judged as if it were not listed: otherwise it matches exactly and proves nothing.
        parts.append(_pair_evidence(built, positives, kind, leave_one_out=True))
    owners = [(text, r.id) for r in candidates for text in r.must_not_match]
    if owners:
        # A must_not_match says its own entry is wrong for it, nothing about the others (it may well be
        # another entry's question): it is a label only where its own entry comes first. Listed, it is refused
        # by rule 4 whatever the settings, so it is judged held out, as if not listed (the others still count).
        decisions = built.index.decide([text for text, _ in owners], kind=kind, statuses=STATUSES,
                                       leave_out_exact=True)
        own = [d for d, (_, owner) in zip(decisions, owners, strict=True) if d.best_id == owner]
        if own:
            parts.append(Evidence.from_decisions(own, [set() for _ in own]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].concat(parts[1])


__all__ = ["CONFIDENCE", "SEARCH_CONFIDENCE", "CalibrationReport", "FolderCalibration", "SampleSummary",
           "calibrate_project", "certificate_floor", "read_pairs", "sample_project"]
