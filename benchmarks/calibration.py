"""Calibration from a few expert labels, with an oracle playing the expert on CLINC150 (docs/model.md).

For each model (bundled; adapted and guided by the folder, as `remedy model adapt` writes it) and
folder (k=4: one answer per intent; partial: every 5th intent only, the rest must match nothing):

1. the "logs" are CLINC150's validation queries (in-scope and out-of-scope; `--pool train val` adds
   the train queries, which the bundled model was fitted on and so is surer of than of new ones:
   labels drawn there certified settings 0.925 precise on test); `remedy calibrate --sample N`
   draws N of them (calibration_sample.py);
2. the oracle answers each row as an expert would: `label: yes` when the candidate is the query's
   intent, else `no`, with `correct:` the right entry or `none`;
3. `remedy calibrate --labels` chooses threshold and margin from those labels and the folder's own
   also_matches (held out), exactly as the command does (operating_point.py);
4. precision and recall at the written settings are measured on the test split, next to the best
   recall any setting reaches there at 95 % precision (recall@P95).

Several seeds per N: the draw is random, and a calibration is only as good as its unlucky draws.
When nothing is certified, nothing is written and the model's defaults stay in force: the figures
then are those of the defaults.

Usage: python benchmarks/calibration.py [--data DIR] [--n 50 100 200 400 800 0] [--seeds 5]   (0: label the whole pool)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from clinc150 import MARGINS, _teacher_or_none, _verified_models, adapt, disk_memoized, folder_entries, read_clinc

from remedy.matching.calibrate_folder import SEARCH_CONFIDENCE, certificate_floor
from remedy.matching.calibration import recall_at_precision
from remedy.matching.calibration_labels import NOTHING, LabelRow
from remedy.matching.calibration_sample import draw_sample, label_strata, pooled_weights
from remedy.matching.decision import Decision, MatchEntry, MatchIndex
from remedy.matching.embedding import DecisionDefaults, load_embedder
from remedy.matching.operating_point import Evidence, choose
from remedy.normalize import normalize_question

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--n", type=int, nargs="+", default=[50, 100, 200, 400, 800, 0],
                        help="labels per calibration; 0 labels every query of the pool (the ceiling)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1, help="label in this many rounds (calibrate --sample "
                        "N --labels EARLIER), re-weighed together")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "calibration.json")
    parser.add_argument("--adapt-on", nargs="+", default=["train", "val"], help="splits the adapted model is "
                        "fitted on (default train val, as benchmarks/clinc150.py)")
    parser.add_argument("--no-teacher", action="store_true", help="bundled model only")
    parser.add_argument("--no-examples", action="store_true", help="leave the folder's also_matches out")
    parser.add_argument("--pool", nargs="+", default=["val"], help="splits the 'logs' are drawn from (default "
                        "val: the bundled model was fitted on the train queries, which makes it look surer there)")
    args = parser.parse_args()
    data = read_clinc(args.data)
    if data is None:
        return 0
    rows, oos = data
    intents = sorted({r["intent"] for r in rows})
    folders = {"k=4": folder_entries(rows, 4)}
    covered = set(intents[::5])
    folders["partial"] = [e for e in folders["k=4"] if e.id in covered]
    test = [r for r in rows if r["split"] == "test"] + [r for r in oos if r["split"] == "test"]
    pool = [r for r in rows + oos if r["split"] in args.pool]

    bundled = load_embedder("bundled")
    models: dict[str, dict[str, Any]] = {"bundled": {f: (bundled.encode, bundled.defaults) for f in folders}}
    shipped = _verified_models(bundled, folders).get("bundled + verifier (shipped)")
    if shipped:  # the decision with the verifier (the `precise` extra), at its own defaults
        models["bundled + verifier"] = {f: (encode, DecisionDefaults(*pair)) for f, (encode, pair) in shipped.items()}
    else:
        print("the verifier is not installed (the `precise` extra): its rows skipped", file=sys.stderr)
    teacher = None if args.no_teacher else _teacher_or_none()
    if teacher is not None:
        cached = disk_memoized(teacher, args.out.parent / "teacher_minilm.npz")
        # As benchmarks/clinc150.py: adapted on the train and validation queries, so the "logs" labelled
        # below are ones it was fitted on; --adapt-on train adapts on train only (calibrating on logs newer
        # than the adaptation's).
        logs = [r["text"] for r in rows + oos if r["split"] in args.adapt_on]
        models["adapted, guided"] = {}
        for f, entries in folders.items():
            suffix = "" if sorted(args.adapt_on) == ["train", "val"] else "_" + "_".join(sorted(args.adapt_on))
            folder = args.out.parent / f"adapted_guided_{f.replace('=', '')}{suffix}"
            if not (folder / "model.safetensors").is_file():  # benchmarks/clinc150.py writes the same models
                adapt(bundled, logs, cached, folder, entries, {}, f)
            adapted = load_embedder(str(folder))
            models["adapted, guided"][f] = (adapted.encode, adapted.defaults)

    results: list[dict[str, Any]] = []
    for name, per_folder in models.items():
        for f, (encode, defaults) in per_folder.items():
            results.extend(run_folder(name, f, folders[f], encode, defaults, pool, test, args.n, args.seeds,
                                      examples=not args.no_examples, rounds=args.rounds))
            print(f"{name} {f}: done", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"data": str(args.data), "seeds": args.seeds, "results": results}, indent=2) + "\n",
                        encoding="utf-8")
    print(markdown_table(results))
    return 0


def run_folder(model: str, folder: str, entries: list[MatchEntry], encode: Any, defaults: Any,
               pool: list[dict], test: list[dict], ns: list[int], seeds: int, *,
               examples: bool = True, rounds: int = 1) -> list[dict[str, Any]]:
    ids = {e.id for e in entries}
    own = {normalize_question(t) for e in entries for t in (e.question, *e.also_matches)}
    # Distinct normalized "log" queries and their gold answer in this folder (None: nothing is right).
    gold_of: dict[str, str | None] = {}
    for r in pool:
        text = normalize_question(r["text"])
        if text and text not in own:
            gold_of.setdefault(text, r["intent"] if r["intent"] in ids else None)
    queries = list(gold_of)
    index = MatchIndex(entries, encode, defaults.threshold, defaults.margin)
    decisions = index.decide_vectors(np.asarray(encode(queries), np.float32), queries, kind="answer")
    held_out = folder_examples(index, entries) if examples else None
    # The test split, decided once: precision/recall at any setting are array operations.
    test_texts = [r["text"] for r in test]
    test_decisions = index.decide_vectors(np.asarray(encode(test_texts), np.float32),
                                          [normalize_question(t) for t in test_texts], kind="answer")
    test_gold = np.asarray([r["intent"] if r["intent"] in ids else "" for r in test])
    best = np.asarray([d.best_id for d in test_decisions])
    sim = np.asarray([d.similarity for d in test_decisions])
    margin = np.asarray([d.margin for d in test_decisions])
    correct = best == test_gold
    positives = int((test_gold != "").sum())
    recall95, _, _ = recall_at_precision(sim, margin, correct, positives, margins=MARGINS)

    def measure(threshold: float, margin_setting: float) -> tuple[float, float]:
        accepted = (sim >= threshold - 1e-9) & (margin >= margin_setting - 1e-9)
        hits = int((accepted & correct).sum())
        return hits / max(1, int(accepted.sum())), hits / positives

    at_defaults = measure(defaults.threshold, defaults.margin)
    out = []
    for n in ns:
        runs = []
        for seed in range(seeds):
            if n == 0 and seed > 0:
                break  # labelling the whole pool draws nothing at random
            position = {q: i for i, q in enumerate(queries)}
            labelled: list[LabelRow] = []
            # `rounds` rounds of n / rounds labels, each drawn like the first and leaving out what was asked
            # (as `calibrate --sample N --labels EARLIER` does), all re-weighed together as `calibrate` does.
            per_round = [n // rounds + (r < n % rounds) for r in range(rounds)] if n else [len(queries)]
            for number, size in enumerate(per_round):
                sample = draw_sample(queries, [1] * len(queries), decisions, size, threshold=defaults.threshold,
                                     seed=seed * 100 + number, already_labelled={r.query for r in labelled})
                labelled += [replace(oracle(row, gold_of[row.query]), file=f"round-{number}")
                             for row in sample.rows]
            chosen = [decisions[position[row.query]] for row in labelled]
            evidence = Evidence.from_decisions(chosen, [row.right_entries() or set() for row in labelled],
                                               pooled_weights(labelled), label_strata(labelled))
            # As `remedy calibrate` does: the folder's held-out examples may only veto a setting.
            choice = choose(evidence, confidence=SEARCH_CONFIDENCE, min_effective=certificate_floor(0.95),
                            constraints=[held_out] if held_out is not None else ())
            setting = ((choice.point.threshold, choice.point.margin) if choice.met_target
                       else (defaults.threshold, defaults.margin))
            precision, recall = measure(*setting)
            runs.append({"seed": seed, "certified": choice.met_target, "labels_needed": choice.labels_needed,
                         "threshold": setting[0],
                         "margin": setting[1], "precision": round(precision, 4), "recall": round(recall, 4),
                         "positives": int(evidence.answerable.sum())})
        out.append({
            "model": model, "folder": folder, "labels": n or len(queries), "whole_pool": n == 0,
            "rounds": rounds if n else 1,
            "recall_at_p95": round(recall95, 4),
            "defaults": {"precision": round(at_defaults[0], 4), "recall": round(at_defaults[1], 4)},
            "certified": sum(r["certified"] for r in runs),
            "precision_mean": round(float(np.mean([r["precision"] for r in runs])), 4),
            "precision_min": round(float(np.min([r["precision"] for r in runs])), 4),
            "recall_mean": round(float(np.mean([r["recall"] for r in runs])), 4),
            "runs": runs,
        })
    return out


def oracle(row: LabelRow, gold: str | None) -> LabelRow:
    """The expert: yes when the candidate is the query's intent; else no, naming the right entry or none."""
    if row.candidate == gold:
        return LabelRow(row.query, row.candidate, row.similarity, row.margin, True, None, row.weight)
    return LabelRow(row.query, row.candidate, row.similarity, row.margin, False, gold or NOTHING, row.weight)


