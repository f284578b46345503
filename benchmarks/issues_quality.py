"""How well `remedy issues` groups failures into topics: issues per topic, homogeneity, completeness.

CLINC150: every query of a split is treated as a failure (weight 1, severity 1) and the intents are
the truth. Homogeneity (each issue holds one intent) and completeness (each intent sits in one issue)
are the entropy-based V-measure parts of Rosenberg & Hirschberg (2007), weighted by failures.
Parameters (the offsets of the two thresholds from the decision threshold) are chosen on the
validation split (`--tune`) and reported on the test split.

The demo (fixtures/logs.jsonl with the project's remediations): the real `remedy issues` pipeline;
the truth is the generator's topic of each log (replayed, see `demo_truth`); we report the same
measures and over how many issues the failures of two topics spread (transit visas, power banks).

Usage: python benchmarks/issues_quality.py [--data DIR] [--tune] [--out benchmarks/out/issues_quality.json]
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

from remedy.logs import clustering
from remedy.logs.clustering import cluster_failures
from remedy.matching.embedding import load_embedder
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


def evaluate(vectors: np.ndarray, texts: list[str], intents: list[str], leader: float,
             merge: float | None) -> dict[str, Any]:
    n = len(texts)
    started = time.perf_counter()
    clusters = cluster_failures(vectors, np.ones(n, dtype=int), np.ones(n), texts, threshold=leader,
                                merge_threshold=merge)
    seconds = time.perf_counter() - started
    predicted = [""] * n
    for cluster in clusters:
        for member in cluster.members:
            predicted[member] = cluster.id
    homogeneity, completeness = homogeneity_completeness(intents, predicted)
    return {"leader_threshold": round(leader, 3), "merge_threshold": None if merge is None else round(merge, 3),
            "queries": n, "intents": len(set(intents)), "issues": len(clusters),
            "issues_per_intent": round(len(clusters) / len(set(intents)), 2),
            "homogeneity": round(homogeneity, 4), "completeness": round(completeness, 4),
            "seconds": round(seconds, 2)}


def clinc(data: Path, tune: bool) -> dict[str, Any] | None:
    path = data / "queries.jsonl"
    if not path.is_file():
        print(f"CLINC150 not found at {data} (pass --data); skipping it.", file=sys.stderr)
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = load_embedder("bundled", REPO)
    threshold = float(embedder.defaults.threshold)
    result: dict[str, Any] = {"decision_threshold": threshold}
    if tune:
        texts, intents = clinc_split(rows, "val")
        vectors = embedder.encode(texts)
        grid = []
        for leader_offset in (0.0, 0.03, 0.05, 0.07, 0.1, 0.15):
            for merge_offset in (-0.3, -0.27, -0.25, -0.22, -0.2, -0.17, -0.15, -0.1):
                leader = threshold + leader_offset
                grid.append({"leader_offset": leader_offset, "merge_offset": merge_offset,
                             **evaluate(vectors, texts, intents, leader, threshold + merge_offset)})
                print(json.dumps(grid[-1]), file=sys.stderr)
        result["validation_grid"] = grid
    leader, merge = clustering.topic_thresholds(threshold)
    for split in ("val", "test"):
        texts, intents = clinc_split(rows, split)
        vectors = embedder.encode(texts)
        result[split] = {"before (leader clustering at the decision threshold)":
                         evaluate(vectors, texts, intents, threshold, None),
                         "after (topics)": evaluate(vectors, texts, intents, leader, merge)}
    result["offsets"] = {"leader": clustering.LEADER_OFFSET, "merge": clustering.MERGE_OFFSET}
    return result


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
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "issues_quality.json")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"clinc150": clinc(args.data, args.tune)}
    if not args.skip_demo:
        result["demo"] = demo()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    summary = {k: v for k, v in (result["clinc150"] or {}).items() if k != "validation_grid"}
    print(json.dumps({"clinc150": summary, "demo": result.get("demo")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
