"""`remedy suggest`: the log queries an expert should judge for each answer, best first.

A *suggestion* for an entry is a distinct log query whose best entry (the decision rule's `best_id`,
the same `MatchIndex` every command decides with) is that entry, but which the rule does not accept:
its similarity lies in the *band* between `threshold - BAND` and the entry's threshold, or it reaches
the threshold without the margin. Those are the queries the entry would serve after one "yes" (it
becomes an `also_matches`) and the near misses one "no" keeps out (a `must_not_match`). With
`served=True` the queries the entry already captures (not exactly) come too, least certain first: an
audit of what it serves.

Near-duplicates (two distinct queries whose decision vectors' cosine is at least FOLD) are folded
into one line: the expert judges one, `count` says how many log rows it stands for and `variants`
how many distinct queries. Queries already in the entry's texts or its `must_not_match` are never
suggested: the expert said so already.

Order: spread evenly over the band (ORDER_SPREAD: its middle first, then its quarters, eighths, …, so any
first k lines cover the band) or nearest first (ORDER_NEAREST). Spread is the default: at 10 clicks per
answer it bought more recall at the same precision on CLINC150 (benchmarks/teach.py, docs/matching.md),
the far lines being paraphrases that cover more new queries, at a slightly lower share of yes's.
Named entries are decided as if active (like `preview`), so a draft gets its suggestions before it
serves anyone.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remedy.config import Config
from remedy.errors import InputError, UsageError
from remedy.files.folder import load_folder
from remedy.files.remediation import Remediation
from remedy.matching.decision import Decision, unit_rows
from remedy.matching.matcher import Matcher, build_matcher, uncalibrated_notice
from remedy.normalize import normalize_question

BAND = 0.25  # how far below the entry's threshold the band reaches: beyond it most are a no (docs/matching.md)
FOLD = 0.95  # cosine at which two distinct queries are one suggestion (near-duplicates)
DEFAULT_LIMIT = 20
ORDER_NEAREST = "nearest"
ORDER_SPREAD = "spread"
ORDERS = (ORDER_NEAREST, ORDER_SPREAD)
DEFAULT_ORDER = ORDER_SPREAD  # more recall per click than nearest first on CLINC150 (docs/matching.md)


@dataclass(frozen=True)
class Suggestion:
    """One line for the expert: a log query near an entry, and what the decision says of it today."""

    id: str  # the entry the query leads to (its best entry)
    query: str  # the most-asked form of the query, white space collapsed: the text a yes adds
    similarity: float
    margin: float  # lead over the runner-up entry of the kind
    runner_up: str | None
    count: int  # log rows it stands for, near-duplicates folded in
    variants: int  # distinct queries folded into this line (1: none folded)
    failures: int  # failure logs among `count`
    served: bool  # the entry already serves it (only with served=True)


@dataclass(frozen=True)
class EntrySuggestions:
    """One entry's band: how many distinct queries fall in it, and how many lines are suggested."""

    id: str
    kind: str
    status: str
    question: str
    threshold: float
    band_floor: float
    in_band: int  # distinct queries in the band
    served_queries: int  # distinct queries it serves today (exact ones included)
    suggested: int  # lines in `suggestions` for this entry


@dataclass(frozen=True)
class Suggestions:
    """What `remedy suggest` reports: every entry's suggestions, grouped by entry, best first."""

    logs: int  # log rows read
    distinct_queries: int
    threshold: float
    margin: float
    band: float
    fold: float
    order: str
    model: str
    fingerprint: str
    uncalibrated: str | None
    skipped_lines: int
    first_skipped: tuple[Any, ...]
    entries: tuple[EntrySuggestions, ...]
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class LogQueries:
    """The distinct normalized queries of the logs, with their most-asked raw form and counts."""

    normalized: list[str]
    texts: list[str]
    counts: np.ndarray
    failures: np.ndarray
    rows: int
    skipped_lines: int = 0
    first_skipped: tuple[Any, ...] = ()


def suggest(config: Config, log_paths: Sequence[str], ids: Sequence[str] = (), *, served: bool = False,
            limit: int = DEFAULT_LIMIT, order: str = DEFAULT_ORDER, band: float = BAND, strict: bool = False,
            since: datetime.datetime | None = None, until: datetime.datetime | None = None,
            remediations: Sequence[Remediation] | None = None) -> Suggestions:
    """The suggestions for `ids` (none: every active answer) from the logs at `log_paths`.

    `remediations` replaces the folder's (the workspace passes a draft not written yet); `limit` is per
    entry (and, with `served`, as many again of what it serves).
    """
    if limit <= 0:
        raise UsageError(f"--limit must be a positive number of suggestions per entry, not {limit}")
    if order not in ORDERS:
        raise UsageError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    folder = list(remediations) if remediations is not None else load_folder(config.remediations_dir).remediations
    targets = choose_targets(folder, ids)
    queries = read_log_queries(config, log_paths, strict=strict, since=since, until=until)
    built = build_matcher(hypothetical_folder(folder, targets), config)
    return suggest_for_queries(built, targets, queries, served=served, limit=limit, order=order, band=band,
                               uncalibrated=uncalibrated_notice(config, built.embedder))


