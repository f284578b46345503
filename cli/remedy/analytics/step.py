"""The per-partition step of every analysis: canonical log rows in, attributions and partial aggregates out.

`AttributionStep` is a function from an Arrow record batch of canonical log rows (the columns in
`STEP_COLUMNS`) to Arrow tables (`StepOutput`): the batch's accepted decisions per distinct query,
optionally one row per attributed log, and partial aggregates (per day, per remediation, per served
answer) that sum across batches. The partials have a row per day, remediation or served answer, none
per query, so they stay small on the driver whatever the rows. It holds no state beyond the loaded folder and
model (plus a bounded memo of decisions and the on-disk decision cache, both only shortcuts): the Ray
engine (`remedy.analytics.ray_engine`) calls it on its blocks; the local engine
(`remedy.analytics.attribution`) has it decide the distinct queries (`decide`) and then run the same
SQL once over all the rows, the whole log being one batch (`run_whole`). `merge_sql` turns the
partials of any number of batches into the totals with DuckDB on the driver, so both engines count
the same way.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from remedy.matching.decision import unit_rows
from remedy.normalize import normalize_question

if TYPE_CHECKING:
    import duckdb

    from remedy.analytics.decision_cache import DecisionCache
    from remedy.files.remediation import Remediation
    from remedy.matching.matcher import Matcher

KINDS = ("answer", "guidance", "review")
# role -> the statuses the decision considers
ROLES: dict[str, tuple[str, ...]] = {"active": ("active",), "draft": ("draft",), "ever_active": ("active", "paused")}
# The canonical log columns the step reads (a subset of remedy.logs.reading.LOG_COLUMNS).
STEP_COLUMNS: tuple[str, ...] = ("log_id", "ts", "query", "normalized_query", "is_failure", "severity",
                                 "primary_issue", "served_remediation", "source_file", "line_number")
DECISIONS_SCHEMA = pa.schema([("normalized_query", pa.string()), ("remediation_id", pa.string()),
                              ("kind", pa.string()), ("role", pa.string()), ("similarity", pa.float64()),
                              ("margin", pa.float64())])
# Screening compares queries with every text of a kind in blocks of about this many cosines (4 MB of
# float32): a block that stays in the CPU's cache. Blocks of 4,096 rows (50 MB at 3,000 texts) took
# 3.6 s of a 1M-row cold run against 1.3 s, the same products (benchmarks/analytics_scale.py).
_SCREEN_CELLS = 1_000_000
# Cosines computed in a different order differ in the last bits: screen with this much to spare.
_ROUNDING = 1e-3
# Queries are embedded and decided in chunks of this many (bounded memory whatever the batch).
_DECIDE_CHUNK = 20_000
# The memo of decided queries is dropped when it holds this many (a batch's worth, bounded memory).
_MEMO_LIMIT = 200_000

_ADDRESSED = "role IN ('active', 'draft')"
# Per distinct query of the batch: is it addressed (an active entry, or a draft that is written: a scaffold
# draft, `is_scaffold_draft`, covers nothing, as in the issue queue), and addressed by an active entry.
# The addressed totals of every partial (`by_day`, the report's slices) read it, on either engine.
ADDRESSED_QUERIES_SQL = """
    SELECT d.normalized_query,
           bool_or(d.role = 'active' OR (d.role = 'draft' AND NOT coalesce(r.scaffold, false))) AS addressed,
           bool_or(d.role = 'active') AS addressed_active
    FROM decided d LEFT JOIN remediations r ON r.id = d.remediation_id GROUP BY d.normalized_query"""
# Partial aggregates over one batch (`batch`: canonical rows; `decided`: the batch's accepted decisions;
# `remediations`: id, activation time, scaffold). Every column is a count, a sum or a max: merge_sql adds them up.
PARTIAL_SQL: dict[str, str] = {
    "by_day": f"""
        WITH q AS ({ADDRESSED_QUERIES_SQL})
        SELECT CAST(b.ts AS DATE) AS day, count(*) AS logs,
               count(*) FILTER (WHERE b.is_failure) AS failures,
               count(*) FILTER (WHERE b.is_failure AND q.addressed) AS addressed_failures,
               count(*) FILTER (WHERE b.is_failure AND q.addressed_active) AS addressed_active_failures,
               max(b.ts) AS newest
        FROM batch b LEFT JOIN q USING (normalized_query) GROUP BY ALL""",
    "by_remediation": f"""
        SELECT d.remediation_id,
               count(*) FILTER (WHERE d.{_ADDRESSED} AND b.is_failure) AS covered_failures,
               count(*) FILTER (WHERE d.{_ADDRESSED}) AS covered_logs,
               count(*) FILTER (WHERE d.role = 'ever_active' AND r.activated IS NOT NULL AND b.ts >= r.activated)
                   AS inferred_preventions,
               max(b.ts) FILTER (WHERE d.role = 'ever_active' AND r.activated IS NOT NULL AND b.ts >= r.activated)
                   AS last_inferred
        FROM batch b JOIN decided d USING (normalized_query) JOIN remediations r ON r.id = d.remediation_id
        GROUP BY ALL""",
    "by_served": """
        SELECT served_remediation, count(*) AS preventions, max(ts) AS last_prevention
        FROM batch WHERE served_remediation IS NOT NULL GROUP BY ALL""",
}
# One row per (log, attributed remediation): `--attributions`.
ROWS_SQL = f"""
    SELECT b.log_id, b.source_file, b.line_number, d.remediation_id, d.kind, d.role AS status, d.similarity
    FROM batch b JOIN decided d USING (normalized_query) WHERE d.{_ADDRESSED}"""
# The failure logs themselves: what the issue queue needs when the logs are not on the driver.
FAILURES_SQL = f"SELECT {', '.join(STEP_COLUMNS)} FROM batch WHERE is_failure"
# The driver's SQL that sums the partials of every batch (tables named `{prefix}__{output}`).
MERGE_SQL: dict[str, str] = {
    "totals": """SELECT coalesce(sum(logs), 0), coalesce(sum(failures), 0), coalesce(sum(addressed_failures), 0),
                        coalesce(sum(addressed_active_failures), 0) FROM {prefix}__by_day""",
    "covered": """SELECT remediation_id, sum(covered_failures), sum(covered_logs), sum(inferred_preventions),
                         max(last_inferred) FROM {prefix}__by_remediation GROUP BY remediation_id""",
    "served": """SELECT served_remediation, sum(preventions), max(last_prevention)
                 FROM {prefix}__by_served GROUP BY served_remediation""",
}


def merge_sql(name: str, prefix: str) -> str:
    """The driver's SQL that sums one kind of partial over every batch."""
    return MERGE_SQL[name].format(prefix=prefix)


