"""Which judge decides for a project: the verifier over the static model's screen, or the static model alone.

`validate`, `check` and `remedy model fingerprint` say it, so a CI log shows whether its decisions are the
ones production makes (issue 34: a CI without the `precise` extra decided with the static model alone).
The fingerprints key the written workflow's cache of `.remedy/` (templates/workflow.yml).
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.config import Config


@dataclass(frozen=True)
class Judge:
    verifier: bool  # True: the verifier decides (the fused score); False: the static model's cosine
    static_fingerprint: str
    verifier_fingerprint: str | None  # None: not installed, or not in force
    why_static: str | None  # why the verifier does not decide (None: turned off in the config, or it decides)

    def describe(self) -> str:
        if self.verifier:
            return "decided by the verifier (all-MiniLM-L6-v2 int8) over the static model's screen"
        why = self.why_static or "the config turns the verifier off (verifier = false)"
        return f"decided by the static model alone: {why}"

    def as_dict(self) -> dict[str, object]:
        return {"judge": "verifier" if self.verifier else "static", "static_model": self.static_fingerprint,
                "verifier_model": self.verifier_fingerprint, "why_static": None if self.verifier else self.describe()}

    def cache_key(self) -> str:
        """One word for a cache key: both models' fingerprints (`static-…` or `static-…-verifier-…`)."""
        return f"static-{self.static_fingerprint}" + (f"-{self.verifier_fingerprint}" if self.verifier else "")


def judge_for(config: Config) -> Judge:
    """The judge `build_matcher` decides with for this config, without loading either model's weights."""
    from remedy.matching.matcher import load_configured_embedder, verifier_for

    verifier, why = verifier_for(config)
    static = load_configured_embedder(config).fingerprint
    return Judge(verifier is not None, static, verifier.fingerprint if verifier is not None else None, why)
