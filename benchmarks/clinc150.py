"""CLINC150 matching benchmark: the figure the team steers by (docs/model.md).

Protocol: one answer per intent, question = the intent's first train query, also_matches = the next
k train queries (k = 0 and 4). Queries = the in-scope test split + the out-of-scope test queries.
Per model:

- top-1: in-scope test queries whose best entry is their intent (no threshold);
- recall@P95: the best recall over every threshold and margin with precision >= 0.95, where
  precision = correct accepted / accepted and recall = correct accepted / in-scope queries
  (out-of-scope queries count as wrong whenever accepted);
- at the model's default settings (remedy_defaults.json): precision, recall, oos false-match rate;
- embedding speed in sentences per second (single process; best of several runs on 2,000 queries).

Folders: k=0, k=4, and "partial": the k=4 answers of every 5th intent only (30), so that the other
120 intents' test queries and the out-of-scope ones must match nothing. Real logs are mostly about
things no remediation covers; this keeps adaptation honest about that open world.

Models: the bundled model; the bundled model adapted on CLINC150 train+val texts as unlabelled logs,
plain (`--no-guide`) and guided by the folder being evaluated (the default of `remedy model adapt`);
all-MiniLM-L6-v2 itself. All but the first need `remedy-sme[adapt]` and are skipped without it.

Usage: python benchmarks/clinc150.py [--data DIR] [--k 0 4] [--out benchmarks/out/clinc150.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from remedy.matching.calibration import recall_at_precision
from remedy.matching.decision import MatchEntry, MatchIndex
from remedy.matching.embedding import DecisionDefaults, load_embedder
from remedy.normalize import normalize_question

REPO = Path(__file__).resolve().parents[1]
MARGINS = tuple(round(0.005 * i, 3) for i in range(61))  # 0 .. 0.30

Encode = Callable[[Sequence[str]], np.ndarray]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--k", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "clinc150.json")
    parser.add_argument("--no-teacher", action="store_true", help="skip MiniLM and the adapted model")
    parser.add_argument("--no-minilm", action="store_true", help="skip MiniLM's own rows (slow), keep the adapted")
    args = parser.parse_args()
    data = read_clinc(args.data)
    if data is None:
        return 0
    rows, oos = data
    test = [r for r in rows if r["split"] == "test"] + [r for r in oos if r["split"] == "test"]
    folders = {f"k={k}": folder_entries(rows, k) for k in args.k}
    # The open-world check: a folder for every 5th intent only; the other 120 intents' test queries
    # (and the out-of-scope ones) must match nothing. Guidance must not buy its gains from a closed world.
    partial_intents = sorted({r["intent"] for r in rows})[::5]
    folders["partial"] = [e for e in folder_entries(rows, 4) if e.id in set(partial_intents)]

    bundled = load_embedder("bundled")
    bundled_model = (bundled.encode, _pair(bundled.defaults))
    models: dict[str, dict[str, tuple[Encode, tuple[float, float] | None]]] = {
        "bundled": {f: bundled_model for f in folders}
    }
    verified = _verified_models(bundled, folders)
    if verified:
        models.update(verified)
    else:
        print("the verifier is not installed (the `precise` extra): its rows skipped", file=sys.stderr)
    teacher = None if args.no_teacher else _teacher_or_none()
    extra: dict[str, Any] = {"adapt": {}}
    if teacher is not None:
        # Embed the logs once for all the adaptations below, and keep them on disk for the next run.
        cached = disk_memoized(teacher, args.out.parent / "teacher_minilm.npz")
        logs = [r["text"] for r in rows + oos if r["split"] in ("train", "val")]
        # Each adapted model chooses its own defaults against the folder it will serve (adapt_defaults.py),
        # so even the unguided fit is adapted once per folder.
        models["adapted"] = {
            f: adapt(bundled, logs, cached, args.out.parent / f"adapted_plain_{f.replace('=', '')}", (),
                     extra["adapt"], f"plain {f}", folder=entries)
            for f, entries in folders.items()
        }
        models["adapted, guided by the folder"] = {
            f: adapt(bundled, logs, cached, args.out.parent / f"adapted_guided_{f.replace('=', '')}", entries,
                     extra["adapt"], f"guided {f}")
            for f, entries in folders.items()
        }
        if not args.no_minilm:
            models["MiniLM-L6-v2"] = {f: (teacher, None) for f in folders}  # uncached: its speed is measured
    else:
        print("sentence-transformers not importable: MiniLM and the adapted models skipped", file=sys.stderr)

    queries = [r["text"] for r in test]
    report: dict[str, Any] = {
        "data": str(args.data),
        "queries": len(test),
        "in_scope": sum(r["intent"] != "oos" for r in test),
        "partial_folder_intents": len(partial_intents),
        **extra,
        "results": {},
    }
    results: dict[str, dict[str, Any]] = report["results"]
    for name, per_folder in models.items():
        results[name] = {}
        speeds = []
        measured: dict[int, tuple[float, np.ndarray]] = {}  # one embedding run per distinct model
        for f, (encode, defaults) in per_folder.items():
            if id(encode) not in measured and "verifier" in name:
                measured[id(encode)] = (0.0, np.asarray(encode(queries), dtype=np.float32))
            elif id(encode) not in measured:
                measured[id(encode)] = _speed(encode, queries, rounds=1 if name == "MiniLM-L6-v2" else 5)
            speed, vectors = measured[id(encode)]
            speeds.append(speed)
            gold = [r["intent"] if f != "partial" or r["intent"] in partial_intents else "oos" for r in test]
            results[name][f] = evaluate(folders[f], test, gold, vectors, encode, defaults)
            if hasattr(encode, "verified"):  # the share of the test queries the screen let through
                reached = np.any(vectors[:, bundled.dim:] != 0, axis=1)
                results[name][f]["reached_verifier"] = round(float(reached.mean()), 4)
        # The verifier rows' encoders are memoized (one embedding of each text for every folder): their speed is
        # benchmarks/api_latency.py's and analytics_scale.py's to measure, not this loop's.
        results[name]["sentences_per_second"] = None if "verifier" in name else round(max(speeds))
        print(f"{name}: done", file=sys.stderr)
    if "MiniLM-L6-v2" in results:
        base = results["MiniLM-L6-v2"]["sentences_per_second"]
        for name in results:
            if results[name]["sentences_per_second"]:
                results[name]["speedup_vs_minilm"] = round(results[name]["sentences_per_second"] / base, 1)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown_table(results, list(folders)))
    return 0


def read_clinc(data: Path) -> tuple[list[dict], list[dict]] | None:
    """(in-scope rows, out-of-scope rows), or None (said on stderr) when the data is not there."""
    if not (data / "queries.jsonl").is_file():
        print(f"CLINC150 not found at {data} (pass --data); nothing to benchmark.", file=sys.stderr)
        return None
    return read_jsonl(data / "queries.jsonl"), read_jsonl(data / "oos.jsonl")


def folder_entries(rows: list[dict], k: int) -> list[MatchEntry]:
    """One answer per intent: question = its first train query, also_matches = the next k."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["split"] == "train":
            by_intent[row["intent"]].append(row["text"])
    return [
        MatchEntry(id=i, kind="answer", status="active", question=t[0], also_matches=tuple(t[1 : 1 + k]))
        for i, t in sorted(by_intent.items())
    ]