@dataclass(frozen=True)
class StepOutput:
    """What one batch gives: decisions per distinct query, partial aggregates, and optional row outputs."""

    tables: dict[str, pa.Table]  # "decisions", every PARTIAL_SQL name, and "rows"/"failures" when asked


class QueryDecider:
    """Decides distinct normalized queries against a folder, once per kind and role (DESIGN 1).

    Each query gets at most one **active** and at most one **draft** remediation of a kind, the best
    by the decision rule; a third class, `ever_active`, decides among answers that were ever
    activated (active or paused), which infers preventions where the logs do not say which answer
    was served. Before the decision each chunk is screened per kind (`_Screen`), so only the queries
    some entry might accept reach `decide_vectors`.
    """

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        roles = [(kind, role) for kind in KINDS for role in ROLES if role != "ever_active" or kind == "answer"]
        present = {(r.kind, r.status) for r in matcher.by_id.values()}
        self.roles = [(kind, role) for kind, role in roles
                      if any((kind, status) in present for status in ROLES[role])]

    @functools.cached_property
    def screens(self) -> dict[str, _Screen]:
        """Built on the first decision: embedding every entry text costs ~0.4 s at 1,000 remediations
        even from the embedding cache, and a warm run whose decisions are all cached decides nothing."""
        return {kind: _Screen.build(self.matcher, kind, {s for k, role in self.roles if k == kind
                                                         for s in ROLES[role]})
                for kind in {kind for kind, _ in self.roles}}

    def decide(self, queries: Sequence[str]) -> pa.Table:
        """The accepted decisions (DECISIONS_SCHEMA) for `queries` (distinct normalized texts)."""
        parts = [self._decide_chunk(list(queries[start:start + _DECIDE_CHUNK]))
                 for start in range(0, len(queries), _DECIDE_CHUNK)]
        return pa.concat_tables(parts) if parts else DECISIONS_SCHEMA.empty_table()

    def _decide_chunk(self, queries: list[str]) -> pa.Table:
        columns: dict[str, list] = {name: [] for name in DECISIONS_SCHEMA.names}
        if not self.roles or not queries:
            return pa.table(columns, schema=DECISIONS_SCHEMA)
        vectors = self.matcher.encode(queries)
        possible = {kind: screen.possible(vectors, queries) for kind, screen in self.screens.items()}
        for kind, role in self.roles:
            rows = np.flatnonzero(np.logical_or.reduce([possible[kind][status] for status in ROLES[role]
                                                        if status in possible[kind]]))
            if not rows.size:
                continue
            texts = [queries[row] for row in rows]
            decisions = self.matcher.index.decide_vectors(vectors[rows], texts, kind=kind, statuses=ROLES[role])
            for text, decision in zip(texts, decisions, strict=True):
                if decision.entry_id is not None:
                    columns["normalized_query"].append(text)
                    columns["remediation_id"].append(decision.entry_id)
                    columns["kind"].append(kind)
                    columns["role"].append(role)
                    columns["similarity"].append(float(decision.similarity))
                    columns["margin"].append(float(decision.margin))
        return pa.table(columns, schema=DECISIONS_SCHEMA)


