"""How failures group into topics: which model's vectors, and the two thresholds on its cosine.

Where the verifier is in force, topics are formed on *its* vectors: on a domain the static model was not
fit to, the verifier's cosine groups paraphrases of one question far better (measured from outside on
unseen banking intents: homogeneity 0.95 at 3 issues of two or more failures per intent), and the queue
is read by experts who write one answer per issue. Every distinct failure query is embedded once by the
verifier; its embedding cache and the topic cache (`topic_cache`) make a warm run pay nothing for it.
Without the verifier, the static model's vectors group as before.

Each model carries its own thresholds, chosen on CLINC150 validation by the same rule
(`benchmarks/issues_quality.py --tune`): the verifier's in `remedy_verifier.json` (`topic_leader`,
`topic_merge`), the static model's in the `topics` table of its `remedy_defaults.json`.
"""

from __future__ import annotations

from dataclasses import dataclass

STATIC = "static"
VERIFIER = "verifier"


@dataclass(frozen=True)
class TopicSettings:
    """The clustering's thresholds (`remedy.logs.clustering`) and the model whose cosine they are on."""

    leader: float  # a micro-cluster is what one question would match
    merge: float  # average linkage between micro-clusters: what a few also_matches would cover
    model: str = STATIC  # STATIC or VERIFIER: whose vectors the queries are grouped on