def choose_targets(folder: Sequence[Remediation], ids: Sequence[str]) -> list[Remediation]:
    """The named entries (any status, kinds with phrasings to teach), or every active answer."""
    by_id = {r.id: r for r in folder}
    if not ids:
        return sorted((r for r in folder if r.kind == "answer" and r.status == "active"), key=lambda r: r.id)
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise UsageError(f"no remediation with id {', '.join(repr(i) for i in unknown)} in the folder")
    reviews = [i for i in ids if by_id[i].kind == "review"]
    if reviews:
        raise UsageError(f"'{reviews[0]}' is a review: suggestions are for answers and guidance, whose "
                         "also_matches / must_not_match decide what they are served for")
    return [by_id[i] for i in dict.fromkeys(ids)]


def hypothetical_folder(folder: Sequence[Remediation], targets: Sequence[Remediation]) -> list[Remediation]:
    """The folder with every target treated as active (a named draft is judged as it would serve)."""
    chosen = {t.id for t in targets}
    return [dataclasses.replace(r, status="active") if r.id in chosen and r.status != "active" else r
            for r in folder]


def read_log_queries(config: Config, log_paths: Sequence[str], *, strict: bool = False,
                     since: datetime.datetime | None = None, until: datetime.datetime | None = None) -> LogQueries:
    """Every distinct normalized query of the logs, read the way every command reads logs."""
    from remedy.logs.project import read_project_logs

    logs = read_project_logs(config, log_paths, strict=strict, since=since, until=until)
    rows = logs.connection.execute(f"""
        SELECT normalized_query, sum(n)::BIGINT, sum(f)::BIGINT, first(query ORDER BY n DESC, query)
        FROM (SELECT normalized_query, query, count(*) AS n, count(*) FILTER (WHERE is_failure) AS f
              FROM {logs.table} WHERE normalized_query <> '' GROUP BY normalized_query, query)
        GROUP BY normalized_query ORDER BY normalized_query""").fetchall()
    if not rows:
        raise InputError(f"no queries in {', '.join(log_paths)} to suggest from")
    return LogQueries(normalized=[row[0] for row in rows], texts=[" ".join(str(row[3]).split()) for row in rows],
                      counts=np.array([row[1] for row in rows], np.int64),
                      failures=np.array([row[2] for row in rows], np.int64), rows=logs.rows,
                      skipped_lines=logs.skipped_lines, first_skipped=tuple(logs.first_skipped))


def suggest_for_queries(built: Matcher, targets: Sequence[Remediation], queries: LogQueries, *,
                        served: bool = False, limit: int = DEFAULT_LIMIT, order: str = DEFAULT_ORDER,
                        band: float = BAND, uncalibrated: str | None = None) -> Suggestions:
    """The core of `suggest` once the matcher is built and the logs read: decide, band, fold, order."""
    vectors = unit_rows(np.asarray(built.encode(queries.normalized), np.float32))
    decisions: dict[str, list[Decision]] = {}
    for kind in sorted({t.kind for t in targets}):
        decisions[kind] = built.index.decide_vectors(vectors, queries.normalized, kind=kind, statuses=("active",))
    entries: list[EntrySuggestions] = []
    lines: list[Suggestion] = []
    for target in targets:
        threshold = target.threshold if target.threshold is not None else built.threshold
        floor = threshold - band
        judged = {normalize_question(t) for t in (target.question, *target.also_matches, *target.must_not_match)}
        in_band: list[int] = []
        captured: list[int] = []
        serves = 0
        for i, decision in enumerate(decisions[target.kind]):
            if decision.best_id != target.id:
                continue
            if decision.accepted:
                serves += 1
                if not decision.exact and queries.normalized[i] not in judged:
                    captured.append(i)
            elif decision.similarity >= floor and queries.normalized[i] not in judged:
                in_band.append(i)
        decided = decisions[target.kind]
        band_lines = _fold(target.id, in_band, decided, queries, vectors, served=False)
        chosen = _ordered(band_lines, order)[:limit]
        if served:  # the audit: what it serves, least certain first
            audit = sorted(_fold(target.id, captured, decided, queries, vectors, served=True),
                           key=lambda s: (s.similarity, s.margin, s.query))
            chosen = [*chosen, *audit[:limit]]
        lines.extend(chosen)
        entries.append(EntrySuggestions(id=target.id, kind=target.kind, status=target.status,
                                        question=target.question, threshold=round(threshold, 4),
                                        band_floor=round(floor, 4), in_band=len(in_band), served_queries=serves,
                                        suggested=len(chosen)))
    return Suggestions(logs=queries.rows, distinct_queries=len(queries.normalized), threshold=built.threshold,
                       margin=built.margin, band=band, fold=FOLD, order=order, model=built.embedder.name,
                       fingerprint=built.embedder.fingerprint, uncalibrated=uncalibrated,
                       skipped_lines=queries.skipped_lines, first_skipped=queries.first_skipped,
                       entries=tuple(entries), suggestions=tuple(lines))