class AttributionStep:
    """Canonical log rows (an Arrow batch with STEP_COLUMNS) -> decisions, partial aggregates, rows.

    Build it once per process (it loads nothing itself: `folder` carries the model and index) and call
    it on each batch. `rows=True` adds one row per attributed log ("rows"), `failures=True` the
    failure logs ("failures"); `partials` adds partial aggregates of the caller's (name -> SQL over
    `batch`, `decided` and `remediations`, as PARTIAL_SQL), e.g. the report's per time slice.
    `cache` (optional) keeps decisions on disk between runs, keyed by the folder, the model and the
    decision settings, so a warm run decides only queries it has not seen.
    """

    def __init__(self, matcher: Matcher, *, rows: bool = False, failures: bool = False,
                 cache: DecisionCache | None = None, threads: int | None = None,
                 partials: dict[str, str] | None = None) -> None:
        import duckdb

        self.decider = QueryDecider(matcher)
        self.partials = {**PARTIAL_SQL, **(partials or {})}
        self.rows = rows
        self.failures = failures
        self.cache = cache
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")  # stdout is the command's (remedy.logs.reading.quiet)
        self._con.execute("CREATE TABLE memo_known (normalized_query VARCHAR)")
        self._con.register("remedy_schema", DECISIONS_SCHEMA.empty_table())
        self._con.execute("CREATE TABLE memo_decided AS SELECT * FROM remedy_schema")
        self._con.unregister("remedy_schema")
        self._memo_size = 0
        if threads:  # the Ray engine runs one step per core: one thread each
            self._con.execute(f"SET threads = {int(threads)}")
        self._remediations = remediation_table(matcher)

    def __call__(self, batch: pa.RecordBatch | pa.Table) -> StepOutput:
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        decided = self._decisions(pc.drop_null(pc.unique(table.column("normalized_query"))))
        con = self._con
        con.register("batch", table)
        con.register("decided", decided)
        con.register("remediations", self._remediations)
        try:
            outputs = {"decisions": decided}
            outputs.update({name: con.sql(sql).to_arrow_table() for name, sql in self.partials.items()})
            if self.rows:
                outputs["rows"] = con.sql(ROWS_SQL).to_arrow_table()
            if self.failures:
                outputs["failures"] = con.sql(FAILURES_SQL).to_arrow_table()
        finally:
            for name in ("batch", "decided", "remediations"):
                con.unregister(name)
        return StepOutput(outputs)

    def run_whole(self, con: duckdb.DuckDBPyConnection, relation: str, prefix: str) -> None:
        """Every output but the decisions over all the rows of `relation` (STEP_COLUMNS) at once, appended
        to the driver tables `prefix` made by `create_outputs` on `con`, once the driver's decisions table
        holds every accepted decision for its queries (`decide`, `remembered_into`): the same SQL as per
        batch, `batch` being all the rows. The totals are those of the batches summed (every partial is a
        count or a max), and the row outputs are ordered where they are written."""
        name = "remedy_whole_remediations"
        con.register(name, self._remediations)
        # CTEs named as the step's own views shadow any table of `con` in the partials' SQL.
        ctes = (f"WITH batch AS (SELECT {', '.join(STEP_COLUMNS)} FROM {relation}), "
                f"decided AS (SELECT DISTINCT * FROM {output_table(prefix, 'decisions')}), "
                f"remediations AS (SELECT * FROM {name})")
        outputs = dict(self.partials)
        if self.rows:
            outputs["rows"] = ROWS_SQL
        if self.failures:
            outputs["failures"] = FAILURES_SQL
        try:
            for output, sql in outputs.items():
                con.execute(f"INSERT INTO {output_table(prefix, output)} {ctes} SELECT * FROM ({sql})")
        finally:
            con.unregister(name)

    def decide(self, queries: pa.Array | pa.ChunkedArray) -> pa.Table:
        """The accepted decisions (DECISIONS_SCHEMA) for `queries` (distinct normalized texts), from the
        memo, the decision cache, or decided now, as a batch of those queries would get them."""
        return self._decisions(queries.combine_chunks() if isinstance(queries, pa.ChunkedArray) else queries)

    def remembered_into(self, con: duckdb.DuckDBPyConnection, prefix: str) -> None:
        """Append the memo's decisions (after `recall` knew every query) to the driver's decisions table."""
        append_outputs(con, prefix, StepOutput({"decisions": self._con.sql("SELECT * FROM memo_decided")
                                                .to_arrow_table()}))

    def recall(self, queries: pa.Array | pa.ChunkedArray) -> bool:
        """Memoize the decision cache's decisions for `queries` (distinct normalized texts, at most
        _MEMO_LIMIT of them, else nothing is done) and say whether it knew every one: then no batch of
        these queries decides anything, so the batches may come in any order. The queries it does not
        know are decided as without this call (a batch's unknown queries, in the batch's order)."""
        if self.cache is None or not len(queries) or len(queries) > _MEMO_LIMIT:
            return False
        known, cached = self.cache.lookup_arrow(queries)
        if not len(known):
            return False
        self._remember(known, cached)
        return len(known) == len(queries)

    def close(self) -> None:
        """Store the decisions made since the last close in the decision cache (one file)."""
        if self.cache is not None:
            self.cache.flush()

    def _decisions(self, queries: pa.Array) -> pa.Table:
        """Accepted decisions for the batch's distinct queries: from the memo, the cache, or decided now.

        The memo is two DuckDB tables (the queries decided, the decisions accepted), so a batch whose
        queries are known crosses into Python only as Arrow columns."""
        con = self._con
        if self._memo_size > _MEMO_LIMIT:
            con.execute("DELETE FROM memo_known")
            con.execute("DELETE FROM memo_decided")
            self._memo_size = 0
        con.register("wanted", pa.table({"normalized_query": queries.cast(pa.string())}))
        try:
            missing = con.sql("SELECT normalized_query FROM wanted "
                              "ANTI JOIN memo_known USING (normalized_query)").to_arrow_table().column(0)
            if len(missing) and self.cache is not None:
                known, cached = self.cache.lookup(missing.to_pylist())
                self._remember(pa.array(sorted(known), pa.string()), cached)
                missing = pc.filter(missing, pc.invert(pc.is_in(missing, value_set=pa.array(list(known), pa.string()))))
            if len(missing):
                texts = missing.to_pylist()
                fresh = self.decider.decide(texts)
                self._remember(missing, fresh)
                if self.cache is not None:
                    self.cache.add(texts, fresh)
            return con.sql("SELECT * FROM memo_decided SEMI JOIN wanted USING (normalized_query)").to_arrow_table()
        finally:
            con.unregister("wanted")

    def _remember(self, queries: pa.Array | pa.ChunkedArray, decisions: pa.Table) -> None:
        """Memoize `decisions` for `queries` (a query without a row there was decided: nothing accepted)."""
        con = self._con
        con.register("remedy_known", pa.table({"normalized_query": queries}))
        con.register("remedy_decided", decisions)
        try:
            con.execute("INSERT INTO memo_known SELECT normalized_query FROM remedy_known")
            con.execute("INSERT INTO memo_decided SELECT * FROM remedy_decided")
        finally:
            con.unregister("remedy_known")
            con.unregister("remedy_decided")
        self._memo_size += len(queries)


