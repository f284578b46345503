"""The change moves the remediations folder or changes how logs are read (`remedy check`).

The base side of the gate is read with the configuration committed at the base (`remedy.toml` or
`[tool.remedy]` in `pyproject.toml`, found the way the working tree's is), so moving the folder
(`remediations = "rem2"`) or remapping `[logs]` (`served_remediation = "nope"`) hides nothing:
each side is read with its own settings. A real move or a new export format must stay possible, so
this is a warning, but a reviewer must see it. It also warns when the base's configuration cannot
be read: the base is then read with the working tree's.

Bad: a pull request about one answer that also edits `[logs]` in `remedy.toml`, unexplained.

Good: the configuration change in a pull request of its own, with the reason in its description.
"""

from __future__ import annotations

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.problems import Problem, as_severity
from remedy.rules.context import GateContext

CODE = "G004"
NAME = "gate.config-changed"
SEVERITY = "warning"
COMPARED_SETTINGS = ("logs", "failure_cutoff", "failure_cutoffs")


def check(context: GateContext) -> Iterator[Problem]:
    at_base, current = context.base_config, context.config
    severity, where = as_severity(SEVERITY), at_base.shown
    if at_base.unreadable is not None:
        yield Problem(where, 1, 1, CODE, severity, f"the base's configuration cannot be read ({at_base.unreadable}); "
                                                   "the base is read with the working tree's")
        return
    base = at_base.config
    if base.remediations_dir.resolve() != current.remediations_dir.resolve():
        yield Problem(where, 1, 1, CODE, severity,
                      f"the remediations folder moved from {display_path(base.remediations_dir)} to "
                      f"{display_path(current.remediations_dir)}; the base is read from "
                      f"{display_path(base.remediations_dir)}")
    for setting in COMPARED_SETTINGS:
        before, after = getattr(base, setting), getattr(current, setting)
        if before != after:
            yield Problem(where, 1, 1, CODE, severity, f"'{setting}' changed from {_shown(before)} to {_shown(after)}; "
                                                       "the base is measured with the base's setting")


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {value[key]!r}" for key in sorted(value)) + "}" if value else "{}"
    return repr(value)
