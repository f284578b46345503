"""Choose a model's shipped decision defaults (remedy_defaults.json) on CLINC150 validation.

The rule is remedy's one rule for settings (remedy/matching/operating_point.py): the most recall
whose one-sided 95 % Clopper-Pearson lower bound on precision reaches 0.95 — here in two worlds at
once, on queries the model never saw (validation in-scope + out-of-scope train/val):

- closed: one answer per intent (question = first train query, also_matches = the next 4);
- open: the same answers for every 5th intent only, the other intents' queries must match nothing.
  All five rotations (intents 0, 5, 10, … / 1, 6, 11, … / …) are pooled, so the open-world estimate
  rests on 5 x 3,200 decisions rather than on one choice of 30 intents (their precision differs a
  lot: 0.79 to 1.00 at one setting). So few queries are accepted there at any safe setting that no
  bound reaches 0.95 (27 accepted at threshold 0.96, all right, bound 0.895): the open world must
  reach it with its point estimate, the closed world with the bound.

Recall is the mean of the two. The test split is never read here: benchmarks/clinc150.py reports on it.

Usage: python scripts/choose_defaults.py [--model DIR] [--data DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from clinc150 import folder_entries, read_jsonl  # noqa: E402

from remedy.files.atomic import write_atomically  # noqa: E402
from remedy.matching.decision import MatchIndex  # noqa: E402
from remedy.matching.embedding import BUNDLED_DIR, DEFAULTS_FILE, load_embedder  # noqa: E402
from remedy.matching.operating_point import CONFIDENCE, Evidence, choose  # noqa: E402
from remedy.normalize import normalize_question  # noqa: E402

TARGET_PRECISION = 0.95
ROTATIONS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=BUNDLED_DIR)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--write", action="store_true", help=f"write {DEFAULTS_FILE} into the model folder")
    args = parser.parse_args()
    if not (args.data / "queries.jsonl").is_file():
        print(f"CLINC150 not found at {args.data} (pass --data)", file=sys.stderr)
        return 2
    defaults = choose_defaults(args.model, args.data)
    print(json.dumps(defaults, indent=2))
    if args.write:
        write_atomically(args.model / DEFAULTS_FILE, json.dumps(defaults, indent=2) + "\n")
        print(f"wrote {args.model / DEFAULTS_FILE}", file=sys.stderr)
    return 0


def validation_evidence(encode: Any, data: Path) -> tuple[Evidence, Evidence, float]:
    """(closed-world evidence, pooled open-world evidence, share of out-of-scope queries) on validation."""
    rows = read_jsonl(data / "queries.jsonl")
    oos = read_jsonl(data / "oos.jsonl")
    entries = folder_entries(rows, 4)
    used = {normalize_question(t) for e in entries for t in (e.question, *e.also_matches)}
    queries = [(r["text"], r["intent"]) for r in rows if r["split"] == "val"]
    queries += [(r["text"], None) for r in oos if r["split"] in ("train", "val")]
    queries = [(text, gold) for text, gold in queries if normalize_question(text) not in used]
    texts = [text for text, _ in queries]
    vectors = encode(texts)
    normalized = [normalize_question(t) for t in texts]
    closed_decisions = MatchIndex(entries, encode, 0.0, 0.0).decide_vectors(vectors, normalized, kind="answer")
    closed = Evidence.from_decisions(closed_decisions, [{gold} if gold else set() for _, gold in queries])
    intents = sorted({e.id for e in entries})
    open_world: Evidence | None = None
    for rotation in range(ROTATIONS):
        covered = set(intents[rotation::ROTATIONS])
        index = MatchIndex([e for e in entries if e.id in covered], encode, 0.0, 0.0)
        decisions = index.decide_vectors(vectors, normalized, kind="answer")
        part = Evidence.from_decisions(decisions, [{gold} if gold in covered else set() for _, gold in queries])
        open_world = part if open_world is None else open_world.concat(part)
    assert open_world is not None
    return closed, open_world, sum(gold is None for _, gold in queries) / len(queries)


def choose_defaults(folder: Path, data: Path) -> dict[str, object]:
    embedder = load_embedder(str(folder))
    closed, open_world, _ = validation_evidence(embedder.encode, data)
    choice = choose(closed, target_precision=TARGET_PRECISION, estimated=[open_world])
    if not choice.met_target:
        raise SystemExit("no threshold/margin certifies the target precision on validation")
    point = choice.point
    open_choice = choose(open_world, target_precision=TARGET_PRECISION)
    open_point = next(p for p in _curve_at(open_world, point.threshold, point.margin))
    return {
        "threshold": point.threshold,
        "margin": point.margin,
        "rule": f"most recall with the one-sided {CONFIDENCE:.0%} Clopper-Pearson lower bound on precision "
                f">= {TARGET_PRECISION} in the closed world and precision >= {TARGET_PRECISION} in the open world "
                "(no setting's bound reaches it there) (remedy/matching/operating_point.py)",
        "chosen_on": "CLINC150 validation in-scope + out-of-scope train/val queries (not seen by the model); "
                     "answers from 1+4 train queries per intent; open world = every 5th intent, 5 rotations pooled",
        "target_precision": TARGET_PRECISION,
        "confidence": CONFIDENCE,
        "closed": {"precision": round(point.precision, 4), "precision_lower": round(point.precision_lower, 4),
                   "recall": round(point.recall, 4), "accepted": point.accepted},
        "open": {"precision": round(open_point.precision, 4), "precision_lower": round(open_point.precision_lower, 4),
                 "recall": round(open_point.recall, 4), "accepted": open_point.accepted,
                 "best_alone": [open_choice.point.threshold, open_choice.point.margin]},
    }


def _curve_at(evidence: Evidence, threshold: float, margin: float) -> list[Any]:
    return list(choose(evidence, target_precision=TARGET_PRECISION, thresholds=[threshold], margins=[margin]).curve)


if __name__ == "__main__":
    raise SystemExit(main())
