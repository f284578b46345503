"""How well `remedy issues` groups failures into topics: issues per topic, homogeneity, completeness.

CLINC150: every query of a split is treated as a failure (weight 1, severity 1) and the intents are
the truth. Homogeneity (each issue holds one intent) and completeness (each intent sits in one issue)
are the entropy-based V-measure parts of Rosenberg & Hirschberg (2007), weighted by failures.
The queue's settings are chosen on the validation split (`--tune`, `--write` to ship them): the static
stage's leader and merge thresholds first, then the verifier's pass (screen, merge) over those topics,
each by the same rule (fewest issues with homogeneity >= 0.95); they are reported on the test split,
beside "before" (the thresholds as offsets from the decision threshold, which moved with it).

The demo (fixtures/logs.jsonl with the project's remediations): the real `remedy issues` pipeline;
the truth is the generator's topic of each log (replayed, see `demo_truth`); we report the same
measures and over how many issues the failures of two topics spread (transit visas, power banks).

Usage: python benchmarks/issues_quality.py [--data DIR] [--tune [--write]] [--out benchmarks/out/issues_quality.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from remedy.files.atomic import write_atomically
from remedy.logs import clustering
from remedy.logs.clustering import cluster_failures
from remedy.logs.topic_merging import TopicSettings, merge_verified
from remedy.matching.embedding import BUNDLED_DIR, DEFAULTS_FILE, load_embedder
from remedy.matching.verifier import MODEL_DIR, SETTINGS_FILE, available_verifier
from remedy.normalize import normalize_question

REPO = Path(__file__).resolve().parents[1]
DEMO_TOPICS = ("transit-visa", "power-bank")  # the two the issue named


def entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def homogeneity_completeness(truth: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    """The V-measure parts (the same formulas as scikit-learn's homogeneity/completeness scores)."""
    table: dict[tuple[str, str], int] = Counter(zip(truth, predicted, strict=True))
    classes = sorted(set(truth))
    clusters = sorted(set(predicted))
    ci = {c: i for i, c in enumerate(classes)}
    ki = {k: i for i, k in enumerate(clusters)}
    joint = np.zeros((len(classes), len(clusters)))
    for (c, k), n in table.items():
        joint[ci[c], ki[k]] = n
    n = joint.sum()
    h_c, h_k = entropy(joint.sum(axis=1)), entropy(joint.sum(axis=0))
    nz = joint > 0
    p = joint[nz] / n
    # conditional entropies H(C|K) and H(K|C)
    h_c_given_k = float(-(p * np.log(joint[nz] / np.broadcast_to(joint.sum(axis=0), joint.shape)[nz])).sum())
    h_k_given_c = float(-(p * np.log(joint[nz] / np.broadcast_to(joint.sum(axis=1)[:, None], joint.shape)[nz])).sum())
    homogeneity = 1.0 if h_c == 0 else 1 - h_c_given_k / h_c
    completeness = 1.0 if h_k == 0 else 1 - h_k_given_c / h_k
    return homogeneity, completeness


def clinc_split(rows: list[dict[str, Any]], split: str) -> tuple[list[str], list[str]]:
    """Distinct normalized texts of a split and their intent (the first one seen, for the 5 duplicates)."""
    by_text: dict[str, str] = {}
    for row in rows:
        if row["split"] == split:
            by_text.setdefault(normalize_question(row["text"]), row["intent"])
    texts = sorted(by_text)
    return texts, [by_text[t] for t in texts]


MIN_HOMOGENEITY = 0.95  # the choice rule: fewest issues on validation while homogeneity stays at least this
LEADERS = (0.80, 0.86, 0.92)
MERGES = (0.50, 0.53, 0.56, 0.60, 0.64, 0.68, 0.72)
SCREENS = (0.5, 0.6)
VERIFIED_MERGES = (0.55, 0.6, 0.65, 0.7, 0.75)


def evaluate(static: np.ndarray, verifier: np.ndarray | None, texts: list[str], intents: list[str],
             settings: TopicSettings) -> dict[str, Any]:
    """The queue's two stages on one split: static topics, then (with `verifier`) the verifier's merges."""
    n = len(texts)
    started = time.perf_counter()
    clusters = cluster_failures(static, np.ones(n, dtype=int), np.ones(n), texts, threshold=settings.leader,
                                merge_threshold=settings.merge)
    verified = 0
    if verifier is not None and settings.verifying:
        position = {t: i for i, t in enumerate(texts)}

        def verifier_encode(batch: Any) -> np.ndarray:
            nonlocal verified
            verified += len(batch)
            return verifier[[position[t] for t in batch]]

        clusters = merge_verified(clusters, lambda batch: static[[position[t] for t in batch]], verifier_encode,
                                  settings)
    seconds = time.perf_counter() - started
    predicted = [""] * n
    for cluster in clusters:
        for member in cluster.members:
            predicted[member] = cluster.id
    homogeneity, completeness = homogeneity_completeness(intents, predicted)
    return {"leader_threshold": settings.leader, "merge_threshold": settings.merge,
            "verifier_screen": settings.screen if verifier is not None else None,
            "verified_merge": settings.verified_merge if verifier is not None else None,
            "queries": n, "intents": len(set(intents)), "issues": len(clusters),
            "issues_per_intent": round(len(clusters) / len(set(intents)), 2),
            "homogeneity": round(homogeneity, 4), "completeness": round(completeness, 4),
            "representatives_verified": verified, "seconds": round(seconds, 2)}


def _best(grid: list[dict[str, Any]]) -> dict[str, Any]:
    """Fewest issues with homogeneity >= MIN_HOMOGENEITY (ties: higher homogeneity); the first grid row if none."""
    passing = [row for row in grid if row["homogeneity"] >= MIN_HOMOGENEITY]
    return min(passing, key=lambda row: (row["issues"], -row["homogeneity"])) if passing else grid[0]


def tune(static: np.ndarray, verifier: np.ndarray | None, texts: list[str], intents: list[str]) -> dict[str, Any]:
    """On validation: the static path's thresholds alone; then, for the verifier's path, its static merge and
    the verifier's pass together (the leader as chosen: it changes nothing measurable)."""
    grid = [evaluate(static, None, texts, intents, TopicSettings(leader, merge)) for leader in LEADERS
            for merge in MERGES]
    chosen = _best(grid)
    found: dict[str, Any] = {"static_grid": grid, "static": chosen}
    if verifier is not None:
        leader = chosen["leader_threshold"]
        verifier_grid = [evaluate(static, verifier, texts, intents, TopicSettings(leader, merge, screen, verified))
                         for merge in MERGES if merge >= chosen["merge_threshold"]
                         for screen in SCREENS for verified in VERIFIED_MERGES]
        found["verifier_grid"] = verifier_grid
        found["verifier"] = _best(verifier_grid)
    return found


def write_settings(found: dict[str, Any]) -> None:
    """The chosen thresholds into the shipped defaults files (their other keys kept)."""
    rule = (f"fewest issues on CLINC150 validation with homogeneity >= {MIN_HOMOGENEITY} "
            "(benchmarks/issues_quality.py --tune): the static path alone; the verifier's path (its static merge, "
            "screen and verifier merge) together")
    path = BUNDLED_DIR / DEFAULTS_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    with_verifier = found.get("verifier") or {}
    data["topics"] = {"leader": found["static"]["leader_threshold"], "merge": found["static"]["merge_threshold"],
                      "merge_before_verifier": with_verifier.get("merge_threshold"),
                      "verifier_screen": with_verifier.get("verifier_screen"), "rule": rule}
    write_atomically(path, json.dumps(data, indent=2) + "\n")
    if "verifier" in found:
        path = MODEL_DIR / SETTINGS_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        data["topic_merge"] = found["verifier"]["verified_merge"]
        write_atomically(path, json.dumps(data, indent=2) + "\n")


def clinc(data: Path, tune_on_val: bool, write: bool) -> dict[str, Any] | None:
    path = data / "queries.jsonl"
    if not path.is_file():
        print(f"CLINC150 not found at {data} (pass --data); skipping it.", file=sys.stderr)
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = load_embedder("bundled", REPO)
    verifier, why = available_verifier()
    if verifier is None:
        print(f"verifier not measured: {why}", file=sys.stderr)
    threshold = float(embedder.defaults.threshold)
    result: dict[str, Any] = {"decision_threshold": threshold}
    splits = {}
    for split in ("val", "test"):
        texts, intents = clinc_split(rows, split)
        splits[split] = (embedder.encode(texts), verifier.encode(texts) if verifier else None, texts, intents)
    if tune_on_val:
        found = tune(*splits["val"])
        result["validation"] = found
        print(json.dumps({k: v for k, v in found.items() if not k.endswith("grid")}, indent=2), file=sys.stderr)
        if write:
            write_settings(found)
            embedder = load_embedder("bundled", REPO)
            available_verifier.cache_clear()
            verifier, _ = available_verifier()
    shipped, shipped_verified = _shipped_settings(embedder, verifier)
    leader, merge = clustering.topic_thresholds(threshold)
    for split, (static, verifier_vectors, texts, intents) in splits.items():
        result[split] = {
            "before (offsets from the decision threshold)":
                evaluate(static, None, texts, intents, TopicSettings(leader, merge)),
            "static topics": evaluate(static, None, texts, intents, shipped),
        }
        if verifier_vectors is not None and shipped_verified is not None:
            result[split]["with the verifier's merges"] = evaluate(static, verifier_vectors, texts, intents,
                                                                   shipped_verified)
    result["shipped"] = {"static path": shipped.__dict__,
                         "verifier path": shipped_verified.__dict__ if shipped_verified else None}
    return result


def _shipped_settings(embedder: Any, verifier: Any) -> tuple[TopicSettings, TopicSettings | None]:
    """(the static path's topic settings, the verifier path's or None): what `Matcher.topic_settings` gives."""
    defaults = embedder.defaults
    if defaults.topic_leader is None or defaults.topic_merge is None:
        leader, merge = clustering.topic_thresholds(float(defaults.threshold))
    else:
        leader, merge = defaults.topic_leader, defaults.topic_merge
    static = TopicSettings(leader, merge)
    if verifier is None or verifier.settings.topic_merge is None or defaults.topic_screen is None:
        return static, None
    return static, TopicSettings(leader, defaults.topic_merge_verified or merge, defaults.topic_screen,
                                 verifier.settings.topic_merge)


def demo_truth() -> dict[str, str]:
    """log id -> the generator's topic key: fixtures/logs.jsonl is `generate_logs.py --rows 2600 --seed 7`,
    so replaying the generator with its topic choice recorded labels every row (checked byte for byte)."""
    import io

    sys.path.insert(0, str(REPO / "fixtures"))
    import generate_logs

    keys: list[str] = []
    pick = generate_logs._pick_query

    def recording(topic: Any, rng: Any) -> Any:
        keys.append(topic.key)
        return pick(topic, rng)

    generate_logs._pick_query = recording
    try:
        out = io.StringIO()
        generate_logs.generate(2600, 7, "remedy", generate_logs.load_remediations(REPO / "remediations"), out)
    finally:
        generate_logs._pick_query = pick
    lines = out.getvalue().splitlines()
    if out.getvalue() != (REPO / "fixtures" / "logs.jsonl").read_text(encoding="utf-8"):
        raise SystemExit("fixtures/logs.jsonl is not the generator's output any more: no topic labels")
    return {json.loads(line)["id"]: key for line, key in zip(lines, keys, strict=True)}


def demo() -> dict[str, Any]:
    """The real pipeline on the demo log (the project's remediations), every issue whatever its state;
    truth: the generator's topic of each failure log."""
    import inspect

    from remedy.analytics.analysis import analyse
    from remedy.analytics.issue_queue import rank_issues
    from remedy.config import load_config

    truth = demo_truth()
    config = load_config(cwd=REPO)
    analysis = analyse(config, [str(REPO / "fixtures" / "logs.jsonl")])
    # REMEDY_BENCH_SOURCE-style runs may use older code, whose rank_issues took no states.
    signature = str(inspect.signature(rank_issues))
    options = {"states": ("open", "assigned", "addressed", "no_action_needed", "wont_fix")} \
        if "filters" in signature or "states" in signature else {}
    issues = rank_issues(analysis, **options)
    labels = [(truth[log_id], issue.cluster.id) for issue in issues for log_id in issue.log_ids]
    topics = {topic for topic, _ in labels}
    homogeneity, completeness = homogeneity_completeness([t for t, _ in labels], [c for _, c in labels])
    report: dict[str, Any] = {"failure_logs": len(labels), "topics": len(topics), "issues": len(issues),
                              "issues_per_topic": round(len(issues) / len(topics), 2),
                              "homogeneity": round(homogeneity, 4), "completeness": round(completeness, 4),
                              "by_topic": {}}
    for topic in DEMO_TOPICS:
        holding = Counter(c for t, c in labels if t == topic)
        ranks = [i.rank for i in issues if i.cluster.id in holding]
        failures = sum(holding.values())
        report["by_topic"][topic] = {"issues_holding_it": len(holding), "issue_ranks": ranks, "failures": failures,
                                     "share_in_the_largest_issue": round(max(holding.values()) / failures, 3)}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--tune", action="store_true", help="also run the grid on the validation split")
    parser.add_argument("--write", action="store_true", help="with --tune: write the chosen thresholds into the "
                        "bundled model's remedy_defaults.json and the verifier's remedy_verifier.json")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "issues_quality.json")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"clinc150": clinc(args.data, args.tune, args.write)}
    if not args.skip_demo:
        result["demo"] = demo()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    summary = {k: v for k, v in (result["clinc150"] or {}).items() if k != "validation"}
    print(json.dumps({"clinc150": summary, "demo": result.get("demo")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
