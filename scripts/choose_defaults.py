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

With `--verifier`, the same validation queries choose the verifier's settings instead
(remedy/matching/verifier_model/remedy_verifier.json): for each weight of the verifier's cosine in the
fused score, the most recall with the bound reaching 0.95 in the closed world and in the pooled open
world, and every one of the five open-world rotations reaching 0.95 with its point estimate (rotations
differ a lot: a setting safe on their pool can be unsafe on one choice of 30 intents); the weight with
the most recall wins. The screen is then the highest static cosine (in steps of 0.05) below which no
query accepted on validation falls: queries under it never pay for the verifier.

Both choices also hold **per domain** (CLINC150's 10 domains of 15 intents, fixtures/clinc150_domains.json):
for each domain, a folder of every 5th of its intents (3 answers, 5 rotations pooled) against that
domain's validation queries must reach the target precision with its point estimate, so that a domain
of near commands (an assistant whose every query is one of a few similar commands) cannot break
precision where the pool of all domains would hide it. Those sets count in the recall averaged too.

Usage: python scripts/choose_defaults.py [--model DIR] [--data DIR] [--verifier] [--write]
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
DOMAINS_FILE = REPO / "fixtures" / "clinc150_domains.json"


def read_domains() -> dict[str, list[str]]:
    """CLINC150's domain -> its 15 intents (the data itself has no domain field)."""
    domains = json.loads(DOMAINS_FILE.read_text(encoding="utf-8"))
    domains.pop("_source", None)
    return {name: sorted(intents) for name, intents in domains.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=BUNDLED_DIR)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--write", action="store_true", help=f"write {DEFAULTS_FILE} into the model folder")
    parser.add_argument("--verifier", action="store_true", help="choose the verifier's settings instead")
    args = parser.parse_args()
    if not (args.data / "queries.jsonl").is_file() and (REPO.parents[1] / "shared" / "data" / "clinc150").is_dir():
        args.data = REPO.parents[1] / "shared" / "data" / "clinc150"  # a worktree under /work/wt/
    if not (args.data / "queries.jsonl").is_file():
        print(f"CLINC150 not found at {args.data} (pass --data)", file=sys.stderr)
        return 2
    if args.verifier:
        from remedy.matching.verifier import MODEL_DIR, SETTINGS_FILE

        defaults, target = choose_verifier_settings(args.model, args.data), MODEL_DIR / SETTINGS_FILE
    else:
        defaults, target = choose_defaults(args.model, args.data), args.model / DEFAULTS_FILE
    print(json.dumps(defaults, indent=2))
    if args.write:
        # the queue's topic settings in the same files are benchmarks/issues_quality.py's: kept as they are
        kept = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
        topic_keys = ("topics", "topic_leader", "topic_merge", "topic_rule", "dim")
        defaults.update({key: kept[key] for key in topic_keys if key in kept})
        write_atomically(target, json.dumps(defaults, indent=2) + "\n")
        print(f"wrote {target}", file=sys.stderr)
    return 0


WEIGHTS = (0.5, 0.7, 0.85, 1.0)
SCREENS = tuple(round(0.05 * i, 2) for i in range(19, 5, -1))  # 0.95 .. 0.30, highest first


def choose_verifier_settings(model: Path, data: Path) -> dict[str, object]:
    import numpy as np

    from remedy.matching.fused import FusedEmbedder
    from remedy.matching.verifier import VerifierSettings, available_verifier

    verifier, why = available_verifier()
    if verifier is None:
        raise SystemExit(why)
    static = load_embedder(str(model))
    vectors: dict[str, tuple[Any, Any]] = {}
    if model == BUNDLED_DIR:  # both models' vectors of every CLINC150 text, cached by benchmarks/clinc_vectors.py
        from clinc_vectors import load_vectors

        cached = load_vectors(data)
        vectors.update({t: (cached.static[i], cached.verifier[i]) for t, i in cached.row.items()})

    def parts(texts: list[str]) -> tuple[Any, Any]:
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing:  # rounded to float16 as the embedding caches store them
            s_rows = np.asarray(static.encode(missing), np.float32).astype(np.float16).astype(np.float32)
            v_rows = verifier.encode(missing).astype(np.float16).astype(np.float32)
            vectors.update({t: (a, b) for t, a, b in zip(missing, s_rows, v_rows, strict=True)})
        return (np.stack([vectors[t][0] for t in texts]), np.stack([vectors[t][1] for t in texts]))

    best: dict[str, Any] | None = None
    for weight in WEIGHTS:
        fused = FusedEmbedder(static, verifier, VerifierSettings(weight, 0.0, 0.0, 0.0, verifier.dim))

        def encode(texts: Any, fused: FusedEmbedder = fused) -> Any:
            return fused.join(*parts(list(texts)))

        rotations: list[Evidence] = []
        closed, open_world, _ = validation_evidence(encode, data, rotations)
        domains = domain_evidence(encode, data)
        choice = choose([closed, open_world], target_precision=TARGET_PRECISION,
                        estimated=[*rotations, *domains.values()])
        open_point = _curve_at(open_world, choice.point.threshold, choice.point.margin)[0]
        recall = (choice.point.recall + open_point.recall) / 2
        print(f"weight {weight}: {choice.point.threshold:g} / {choice.point.margin:g}, met {choice.met_target}, "
              f"recall closed {choice.point.recall:.3f} open {open_point.recall:.3f}", file=sys.stderr)
        if choice.met_target and (best is None or recall > best["recall"]):
            best = {"weight": weight, "choice": choice, "open": open_point, "recall": recall, "encode": encode,
                    "domains": {name: _curve_at(e, choice.point.threshold, choice.point.margin)[0]
                                for name, e in domains.items()}}
    if best is None:
        raise SystemExit("no weight certifies the target precision on validation")
    point = best["choice"].point
    screen = _screen(best["encode"], parts, data, point.threshold, point.margin)
    return {
        "weight": best["weight"],
        "screen": screen,
        "threshold": point.threshold,
        "margin": point.margin,
        "rule": f"per weight of the verifier's cosine {list(WEIGHTS)}: most recall with the one-sided "
                f"{CONFIDENCE:.0%} Clopper-Pearson lower bound on precision >= {TARGET_PRECISION} in the closed "
                f"world and in the pooled open world, and precision >= {TARGET_PRECISION} in each of the "
                f"{ROTATIONS} open-world rotations and in each of CLINC150's 10 domains alone (every 5th of its "
                "intents answered, its own queries); the weight with the most recall; screen: the highest static "
                "cosine below which no accepted validation query falls (scripts/choose_defaults.py --verifier)",
        "chosen_on": "CLINC150 validation in-scope + out-of-scope train/val queries; answers from 1+4 train "
                     "queries per intent; open world = every 5th intent, 5 rotations pooled",
        "target_precision": TARGET_PRECISION,
        "confidence": CONFIDENCE,
        "closed": _figures(point),
        "open": _figures(best["open"]),
        "domains_open": {name: _figures(figures) for name, figures in best["domains"].items()},
    }


def domain_evidence(encode: Any, data: Path) -> dict[str, Evidence]:
    """Per domain: its open world on validation (every 5th of its intents answered, 5 rotations pooled,
    the domain's own in-scope validation queries)."""
    rows = read_jsonl(data / "queries.jsonl")
    entries = folder_entries(rows, 4)
    used = {normalize_question(t) for e in entries for t in (e.question, *e.also_matches)}
    evidence: dict[str, Evidence] = {}
    for name, intents in read_domains().items():
        queries = [(r["text"], r["intent"]) for r in rows if r["split"] == "val" and r["intent"] in intents
                   and normalize_question(r["text"]) not in used]
        texts = [text for text, _ in queries]
        vectors = encode(texts)
        normalized = [normalize_question(t) for t in texts]
        pooled: Evidence | None = None
        for rotation in range(ROTATIONS):
            covered = set(intents[rotation::ROTATIONS])
            index = MatchIndex([e for e in entries if e.id in covered], encode, 0.0, 0.0)
            decisions = index.decide_vectors(vectors, normalized, kind="answer")
            part = Evidence.from_decisions(decisions, [{gold} if gold in covered else set() for _, gold in queries])
            pooled = part if pooled is None else pooled.concat(part)
        assert pooled is not None
        evidence[name] = pooled
    return evidence


def _screen(encode: Any, parts: Any, data: Path, threshold: float, margin: float) -> float:
    """The highest screen that keeps every query the chosen settings accept in the closed world on validation."""
    import numpy as np

    rows = read_jsonl(data / "queries.jsonl")
    oos = read_jsonl(data / "oos.jsonl")
    entries = folder_entries(rows, 4)
    texts = [r["text"] for r in rows if r["split"] == "val"]
    texts += [r["text"] for r in oos if r["split"] in ("train", "val")]
    decisions = MatchIndex(entries, encode, threshold, margin).decide(texts, kind="answer")
    accepted = [t for t, d in zip(texts, decisions, strict=True) if d.accepted and not d.exact]
    entry_texts = [t for e in entries for t in (e.question, *e.also_matches)]
    static_best = (parts(accepted)[0] @ parts(entry_texts)[0].T).max(axis=1) if accepted else np.ones(1)
    return next(s for s in SCREENS if (static_best >= s).all())


def validation_evidence(encode: Any, data: Path,
                        rotations: list[Evidence] | None = None) -> tuple[Evidence, Evidence, float]:
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
        if rotations is not None:
            rotations.append(part)
    assert open_world is not None
    return closed, open_world, sum(gold is None for _, gold in queries) / len(queries)


def choose_defaults(folder: Path, data: Path) -> dict[str, object]:
    embedder = load_embedder(str(folder))
    closed, open_world, _ = validation_evidence(embedder.encode, data)
    domains = domain_evidence(embedder.encode, data)
    choice = choose(closed, target_precision=TARGET_PRECISION, estimated=[open_world, *domains.values()])
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
        "closed": _figures(point),
        "open": {**_figures(open_point), "best_alone": [open_choice.point.threshold, open_choice.point.margin]},
        "domains_open": {name: _figures(_curve_at(e, point.threshold, point.margin)[0]) for name, e in domains.items()},
    }


def _figures(point: Any) -> dict[str, object]:
    """An operating point as remedy_defaults.json / remedy_verifier.json record it."""
    return {"precision": round(point.precision, 4), "precision_lower": round(point.precision_lower, 4),
            "recall": round(point.recall, 4), "accepted": point.accepted}


def _curve_at(evidence: Evidence, threshold: float, margin: float) -> list[Any]:
    return list(choose(evidence, target_precision=TARGET_PRECISION, thresholds=[threshold], margins=[margin]).curve)


if __name__ == "__main__":
    raise SystemExit(main())