def _fold(entry_id: str, members: list[int], decisions: Sequence[Decision], queries: LogQueries,
          vectors: np.ndarray, *, served: bool) -> list[Suggestion]:
    """Near-duplicates folded: in order of similarity (then count), each query joins the first line it is
    a near-duplicate of, or starts one; a line shows its first (nearest) query."""
    ranked = sorted(members, key=lambda i: (-decisions[i].similarity, -int(queries.counts[i]), queries.normalized[i]))
    leaders: list[int] = []
    groups: list[list[int]] = []
    leader_vectors = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    for i in ranked:
        if leaders:
            cosines = leader_vectors @ vectors[i]
            best = int(np.argmax(cosines))
            if cosines[best] >= FOLD:
                groups[best].append(i)
                continue
        leaders.append(i)
        groups.append([i])
        leader_vectors = np.vstack([leader_vectors, vectors[i][np.newaxis, :]])
    out = []
    for leader, group in zip(leaders, groups, strict=True):
        decision = decisions[leader]
        out.append(Suggestion(id=entry_id, query=queries.texts[leader], similarity=round(decision.similarity, 4),
                              margin=round(decision.margin, 4), runner_up=decision.runner_up_id,
                              count=int(queries.counts[group].sum()), variants=len(group),
                              failures=int(queries.failures[group].sum()), served=served))
    return out


def _ordered(lines: list[Suggestion], order: str) -> list[Suggestion]:
    """Nearest first (as folded), or spread: every line in an order that covers the band evenly early on
    (the middle of the band first, then halves, quarters, …: any prefix is spread over the band)."""
    if order == ORDER_NEAREST or len(lines) <= 2:
        return lines
    picked: list[int] = []
    seen: set[int] = set()
    parts = 1
    while len(picked) < len(lines):
        for k in range(parts):
            position = min(len(lines) - 1, int((k + 0.5) * len(lines) / parts))
            if position not in seen:
                seen.add(position)
                picked.append(position)
        parts *= 2
        if parts > 2 * len(lines):
            picked.extend(i for i in range(len(lines)) if i not in seen)
            break
    return [lines[i] for i in picked]


def write_suggestion_labels(result: Suggestions, out: Path, *, inputs: Sequence[str | Path] = (),
                            config: Config | None = None) -> int:
    """Write the fill-in labels file of `result` to `out` (a new file; never one of `inputs`, nor inside the
    folders remedy reads of `config`: a labels file in remediations/ would break validate); the rows written."""
    from remedy.files.atomic import write_atomically
    from remedy.files.outputs import refuse_output_in_project, refuse_output_over_inputs
    from remedy.matching.suggestion_labels import SuggestionLabel, labelable, render_suggestion_labels

    refuse_output_over_inputs(out, inputs, option="--out")
    if config is not None:
        refuse_output_in_project(out, config, option="--out")
    if out.exists():
        raise UsageError(f"--out {out} exists; choose a new file (or apply that one first: remedy suggest --apply "
                         f"{out})")
    # a log query holding a control or bidi character cannot become an example (the reader refuses it)
    rows = [SuggestionLabel(id=s.id, query=s.query, similarity=s.similarity, count=s.count) for s in result.suggestions
            if labelable(s.query)]
    summary = [f"{len(rows)} suggestions for {len(result.entries)} entries from {result.distinct_queries:,} distinct "
               f"log queries ({result.logs:,} rows); band: {result.band:g} below each threshold, {result.order} first"]
    text = render_suggestion_labels(rows, model=result.model, fingerprint=result.fingerprint,
                                    questions={e.id: e.question for e in result.entries}, summary=summary)
    write_atomically(out, text, exclusive=True)
    return len(rows)