def adapt(base: Any, logs: list[str], teacher: Encode, out_dir: Path, guide: Sequence[MatchEntry],
          record: dict[str, Any], name: str, folder: Sequence[MatchEntry] | None = None,
          ) -> tuple[Encode, tuple[float, float] | None]:
    from remedy.matching.adapt import adapt_model

    result = adapt_model(base, logs, teacher, out_dir, guide=guide, folder=folder, overwrite=True)
    record[name] = {
        "queries": result.queries,
        "guided_queries": result.guided_queries,
        "guided_entries": result.guided_entries,
        "tokens_changed": result.tokens_changed,
        "seconds": round(result.seconds, 1),
        "defaults": result.defaults,
    }
    adapted = load_embedder(str(out_dir))
    return adapted.encode, _pair(adapted.defaults)


def memoized(encode: Encode) -> Encode:
    seen: dict[str, np.ndarray] = {}

    def lookup(texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in seen))
        if missing:
            seen.update(zip(missing, np.asarray(encode(missing), dtype=np.float32), strict=True))
        return np.stack([seen[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    return lookup


def disk_memoized(encode: Encode, path: Path) -> Encode:
    """`memoized`, kept on disk (an .npz of texts and vectors): the teacher is the slow part of every run."""
    texts: list[str] = []
    vectors: list[np.ndarray] = []
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            texts, vectors = [str(t) for t in stored["texts"]], list(stored["vectors"])
    seen = dict(zip(texts, vectors, strict=True))

    def lookup(batch: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in batch if t not in seen))
        if missing:
            seen.update(zip(missing, np.asarray(encode(missing), dtype=np.float32), strict=True))
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(path.stem + ".tmp.npz")
            np.savez(staging, texts=np.asarray(list(seen)), vectors=np.stack(list(seen.values())))
            staging.replace(path)
        return np.stack([seen[t] for t in batch]) if batch else np.zeros((0, 0), np.float32)

    return lookup


def evaluate(
    entries: list[MatchEntry],
    test: list[dict],
    gold_intents: list[str],
    vectors: np.ndarray,
    encode: Encode,
    defaults: tuple[float, float] | None,
) -> dict[str, Any]:
    """The protocol for one model and one folder; gold "oos" = must match nothing."""
    threshold, margin = defaults if defaults else (0.0, 0.0)
    index = MatchIndex(entries, encode, threshold=threshold, margin=margin)
    normalized = [normalize_question(r["text"]) for r in test]
    decisions = index.decide_vectors(vectors, normalized, kind="answer")
    gold = np.asarray(gold_intents)
    in_scope = gold != "oos"
    correct = np.asarray([d.best_id for d in decisions]) == gold
    similarity = np.asarray([d.similarity for d in decisions], dtype=np.float64)
    margins = np.asarray([d.margin for d in decisions], dtype=np.float64)
    recall, t95, m95 = recall_at_precision(similarity, margins, correct, int(in_scope.sum()), margins=MARGINS)
    bare, _, _ = recall_at_precision(similarity, margins, correct, int(in_scope.sum()), margins=(0.0,))
    out: dict[str, Any] = {
        "top1": round(float(correct[in_scope].mean()), 4),
        "recall_at_p95": round(recall, 4),
        "recall_at_p95_threshold_only": round(bare, 4),
        "p95_threshold": round(t95, 3),
        "p95_margin": round(m95, 3),
    }
    if defaults:
        accepted = np.asarray([d.accepted for d in decisions])
        hits = accepted & correct
        out["defaults"] = {
            "threshold": threshold,
            "margin": margin,
            "precision": round(float(hits.sum() / max(1, accepted.sum())), 4),
            "recall": round(float(hits.sum() / in_scope.sum()), 4),
            "oos_false_match": round(float((accepted & ~in_scope).sum() / (~in_scope).sum()), 4),
        }
    return out


def markdown_table(results: dict[str, dict[str, Any]], folders: Sequence[str]) -> str:
    lines = [
        "| model | folder | top-1 | recall@P95 (threshold+margin) | recall@P95 (threshold only) "
        "| precision @defaults | recall @defaults | oos false match @defaults | sentences/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in results.items():
        for k in folders:
            r = result[k]
            d = r.get("defaults") or {}
            lines.append(
                f"| {name} | {k} | {r['top1']:.3f} | {r['recall_at_p95']:.3f} "
                f"| {r['recall_at_p95_threshold_only']:.3f} "
                f"| {_fmt(d.get('precision'))} | {_fmt(d.get('recall'))} | {_fmt(d.get('oos_false_match'))} "
                f"| {format(result['sentences_per_second'], ',') if result['sentences_per_second'] else 'n/a'} |"
            )
    return "\n".join(lines)


def _speed(encode: Encode, texts: Sequence[str], *, sample: int = 2000, rounds: int = 3) -> tuple[float, np.ndarray]:
    """Sentences per second (best of `rounds` over the same sample: the machine may be shared), and all vectors."""
    vectors = np.asarray(encode(texts), dtype=np.float32)
    chunk = list(texts[:sample])
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        encode(chunk)
        best = min(best, time.perf_counter() - start)
    return len(chunk) / best, vectors


def _verified_models(bundled: Any, folders: dict[str, list[MatchEntry]]) -> dict[str, Any]:
    """The shipped decision (static screen + verifier, at remedy_verifier.json) per folder, and the verifier
    alone with no screen (its own ceiling). Vectors are rounded to float16 like the embedding caches'."""
    from remedy.matching.fused import FusedEmbedder, ScreenedEncoder
    from remedy.matching.verifier import available_verifier

    verifier, _ = available_verifier()
    if verifier is None:
        return {}
    fused = FusedEmbedder(bundled, verifier)
    static = memoized(lambda texts: np.asarray(bundled.encode(texts)).astype(np.float16).astype(np.float32))
    judge = memoized(lambda texts: verifier.encode(texts).astype(np.float16).astype(np.float32))
    screened: dict[str, tuple[Encode, tuple[float, float] | None]] = {}
    for name, entries in folders.items():
        encoder = ScreenedEncoder(fused, static, judge)
        encoder.set_screen([t for e in entries for t in (e.question, *e.also_matches)])
        screened[name] = (encoder, _pair(fused.defaults))
    return {"bundled + verifier (shipped)": screened,
            "verifier alone (no screen)": {f: (lambda texts: fused.join(static(texts), judge(texts)), None)
                                           for f in folders}}


def _teacher_or_none() -> Encode | None:
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        return None
    from remedy.matching.adapt import load_teacher

    return load_teacher(None)


def _pair(defaults: DecisionDefaults | None) -> tuple[float, float] | None:
    return None if defaults is None else (defaults.threshold, defaults.margin)


def _fmt(value: object) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


if __name__ == "__main__":
    raise SystemExit(main())
