"""`remedy calibrate`: labelled pairs from a file or from the folder's own examples, through the grid search."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from remedy.config import Config
from remedy.errors import InputError
from remedy.files.folder import load_folder
from remedy.matching.calibration import CalibrationResult, LabelledPair, calibrate, score_pairs
from remedy.matching.folder_index import build_folder_index


@dataclass(frozen=True)
class FolderCalibration:
    result: CalibrationResult
    source: str  # "pairs file" | "also_matches / must_not_match"
    model: str
    fingerprint: str


def calibrate_project(config: Config, *, pairs_file: Path | None = None, kind: str = "answer",
                      target_precision: float = 0.95) -> FolderCalibration:
    folder = load_folder(config.remediations)
    candidates = [r for r in folder.remediations if r.kind == kind and r.status in ("active", "draft")]
    built = build_folder_index(candidates, config)
    if pairs_file is not None:
        pairs = read_pairs(pairs_file, {r.id for r in candidates})
        scored = score_pairs(built.index, pairs, kind=kind)
        source = f"pairs file {pairs_file}"
    else:
        positives = [LabelledPair(text, r.id) for r in candidates for text in r.also_matches]
        negatives = [LabelledPair(text, None) for r in candidates for text in r.must_not_match]
        if not positives:
            raise InputError(f"no {kind} has also_matches to calibrate on; add paraphrases or pass --pairs FILE")
        # Each also_matches is judged as if it were not listed: otherwise it matches exactly and proves nothing.
        scored = score_pairs(built.index, positives, kind=kind, leave_one_out=True)
        scored += score_pairs(built.index, negatives, kind=kind)
        source = "the folder's also_matches (held out) and must_not_match"
    result = calibrate(scored, target_precision=target_precision)
    return FolderCalibration(result, source, built.embedder.name, built.embedder.fingerprint)


def read_pairs(path: Path, known_ids: set[str]) -> list[LabelledPair]:
    """JSONL lines `{"query": "...", "expected": "entry-id" | null}`; a bad line is refused with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read pairs file: {error}") from None
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("query"), str) or not record["query"].strip():
            raise InputError(f"{path}:{number}: field 'query' must be non-empty text")
        expected = record.get("expected")
        if expected is not None and (not isinstance(expected, str) or expected not in known_ids):
            raise InputError(f"{path}:{number}: field 'expected' must be null or the id of an active or draft "
                             f"entry of the kind, not {expected!r}")
        pairs.append(LabelledPair(record["query"], expected))
    if not pairs:
        raise InputError(f"{path}: no pairs")
    return pairs
