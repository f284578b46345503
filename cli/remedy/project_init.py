"""`remedy init`: a config, a remediations folder with one example of each kind, and a CI workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from remedy.errors import UsageError
from remedy.files.atomic import write_atomically
from remedy.files.schema import json_schema

# (template, destination relative to the project root)
FILES = (
    ("remedy.toml", "remedy.toml"),
    ("example-answer.yaml", "remediations/answers/example-opening-hours.yaml"),
    ("example-guidance.yaml", "remediations/guidance/example-legal-advice.yaml"),
    ("example-review.yaml", "remediations/reviews/example-invented-discount.yaml"),
    ("workflow.yml", ".github/workflows/remedy.yml"),
)
SCHEMA_FILE = ".remedy-schema.json"


@dataclass(frozen=True)
class InitResult:
    path: Path
    created: bool  # False: the file existed and was kept as it was


def init_project(directory: Path) -> list[InitResult]:
    """Write the starter files into `directory`; an existing file is never overwritten."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: not a folder")
    results = []
    templates = resources.files("remedy") / "templates"
    contents = [(target, (templates / name).read_text(encoding="utf-8")) for name, target in FILES]
    contents.append((SCHEMA_FILE, json.dumps(json_schema(), indent=2) + "\n"))
    for target, text in contents:
        path = directory / target
        try:
            write_atomically(path, _filled(text), exclusive=True)  # never replaces, even a file made just now
        except FileExistsError:
            results.append(InitResult(path, created=False))
            continue
        results.append(InitResult(path, created=True))
    return results


def _filled(text: str) -> str:
    """A template with the values of this installation: the bundled model's own decision defaults (what
    applies while the config sets none) and the distribution pinned to the version writing the workflow."""
    if "@" not in text:
        return text
    from remedy import DISTRIBUTION, installed_version
    from remedy.matching.embedding import bundled_defaults
    from remedy.matching.verifier import available_verifier

    # With the verifier installed its settings apply (the fused score's), else the static model's.
    verifier, _ = available_verifier()
    defaults = verifier.settings if verifier is not None else bundled_defaults()
    return (text.replace("@THRESHOLD@", f"{defaults.threshold:g}" if defaults else "0.73")
            .replace("@MARGIN@", f"{defaults.margin:g}" if defaults else "0.2")
            .replace("@REQUIREMENT@", f"{DISTRIBUTION}=={installed_version()}"))
