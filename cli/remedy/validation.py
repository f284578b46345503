"""`remedy validate`: every rule over a remediations folder, as data."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from remedy.config import Config
from remedy.errors import InputError
from remedy.files.folder import DocumentCache, Folder, load_folder
from remedy.problems import Problem, count_errors
from remedy.rules.context import RuleContext
from remedy.rules.registry import REMEDIATION_RULES, RULES, run_rules

if TYPE_CHECKING:
    from remedy.matching.judge import Judge
    from remedy.matching.matcher import Matcher


@dataclass(frozen=True)
class ValidationResult:
    problems: list[Problem]
    files: int
    judge: Judge | None = None  # who decided the semantic rules (None: --no-semantic, or nothing to match)


def validate(config: Config, *, today: datetime.date | None = None, semantic: bool = True) -> ValidationResult:
    """Check every file under the configured folder; `semantic=False` skips the rules that need the model."""
    folder = load_folder(config.remediations_dir)
    problems = check_folder(folder, config, today=today, semantic=semantic, triage=True)
    return ValidationResult(problems=problems, files=len(folder.documents) + len(folder.file_problems),
                            judge=folder_judge(folder, config) if semantic else None)


def folder_judge(folder: Folder, config: Config) -> Judge | None:
    """The judge of the folder's semantic rules, or None when it has no entry to match."""
    from remedy.matching.judge import judge_for

    return judge_for(config) if folder.remediations else None


def check_folder(folder: Folder, config: Config, *, today: datetime.date | None = None,
                 semantic: bool = True, triage: bool = False,
                 rules: tuple[ModuleType, ...] | None = None) -> list[Problem]:
    """Every problem of the folder; `triage=True` also checks the triage files (validate, check).

    `rules` runs only those rule modules instead (e.g. the one check a command adds of its own)."""
    matcher: Callable[[], Matcher] | None = None
    if semantic:
        from remedy.matching.matcher import lazy_matcher

        matcher = lazy_matcher(folder, config)
    context = RuleContext(folder=folder, config=config, today=today or datetime.date.today(), matcher=matcher)
    return run_rules(context, rules if rules is not None else RULES if triage else REMEDIATION_RULES)


def load_servable_folder(config: Config, documents: DocumentCache | None = None) -> Folder:
    """The folder as the run time serves it: read and checked by every rule that needs no model.

    Raises InputError naming the first error, so `Remediations.load` and `remedy serve` refuse the same
    folders (semantic conflicts are the pull-request gate's job: they need the model and take seconds).
    """
    folder = load_folder(config.remediations_dir, documents)
    problems = check_folder(folder, config, semantic=False)
    errors = count_errors(problems)
    if errors:
        first = next(p for p in problems if p.severity == "error")
        raise InputError(f"{first.file}:{first.line}:{first.column}: {first.code} {first.message} "
                         f"({errors} error{'s' if errors > 1 else ''}; run `remedy validate`)")
    return folder
