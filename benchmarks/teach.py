"""The expert's loop, measured on CLINC150 (issue 31, item 4): suggest -> an oracle labels -> apply -> serve.

Everything goes through the product, on files:

- a folder of YAML answers in a temporary project: one answer per intent, question = the intent's first
  train query, also_matches = the next 4 (as benchmarks/clinc150.py's k=4). Closed world: every intent
  answered; open world: every 5th intent (sorted names), the other intents' queries must get nothing;
- the logs: the validation split (in-scope and out-of-scope) as a JSON-lines export, unlabelled;
- k clicks per answer: `suggest(config, [logs], limit=k)` (the core of `remedy suggest`), the labels file
  written by `write_suggestion_labels` (`--out`), an oracle filling in `label: yes` when the query's
  validation intent is the entry's and `no` otherwise, then `apply_labels` (`--apply`). When the gate
  refuses a row (a yes another entry would win, ...), the oracle skips the rows named and applies again,
  as an expert would;
- scoring: every test query (4,500 in-scope, 1,000 out-of-scope) through `Remediations.answer_for`, the
  shipped API: precision = right answers served / answers served, recall = right answers served /
  test queries whose intent has an answer. "Without negatives" is the same folder with every
  must_not_match list dropped (the decision never reads them before issue 31 item 1).

Also reported: the share of yes's among the suggestions (how much of an expert's time goes to paraphrases),
the no's, and what each order of suggestions (nearest first, spread over the band) buys per click.

Usage: python benchmarks/teach.py [--data DIR] [--clicks 0 10 20 40] [--orders nearest spread]
       [--worlds closed open] [--out benchmarks/out/teach.json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from remedy.api import Remediations
from remedy.config import load_config
from remedy.errors import RefusedError
from remedy.matching.suggestion_labels import parse_suggestion_labels
from remedy.matching.suggestions import BAND, suggest, write_suggestion_labels
from remedy.normalize import normalize_question
from remedy.suggestion_apply import apply_labels

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from clinc150 import read_clinc  # noqa: E402

PHRASINGS = 4  # also_matches per answer at the start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--clicks", type=int, nargs="+", default=[0, 10, 20, 40])
    parser.add_argument("--orders", nargs="+", default=["nearest", "spread"])
    parser.add_argument("--worlds", nargs="+", default=["closed", "open"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "teach.json")
    parser.add_argument("--band", type=float, default=BAND, help="how far below the threshold suggestions reach")
    parser.add_argument("--logs-from", choices=["val", "val+train"], default="val",
                        help="the unlabelled logs: the validation split (the protocol), or also the train queries "
                             "the folder does not hold (~115 a intent: a budget of 40 clicks does not run out)")
    parser.add_argument("--with-negatives-only", action="store_true",
                        help="score the folder as it is only (comparing orders or bands, not negatives)")
    parser.add_argument("--keep", type=Path, default=None, help="build the projects here and keep them")
    args = parser.parse_args()
    if not (args.data / "queries.jsonl").is_file():
        args.data = Path("/work/shared/data/clinc150")
    data = read_clinc(args.data)
    if data is None:
        return 0
    rows, oos = data
    root = args.keep or Path(tempfile.mkdtemp(prefix="remedy-teach-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "remedy.toml").write_text("# the defaults of the model in use\n", encoding="utf-8")
    logs = root / "logs.jsonl"
    val = [r for r in rows + oos if r["split"] == "val"]
    if args.logs_from == "val+train":
        seen: dict[str, int] = defaultdict(int)
        for r in rows + oos:
            if r["split"] == "train":
                seen[r["intent"]] += 1
                if seen[r["intent"]] > 1 + PHRASINGS:  # never a text of the folder
                    val.append(r)
    write_logs(logs, val)
    val_intents: dict[str, set[str]] = defaultdict(set)
    for r in val:
        val_intents[normalize_question(r["text"])].add(r["intent"])
    test = [r for r in rows + oos if r["split"] == "test"]
    intents = sorted({r["intent"] for r in rows})
    report: dict[str, Any] = {"data": str(args.data), "band": args.band, "logs_from": args.logs_from,
                              "logs": len(val), "test": len(test),
                              "results": []}
    try:
        for world in args.worlds:
            answered = intents if world == "closed" else intents[::5]
            baseline: dict[str, Any] | None = None
            for order in args.orders:
                for k in args.clicks:
                    if k == 0 and baseline is not None:
                        continue  # no click: the same folder whatever the order
                    started = time.perf_counter()
                    run = root / f"{world}-{order}-{k}-{args.band:g}-{args.logs_from}"
                    folder = run / "remediations"
                    write_folder(folder, rows, answered)
                    labels = teach(root, folder, logs, val_intents, k, order, run, args.band) if k else {}
                    with_negatives = score(root, folder, test, set(answered))
                    without = None
                    if not args.with_negatives_only:
                        bare = run / "without-negatives"
                        drop_negatives(folder, bare)
                        without = score(root, bare, test, set(answered))
                    result = {"world": world, "order": order if k else "-", "clicks": k, **labels,
                              "with_negatives": with_negatives, "without_negatives": without,
                              "seconds": round(time.perf_counter() - started, 1)}
                    report["results"].append(result)
                    if k == 0:
                        baseline = result
                    print(json.dumps(result), file=sys.stderr)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report["results"]))
    return 0


def write_logs(path: Path, val: list[dict]) -> None:
    """The validation split as a log export: id, timestamp and query, nothing that says the intent."""
    with path.open("w", encoding="utf-8") as out:
        for i, r in enumerate(val):
            out.write(json.dumps({"id": f"val-{i:05d}", "timestamp": f"2026-11-{1 + i % 28:02d}T10:00:00Z",
                                  "query": r["text"]}) + "\n")


def write_folder(folder: Path, rows: list[dict], answered: list[str]) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["split"] == "train":
            by_intent[r["intent"]].append(r["text"])
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for intent in answered:
        texts = by_intent[intent]
        entry_id = intent.replace("_", "-")
        lines = ["kind: answer", f"id: {yaml_text(entry_id)}", "status: active",  # the intent "no" is no boolean
                 f"question: {yaml_text(texts[0])}", f"answer: The answer about {intent.replace('_', ' ')}.",
                 "also_matches:", *(f"  - {yaml_text(t)}" for t in texts[1:1 + PHRASINGS])]
        (folder / f"{entry_id}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def yaml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def teach(root: Path, folder: Path, logs: Path, val_intents: dict[str, set[str]], k: int, order: str,
          run: Path, band: float = BAND) -> dict[str, Any]:
    """One round of the loop: suggest k per answer, the oracle fills the file in, apply (skipping refused rows)."""
    config = load_config(root / "remedy.toml", folder)
    result = suggest(config, [str(logs)], limit=k, order=order, band=band)
    labels = run / "labels.yaml"
    labels.unlink(missing_ok=True)
    write_suggestion_labels(result, labels)
    text = labels.read_text(encoding="utf-8")
    filled, yes, no = oracle(text, val_intents)
    labels.write_text(filled, encoding="utf-8")
    refused = 0
    for _ in range(20):
        try:
            apply_labels(config, labels)
            break
        except RefusedError as error:  # the gate named rows: an expert drops those and applies the rest
            skipped = skip_refused(labels, str(error))
            if not skipped:
                raise
            refused += skipped
    return {"suggested": len(result.suggestions), "yes": yes, "no": no,
            "yes_share": round(yes / max(1, yes + no), 4), "refused_by_gate": refused,
            "in_band": sum(e.in_band for e in result.entries)}


def oracle(text: str, val_intents: dict[str, set[str]]) -> tuple[str, int, int]:
    """The file with every label filled in: yes when the query's intent is the entry's, else no."""
    out, yes, no = [], 0, 0
    for line in text.splitlines():
        if line.startswith("- {"):
            row = parse_suggestion_labels(line, "line")[0]
            right = row.id.replace("-", "_") in val_intents.get(normalize_question(row.query), set())
            yes, no = yes + right, no + (not right)
            line = re.sub(r"label: ?\}$", f"label: {'yes' if right else 'no'}}}", line)
        out.append(line)
    return "\n".join(out) + "\n", yes, no


def skip_refused(labels: Path, message: str) -> int:
    """Set `label: skip` on the rows whose query the refusal names; how many."""
    named = set(re.findall(r"(?:also_matches|must_not_match) ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", message))
    texts = {yaml.safe_load(n) if n.startswith('"') else n[1:-1].replace("\\'", "'") for n in named}
    lines = labels.read_text(encoding="utf-8").splitlines()
    skipped = 0
    for i, line in enumerate(lines):
        if line.startswith("- {"):
            row = parse_suggestion_labels(line, "line")[0]
            if row.query in texts and row.label in ("yes", "no"):
                lines[i] = re.sub(r"label: (yes|no)\}$", "label: skip}", line)
                skipped += 1
    labels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return skipped


def drop_negatives(folder: Path, out: Path) -> None:
    """A copy of the folder with every must_not_match list dropped."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.pop("must_not_match", None)
        lines = [f"{key}: {yaml_text(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
                 for key, value in data.items()]
        (out / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def score(root: Path, folder: Path, test: list[dict], answered: set[str]) -> dict[str, float]:
    """Every test query through the shipped API: precision and recall of the answers served."""
    served = Remediations.load(folder, config_file=root / "remedy.toml")
    hits = right = 0
    for r in test:
        hit = served.answer_for(r["text"])
        if hit is not None:
            hits += 1
            right += hit.id == r["intent"].replace("_", "-")
    relevant = sum(r["intent"] in answered for r in test)
    return {"precision": round(right / max(1, hits), 4), "recall": round(right / max(1, relevant), 4),
            "served": hits}


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| world | order | clicks per answer | with negatives: precision / recall | without negatives: "
             "precision / recall | yes share | suggested (yes / no) | refused by the gate |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        w, wo = r["with_negatives"], r["without_negatives"] or {"precision": float("nan"), "recall": float("nan")}
        lines.append(f"| {r['world']} | {r['order']} | {r['clicks']} | {w['precision']:.3f} / {w['recall']:.3f} | "
                     f"{wo['precision']:.3f} / {wo['recall']:.3f} | "
                     + (f"{r['yes_share']:.2f} | {r['suggested']} ({r['yes']} / {r['no']}) | {r['refused_by_gate']} |"
                        if r["clicks"] else "| | |"))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
