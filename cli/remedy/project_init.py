"""`remedy init`: a config, a remediations folder with one example of each kind, and a CI workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from remedy.errors import UsageError
from remedy.files.atomic import write_atomically
from remedy.files.schema import json_schema
from remedy.install_source import InstallSource, index_source, parse_install_source, precommit_snippet

# (template, destination relative to the project root)
FILES = (
    ("remedy.toml", "remedy.toml"),
    ("example-answer.yaml", "remediations/answers/example-opening-hours.yaml"),
    ("example-guidance.yaml", "remediations/guidance/example-legal-advice.yaml"),
    ("example-review.yaml", "remediations/reviews/example-invented-discount.yaml"),
    ("workflow.yml", ".github/workflows/remedy.yml"),
)
WORKFLOW_FILE = ".github/workflows/remedy.yml"
SCHEMA_FILE = ".remedy-schema.json"


@dataclass(frozen=True)
class InitResult:
    path: Path
    created: bool  # False: the file existed and was kept as it was


@dataclass(frozen=True)
class InitReport:
    """What `remedy init` did: the files, where the workflow installs remedy from, and the pre-commit lines."""

    files: list[InitResult]
    source: InstallSource
    precommit: str  # `.pre-commit-config.yaml` lines for the same source
    extras: tuple[str, ...] = ()  # the extras the workflow installs (`precise`: CI decides with the verifier)


def init_project(directory: Path, install_from: str | None = None) -> InitReport:
    """Write the starter files into `directory`; an existing file is never overwritten.

    `install_from`: where the workflow installs remedy from (a git URL at a tag, a wheel, a checkout;
    remedy.install_source); default the package index, pinned to the version running now."""
    from remedy import DISTRIBUTION, installed_version

    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: not a folder")
    source = (parse_install_source(install_from, directory, DISTRIBUTION) if install_from is not None
              else index_source(DISTRIBUTION, installed_version()))
    extras = ci_extras(directory)
    ci_source = source.with_extras(extras)
    results = []
    templates = resources.files("remedy") / "templates"
    contents = [(target, (templates / name).read_text(encoding="utf-8")) for name, target in FILES]
    contents.append((SCHEMA_FILE, json.dumps(json_schema(), indent=2) + "\n"))
    for target, text in contents:
        path = directory / target
        filled = _filled(text, ci_source, extras)
        if target == WORKFLOW_FILE:
            checked_workflow(filled, ci_source)
        try:
            write_atomically(path, filled, exclusive=True)  # never replaces, even a file made just now
        except FileExistsError:
            results.append(InitResult(path, created=False))
            continue
        results.append(InitResult(path, created=True))
    return InitReport(results, ci_source, precommit_snippet(ci_source), extras)


def ci_extras(directory: Path) -> tuple[str, ...]:
    """The extras CI installs so that it decides as production does: `precise` (the verifier) unless the
    project's config turns the verifier off (`verifier = false`). Installed and not in force (settings made
    for the static model), it changes nothing: `verifier_for` decides from the config in CI as at run time."""
    from remedy.config import load_config

    config_file = directory / "remedy.toml"
    if config_file.is_file() and load_config(config_file).verifier is False:
        return ()
    return ("precise",)


def checked_workflow(text: str, source: InstallSource) -> None:
    """The written workflow read back: the requirement is the install step's env value and nothing else
    reached a `run:` line (a second guard behind install_source's refusal; an error here is a bug)."""
    import yaml

    steps = yaml.safe_load(text)["jobs"]["remedy"]["steps"]
    install = [step for step in steps if "REMEDY_REQUIREMENT" in step.get("env", {})]
    runs = "\n".join(str(step.get("run", "")) for step in steps)
    if (len(install) != 1 or install[0]["env"]["REMEDY_REQUIREMENT"] != source.requirement
            or source.requirement in runs):
        raise AssertionError(f"the workflow written for {source.requirement!r} does not hold it as one env value")


def _filled(text: str, source: InstallSource, extras: tuple[str, ...]) -> str:
    """A template with the values of this installation: the bundled model's own decision defaults (what
    applies while the config sets none) and where the workflow installs remedy from. Values that land in
    YAML are written as double-quoted scalars (JSON's escapes are YAML's), never as raw text."""
    if "@" not in text:
        return text
    from remedy.matching.embedding import bundled_defaults
    from remedy.matching.verifier import available_verifier

    # With the verifier installed its settings apply (the fused score's), else the static model's.
    verifier, _ = available_verifier()
    defaults = verifier.settings if verifier is not None else bundled_defaults()
    return (text.replace("@THRESHOLD@", f"{defaults.threshold:g}" if defaults else "0.73")
            .replace("@MARGIN@", f"{defaults.margin:g}" if defaults else "0.2")
            .replace("@INSTALL_NAME@", yaml_string(f"Install remedy from {source.describe()}"))
            .replace("@REQUIREMENT@", yaml_string(source.requirement))
            .replace("@EXTRAS_WHY@", "[precise]: the verifier decides in CI as in production (docs/install.md)."
                     if "precise" in extras else "no verifier: the config turns it off (verifier = false)."))


def yaml_string(text: str) -> str:
    """`text` as a YAML double-quoted scalar: quotes, backslashes and line breaks escaped (JSON's rules)."""
    return json.dumps(text, ensure_ascii=True)
