"""Run-time API latency: `answer_for` on a warm 1,000-entry folder, one query at a time.

Targets: p99 under 10 ms with the verifier (the `precise` extra), median under 1 ms without it
(`--no-verifier`, the static model alone). Also times `Remediations.load` cold (empty embedding cache)
and warm, gives queries per second, and the share of queries the static screen let through to the verifier.
`--texts-per-entry N` gives each answer N texts (question + N-1 `also_matches`) and `--negatives M` M
`must_not_match` each (decision rule 4), e.g. the issue's bound: `--entries 200 --texts-per-entry 40 --negatives 10`.
Run: python benchmarks/api_latency.py [--entries 1000] [--queries 2000] [--no-verifier]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_speed import make_distinct_folder  # noqa: E402

from remedy import Remediations  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--no-verifier", action="store_true", help="decide with the static model alone")
    parser.add_argument("--texts-per-entry", type=int, default=0, help="texts per answer (0: as made, 2)")
    parser.add_argument("--negatives", type=int, default=0, help="must_not_match texts per answer")
    parser.add_argument("--keep", type=Path, help="build the project here and keep it (and its embedding cache) "
                        "for the next run: \"cold\" is then warm from disk; for before/after runs on a busy machine")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        project = options.keep or Path(temporary)
        if not (project / "remediations").is_dir():
            make_distinct_folder(project / "remediations", options.entries)
            add_texts(project / "remediations", options.texts_per_entry, options.negatives)
        config = 'remediations = "remediations"\n' + ("verifier = false\n" if options.no_verifier else "")
        (project / "remedy.toml").write_text(config, encoding="utf-8")
        start = time.perf_counter()
        Remediations.load(project / "remediations", config_file=project / "remedy.toml")
        cold = time.perf_counter() - start
        start = time.perf_counter()
        rem = Remediations.load(project / "remediations", config_file=project / "remedy.toml")
        warm = time.perf_counter() - start
        words = ["refund", "bag", "seat", "dog", "meal", "wifi", "upgrade", "visa", "delay", "lounge"]
        queries = [f"how can i {w} {words[(i * 7) % 10]} for trip {i}" for i, w in
                   enumerate(words[i % 10] for i in range(options.queries))]
        # Every other query a paraphrase of an entry's question (near it: the screen lets it through to
        # the verifier), so both paths are timed.
        import yaml

        questions = [yaml.safe_load(p.read_text(encoding="utf-8"))["question"]
                     for p in sorted((project / "remediations").rglob("*.yaml"))]
        queries[1::2] = [q.replace("what about", "what do you know about", 1) + " please"
                         for q in (questions * len(queries))[:len(queries[1::2])]]
        for query in queries[:50]:
            rem.answer_for(query)  # warm up caches and branch predictors
        encoder = rem._matcher.query_encode
        before = (getattr(encoder, "verified", 0), getattr(encoder, "screened", 0))
        latencies = []
        hits = 0
        for query in queries:
            start = time.perf_counter()
            hit = rem.answer_for(query)
            latencies.append(time.perf_counter() - start)
            hits += hit is not None
        verified = getattr(encoder, "verified", 0) - before[0]
        screened = getattr(encoder, "screened", 0) - before[1]
        scorer = str(rem._matcher.embedder.name)
        if options.keep is None:
            shutil.rmtree(project / ".remedy", ignore_errors=True)
    total = sum(latencies)
    latencies.sort()
    figures = {
        "scorer": scorer, "entries": options.entries, "queries": options.queries, "hits": hits,
        "texts_per_entry": options.texts_per_entry or 2, "negatives_per_entry": options.negatives,
        "reached_verifier": round(verified / max(1, verified + screened), 4),
        "queries_per_second": round(len(latencies) / total, 1),
        "load_cold_seconds": round(cold, 3), "load_warm_seconds": round(warm, 3),
        "answer_for_median_ms": round(1000 * statistics.median(latencies), 3),
        "answer_for_p95_ms": round(1000 * latencies[int(0.95 * len(latencies))], 3),
        "answer_for_p99_ms": round(1000 * latencies[int(0.99 * len(latencies))], 3),
    }
    print(json.dumps(figures, indent=2))


def add_texts(folder: Path, texts_per_entry: int, negatives: int) -> None:
    """Give every answer more `also_matches` (up to `texts_per_entry` texts) and `negatives` must_not_match,
    each a distinct variation of its own question (so the screen passes its paraphrases, as in real folders)."""
    import yaml

    if texts_per_entry <= 2 and negatives <= 0:
        return
    for path in sorted(folder.rglob("*.yaml")):
        question = yaml.safe_load(path.read_text(encoding="utf-8"))["question"]
        words = question.split()[2:]
        extra = [f"variant {j}: {' '.join(words[j % len(words):] + words[:j % len(words)])}"
                 for j in range(max(0, texts_per_entry - 2))]
        wrong = [f"not {j}: how do i cancel {' '.join(words[:6])} number {j}" for j in range(negatives)]
        text = path.read_text(encoding="utf-8")
        text += "".join(f"  - {json.dumps(t)}\n" for t in extra)
        if wrong:
            text += "must_not_match:\n" + "".join(f"  - {json.dumps(t)}\n" for t in wrong)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