def is_scaffold_draft(entry: Remediation) -> bool:
    """A draft that is no more than a scaffold: its text still holds a placeholder (rule W003's), like the
    TODO `new answer --from-issue` writes. It addresses no failure (coverage, report, issue queue) until
    written. A review is never one: its text is a logged response, not the expert's."""
    from remedy.placeholders import has_placeholder

    return entry.status == "draft" and entry.kind != "review" and has_placeholder(entry.text)


def remediation_table(matcher: Matcher) -> pa.Table:
    """(id, activated, scaffold) of every remediation, activation as naive UTC, for the prevention partials;
    `scaffold`: a scaffold draft (`is_scaffold_draft`), for the addressed totals."""
    entries = list(matcher.by_id.values())
    return pa.table({"id": pa.array([r.id for r in entries], pa.string()),
                     "activated": pa.array([r.activated.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                                            if r.activated else None for r in entries], pa.timestamp("us")),
                     "scaffold": pa.array([is_scaffold_draft(r) for r in entries], pa.bool_())})


def create_outputs(con: duckdb.DuckDBPyConnection, prefix: str, sample: StepOutput) -> None:
    """Empty driver tables `{prefix}__{name}` shaped like the step's outputs (decisions go to `prefix`)."""
    for name, table in sample.tables.items():
        target = output_table(prefix, name)
        con.execute(f"DROP TABLE IF EXISTS {target}")
        con.register("remedy_sample", table.schema.empty_table())
        try:
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM remedy_sample")
        finally:
            con.unregister("remedy_sample")


