"""`remedy check --base REF`: the pull-request gate, as data.

Fails (problems with severity error) on anything `validate` fails on, and on what the gate rules
(the G codes in rules/gate_*.py) find: deleted or rewritten answers that are protected, and
`also_matches` that matched their entry at the base and no longer do. With logs, it also measures the
change's impact (gate/impact.py). It lives above `gate/`, `rules/` and `validation.py` because it runs
them all, while the rules read the base revision and the changes from `gate/`: one direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remedy.config import Config
from remedy.errors import UsageError
from remedy.files.folder import display_path, load_folder
from remedy.gate.base_config import base_config
from remedy.gate.changes import Change, compare
from remedy.gate.git_revision import folder_at
from remedy.git import repository_root, resolve_revision
from remedy.problems import Problem
from remedy.rules.context import GateContext


@dataclass
class CheckResult:
    base_ref: str
    base_commit: str
    problems: list[Problem]
    changes: list[Change]  # added, removed, modified, and renamed-only entries
    impact: Any | None = None  # gate.impact.Impact when logs were given
    # Per changed entry, from the commit history: created, last edited and by whom (authors from commits).
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per changed entry: the owners to ask, now and at the base (see change_owners).
    owners: dict[str, dict[str, list[str] | None]] = field(default_factory=dict)
    judge: Any | None = None  # matching.judge.Judge of the semantic rules (None: --no-semantic, or no entries)


def check_change(config: Config, base_ref: str, *, log_paths: Sequence[str] | None = None,
                 semantic: bool = True, strict_logs: bool = False, config_file: Path | None = None,
                 remediations_dir: Path | None = None) -> CheckResult:
    """The gate. `config_file` / `remediations_dir` are the command-line options, which bind both sides;
    otherwise the base is read with the configuration committed at the base (gate/base_config.py)."""
    from remedy.rules.registry import run_gate_rules
    from remedy.validation import check_folder, folder_judge

    current = load_folder(config.remediations_dir)  # first: a missing folder says so, wherever it is
    top = repository_root(config.remediations_dir)
    if top is None:
        raise UsageError(f"{display_path(config.remediations_dir)} is not in a git repository; `remedy check` compares "
                         "against a git revision")
    commit = resolve_revision(top, base_ref)
    at_base = base_config(top, commit, config, config_file=config_file, remediations_dir=remediations_dir)
    base = folder_at(top, commit, at_base.config.remediations_dir)
    problems = check_folder(current, config, semantic=semantic, triage=True)
    changes = compare(base, current)
    impact = None
    preventions = None
    if log_paths:
        from remedy.gate.impact import measure_impact

        impact = measure_impact(at_base.config, config, base, current, changes, log_paths, strict=strict_logs)
        preventions = impact.preventions
    problems += run_gate_rules(GateContext(base=base, current=current, changes=changes, base_config=at_base,
                                           config=config, preventions=preventions, semantic=semantic))
    shown = [c for c in changes if c.what != "unchanged" or c.moved]
    return CheckResult(base_ref, commit, sorted(set(problems)), shown, impact, change_history(config, shown),
                       change_owners(config, shown), folder_judge(current, config) if semantic else None)


def change_owners(config: Config, changes: list[Change]) -> dict[str, dict[str, list[str] | None]]:
    """Each changed entry's owners now and at the base (None where the entry does not exist on that side)."""
    from remedy.owners.resolve import OwnerRules

    rules = OwnerRules(config)
    return {change.id: {side: list(rules.ownership(entry).owners) if entry else None
                        for side, entry in (("owners", change.current), ("base_owners", change.base))}
            for change in changes}


def change_history(config: Config, changes: list[Change]) -> dict[str, dict[str, Any]]:
    """Created / last edited / by whom for each changed entry's file (a deleted file: its last commit)."""
    from remedy.files.git_history import folder_history

    known = folder_history(config.remediations_dir)
    history = {}
    for change in changes:
        entry = change.current or change.base
        found = known.get(entry.path.resolve()) if entry else None
        history[change.id] = {"created": found.created if found else None,  # datetimes: the encoder writes them
                              "updated": found.updated if found else None,
                              "updated_by": found.updated_by if found else None}
    return history
