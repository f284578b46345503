"""`remedy model adapt`: fit the configured model to the project's own log queries, and show what changed.

The queries are the distinct normalized queries of the logs (read with DuckDB, failures or not: the
point is the users' vocabulary). Unless `guide=False`, the folder's active and draft remediations
guide the fit (adapt_guidance.py). Quality is measured before and after on the folder's own
`also_matches`, each judged held out (as if it were not listed): top-1 (is its own entry the
nearest?) and how many would be accepted by the decision rule. "After" is judged on a second fit
that never saw those texts (not in its rows, its guidance or its centroids): otherwise the guided
fit, which pulls each `also_matches` toward its question, would be judged on its own homework.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remedy.config import Config
from remedy.errors import InputError
from remedy.files.folder import load_folder
from remedy.files.outputs import refuse_output_in_project, refuse_output_over_inputs
from remedy.files.remediation import Remediation
from remedy.logs.project import read_project_logs
from remedy.logs.reading import SkippedLine, iter_distinct_queries, resolve_log_paths
from remedy.matching.adapt import Progress, adapt_model, load_teacher
from remedy.matching.adapt_defaults import HeldOutChoice
from remedy.matching.decision import MatchIndex
from remedy.matching.embedding import Embedder, load_embedder, resolve_model_folder
from remedy.matching.matcher import decision_settings, match_entries


@dataclass(frozen=True)
class HeldOutQuality:
    examples: int
    top1: int  # held-out also_matches whose nearest entry is their own
    accepted: int  # ... that the decision rule would also accept for their own entry


@dataclass(frozen=True)
class AdaptSummary:
    out_dir: Path
    queries: int
    tokens_changed: int
    seconds: float
    guided_queries: int
    guided_entries: int
    before: HeldOutQuality
    after: HeldOutQuality
    skipped_lines: int  # malformed log lines left out (read_logs), and the first few of them
    first_skipped: tuple[SkippedLine, ...]
    defaults: dict[str, Any]  # written beside the adapted model (adapt_defaults.py)
    chosen: HeldOutChoice | None  # the adapted model on the held-out log queries
    base_chosen: HeldOutChoice | None  # the base model there, by the same rule

    @property
    def worse(self) -> list[str]:
        """Why switching to the adapted model would lose quality (empty: it does not)."""
        reasons = []
        if self.after.top1 < self.before.top1:
            reasons.append(f"fewer held-out also_matches find their own entry "
                           f"({self.after.top1} vs {self.before.top1})")
        if self.chosen is not None and self.base_chosen is not None:
            adapted, base = self.chosen, self.base_chosen
            if adapted.threshold >= 1.0 and base.recall > 0:
                reasons.append("no setting is certified for it on the held-out log queries: it would serve exact "
                               "matches only")
            elif adapted.recall < base.recall:
                reasons.append(f"less recall than the base model at its defaults on the held-out log queries "
                               f"({adapted.recall:.3f} vs {base.recall:.3f})")
        return reasons


def adapt_project(config: Config, log_paths: Sequence[str], out_dir: Path, *, teacher: str | None = None,
                  guide: bool = True, strict: bool = False, overwrite: bool = False,
                  progress: Progress | None = None) -> AdaptSummary:
    # --out is replaced as a whole: it must be none of the inputs and hold none of them.
    base_folder, _ = resolve_model_folder(config.model, config.root)
    inputs = [log_file.path for log_file in resolve_log_paths(list(log_paths), quiet=True)] + [base_folder]
    refuse_output_over_inputs(out_dir, inputs + ([teacher] if teacher else []), option="--out", folder=True)
    refuse_output_in_project(out_dir, config, option="--out", folder=True)
    logs = read_project_logs(config, log_paths, strict=strict)
    queries = [text for batch in iter_distinct_queries(logs) for text in batch.normalized_queries if text]
    if not queries:
        first = logs.first_skipped[0] if logs.first_skipped else None
        why = f"; {logs.skipped_lines:,} malformed line(s) skipped, first: {first}" if first else ""
        raise InputError(f"no queries in {', '.join(log_paths)} to adapt the model to{why}")
    remediations = load_folder(config.remediations_dir).remediations
    before = held_out_quality(config, remediations, load_embedder(config.model, config.root))
    entries = match_entries(remediations) if guide else []
    examples = [t for r in remediations if r.status != "paused" for t in r.also_matches]
    result = adapt_model(base_folder, queries, load_teacher(teacher), out_dir, guide=entries, held_out=examples,
                         folder=match_entries(remediations), progress=progress, overwrite=overwrite)
    adapted = load_embedder(str(out_dir.resolve()))
    after = held_out_quality(config, remediations, _probe(adapted, result.probe_vectors))
    return AdaptSummary(out_dir, result.queries, result.tokens_changed, result.seconds, result.guided_queries,
                        result.guided_entries, before, after, logs.skipped_lines, logs.first_skipped,
                        result.defaults, result.chosen, result.base_chosen)


def held_out_quality(config: Config, remediations: list[Remediation], embedder: Any) -> HeldOutQuality:
    # Not through the embedding cache: the probe shares its folder (so the fingerprint) with the adapted
    # model, and a few hundred examples embed in milliseconds anyway.
    index = MatchIndex(match_entries(remediations), embedder.encode, *decision_settings(config, embedder))
    examples = top1 = accepted = 0
    for entry in remediations:
        if entry.status == "paused" or not entry.also_matches:
            continue
        decisions = index.decide(list(entry.also_matches), kind=entry.kind, statuses=(entry.status,),
                                        leave_out_exact=True)
        examples += len(decisions)
        top1 += sum(decision.best_id == entry.id for decision in decisions)
        accepted += sum(decision.entry_id == entry.id for decision in decisions)
    return HeldOutQuality(examples, top1, accepted)


def _probe(adapted: Embedder, vectors: Any) -> Embedder:
    """The adapted model's tokenizer and settings with the held-out fit's token vectors."""
    if vectors is None:  # no also_matches to hold out: nothing to judge, the model itself stands in
        return adapted
    from model2vec import StaticModel

    model = StaticModel(vectors=vectors, tokenizer=adapted.tokenizer, normalize=True)
    return Embedder(model, f"{adapted.name} (held-out fit)", adapted.folder)