def append_outputs(con: duckdb.DuckDBPyConnection, prefix: str, output: StepOutput) -> None:
    """Append one batch's outputs to the driver tables made by `create_outputs`."""
    for name, table in output.tables.items():
        if table.num_rows:
            con.register("remedy_part", table)
            try:
                con.execute(f"INSERT INTO {output_table(prefix, name)} SELECT * FROM remedy_part")
            finally:
                con.unregister("remedy_part")


def finish_outputs(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """A query's decisions may come from several batches: keep one copy of each."""
    con.execute(f"CREATE OR REPLACE TABLE {prefix} AS SELECT DISTINCT * FROM {prefix}")


def output_table(prefix: str, name: str) -> str:
    return prefix if name == "decisions" else f"{prefix}__{name}"


@dataclass(frozen=True)
class _Screen:
    """A cheap, conservative test that no entry of one kind and status can accept a query.

    A query is accepted only when it equals an entry's text (normalized) or when its best cosine
    reaches that entry's threshold; both are bounded by one matrix product against every text of
    the kind and a row maximum per status. Only the queries that pass go to `decide_vectors`,
    which makes the real decision, so the rule is unchanged: on logs most distinct queries match
    nothing, and deciding each of them once per (kind, role) dominated the run.
    """

    matrix_t: np.ndarray  # (dim, texts) float32: unit rows of the kind's entry texts, grouped by status
    spans: dict[str, tuple[int, int]]  # status -> its columns in matrix_t
    floors: dict[str, float]  # status -> lowest threshold of its entries, less a rounding allowance
    exact: dict[str, frozenset[str]]  # status -> the normalized texts of its entries

    @classmethod
    def build(cls, matcher: Matcher, kind: str, statuses: set[str]) -> _Screen:
        texts: list[str] = []
        spans: dict[str, tuple[int, int]] = {}
        floors: dict[str, float] = {}
        exact: dict[str, frozenset[str]] = {}
        for status in sorted(statuses):
            entries = [e for e in matcher.index.entries if e.kind == kind and e.status == status]
            own = list(dict.fromkeys(t for e in entries for t in (e.question, *e.also_matches)))
            spans[status] = (len(texts), len(texts) + len(own))
            texts.extend(own)
            thresholds = [matcher.index.threshold if e.threshold is None else float(e.threshold) for e in entries]
            floors[status] = min(thresholds, default=np.inf) - _ROUNDING
            exact[status] = frozenset(normalize_question(t) for t in own)
        vectors = unit_rows(np.asarray(matcher.encode(texts), dtype=np.float32)) if texts else np.zeros((0, 0))
        return cls(np.ascontiguousarray(vectors.T, dtype=np.float32), spans, floors, exact)

    def possible(self, vectors: np.ndarray, normalized: list[str]) -> dict[str, np.ndarray]:
        """Per status, which queries some entry of that status might accept (bool per query)."""
        found = {status: np.zeros(len(normalized), dtype=bool) for status in self.spans}
        if self.matrix_t.size:
            queries = unit_rows(np.asarray(vectors, dtype=np.float32))
            rows = max(64, _SCREEN_CELLS // self.matrix_t.shape[1])
            for start in range(0, len(normalized), rows):
                block = queries[start:start + rows] @ self.matrix_t
                for status, (first, stop) in self.spans.items():
                    if stop > first:
                        best = block[:, first:stop].max(axis=1)
                        found[status][start:start + rows] = best >= self.floors[status]
        for status, texts in self.exact.items():
            if texts:
                found[status] |= np.fromiter((text in texts for text in normalized), dtype=bool, count=len(normalized))
        return found
