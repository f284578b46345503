"""Per-domain precision and recall of the shipped decision on CLINC150 test (issue 31: safe at zero clicks).

CLINC150's 150 intents fall into 10 domains of 15 (fixtures/clinc150_domains.json). Per domain, at the
shipped settings (remedy_verifier.json: static screen + verifier), with no clicks (answers from 1 + 4
train queries per intent):

- closed: an answer for each of the domain's 15 intents, its 450 test queries;
- open: an answer for every 5th of its intents (3), 5 rotations pooled, the same queries: the other 12
  intents' queries must get nothing — a domain of near commands where most questions have no answer.

Also the pooled figures of scripts/choose_defaults.py's worlds on test (closed 150 answers, open every 5th
intent, out-of-scope test queries included). `--settings T M` compares other settings (e.g. the old ones).

Usage: python benchmarks/domains.py [--data DIR] [--settings 0.835 0.045] [--out benchmarks/out/domains.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from choose_defaults import ROTATIONS, read_domains  # noqa: E402
from clinc150 import folder_entries, read_jsonl  # noqa: E402
from clinc_vectors import DEFAULT_DATA, load_vectors  # noqa: E402

from remedy.matching.decision import MatchEntry, MatchIndex  # noqa: E402
from remedy.matching.verifier import read_settings  # noqa: E402
from remedy.normalize import normalize_question  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", default="test")
    parser.add_argument("--settings", type=float, nargs=2, metavar=("THRESHOLD", "MARGIN"))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "domains.json")
    args = parser.parse_args()
    settings = read_settings()
    threshold, margin = args.settings or (settings.threshold, settings.margin)
    vectors = load_vectors(args.data)
    rows, oos = read_jsonl(args.data / "queries.jsonl"), read_jsonl(args.data / "oos.jsonl")
    entries = folder_entries(rows, 4)
    scale_static, scale_verifier = np.sqrt(1 - settings.weight), np.sqrt(settings.weight)

    def run(folder: list[MatchEntry], queries: list[tuple[str, str | None]]) -> dict[str, int]:
        own = [t for e in folder for t in (e.question, *e.also_matches)]
        static_own = vectors.parts(own)[0]

        def encode(texts: Any, screened: bool = True) -> np.ndarray:
            static, judged = vectors.parts(list(texts))
            if screened:
                judged = judged * ((static @ static_own.T).max(axis=1) >= settings.screen)[:, None]
            return np.hstack([scale_static * static, scale_verifier * judged]).astype(np.float32)

        index = MatchIndex(folder, encode, threshold, margin, entry_encode=lambda t: encode(t, False))
        covered = {e.id for e in folder}
        decisions = index.decide([t for t, _ in queries], kind="answer")
        accepted = sum(d.accepted for d in decisions)
        right = sum(d.accepted and d.entry_id == gold for d, (_, gold) in zip(decisions, queries, strict=True))
        return {"accepted": accepted, "right": right, "answerable": sum(g in covered for _, g in queries)}

    def figures(counts: dict[str, int]) -> dict[str, Any]:
        return {"precision": round(counts["right"] / counts["accepted"], 4) if counts["accepted"] else None,
                "recall": round(counts["right"] / max(1, counts["answerable"]), 4), **counts}

    def pooled(folders: list[list[MatchEntry]], queries: list[tuple[str, str | None]]) -> dict[str, Any]:
        total = {"accepted": 0, "right": 0, "answerable": 0}
        for folder in folders:
            for key, value in run(folder, queries).items():
                total[key] += value
        return figures(total)

    used = {normalize_question(t) for e in entries for t in (e.question, *e.also_matches)}
    split = [(r["text"], r["intent"]) for r in rows if r["split"] == args.split and normalize_question(r["text"])
             not in used]
    report: dict[str, Any] = {"split": args.split, "threshold": threshold, "margin": margin,
                              "screen": settings.screen, "domains": {}}
    for name, intents in read_domains().items():
        queries = [(t, g) for t, g in split if g in intents]
        domain_entries = [e for e in entries if e.id in intents]
        report["domains"][name] = {
            "closed": pooled([domain_entries], queries),
            "open": pooled([[e for e in domain_entries if e.id in intents[r::ROTATIONS]] for r in range(ROTATIONS)],
                           queries)}
        print(f"{name}: done", file=sys.stderr)
    everything = split + [(r["text"], None) for r in oos if r["split"] == args.split]
    intents = sorted(e.id for e in entries)
    report["pool"] = {"closed": pooled([entries], everything),
                      "open": pooled([[e for e in entries if e.id in intents[r::ROTATIONS]] for r in range(ROTATIONS)],
                                     everything)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"| domain ({args.split}, threshold {threshold:g}, margin {margin:g}) | closed precision / recall "
          "| open precision / recall (accepted) |\n| --- | --- | --- |")
    for name, result in [*report["domains"].items(), ("all domains pooled (+ out-of-scope)", report["pool"])]:
        closed, opened = result["closed"], result["open"]
        print(f"| {name} | {_p(closed['precision'])} / {closed['recall']:.3f} "
              f"| {_p(opened['precision'])} / {opened['recall']:.3f} ({opened['accepted']}) |")
    return 0


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