def folder_examples(index: MatchIndex, entries: list[MatchEntry]) -> Evidence:
    """Each also_matches held out must match its entry: what `remedy calibrate` adds to the labels."""
    texts = [(t, e.id) for e in entries for t in e.also_matches]
    decisions: list[Decision] = index.decide([t for t, _ in texts], kind="answer", leave_out_exact=True)
    return Evidence.from_decisions(decisions, [{owner} for _, owner in texts])


def markdown_table(results: list[dict[str, Any]]) -> str:
    lines = ["| model | folder | labels | certified (of seeds) | precision on test (mean / worst) "
             "| recall on test (mean) | recall@P95 on test | recall / recall@P95 "
             "| at the defaults: precision / recall |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        ratio = r["recall_mean"] / r["recall_at_p95"] if r["recall_at_p95"] else 0.0
        labels = f"{r['labels']} (all)" if r.get("whole_pool") else str(r["labels"])
        if r.get("rounds", 1) > 1:
            labels += f" in {r['rounds']} rounds"
        lines.append(f"| {r['model']} | {r['folder']} | {labels} | {r['certified']}/{len(r['runs'])} "
                     f"| {r['precision_mean']:.3f} / {r['precision_min']:.3f} | {r['recall_mean']:.3f} "
                     f"| {r['recall_at_p95']:.3f} | {ratio:.2f} "
                     f"| {r['defaults']['precision']:.3f} / {r['defaults']['recall']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
