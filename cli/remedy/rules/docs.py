"""Writes docs/rules.md from the rule modules' docstrings (`python -m remedy.rules.docs > docs/rules.md`).

A test checks the file is current, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import inspect
import sys

from remedy.rules.registry import ALL_RULES

HEADER = """# Validation rules

`remedy validate` checks every remediation file against these rules and prints
`file:line:col: CODE message`. Codes are stable: scripts and CI may rely on them. Errors make
`validate` exit 1; warnings are shown but exit 0 unless `--strict`. `remedy check` (the pull-request
gate) reports all of them too, and the G rules, which compare the change with its base revision.

This page is generated from the rule modules in `cli/remedy/rules/`
(`python -m remedy.rules.docs > docs/rules.md`); edit the docstrings, not this file. Every code
remedy reports has its module here; a test fails on a code written anywhere else.

| code | name | severity | what it catches |
| --- | --- | --- | --- |
"""


def rules_markdown() -> str:
    rows, sections = [], []
    for rule in ALL_RULES:
        doc = inspect.getdoc(rule) or ""
        title, _, body = doc.partition("\n")
        rows.append(f"| [{rule.CODE}](#{rule.CODE.lower()}) | `{rule.NAME}` | {rule.SEVERITY} | {title} |")
        sections.append(f"## {rule.CODE}\n\n`{rule.NAME}` ({rule.SEVERITY}): {title}\n{body}\n")
    return HEADER + "\n".join(rows) + "\n\n" + "\n".join(sections)


if __name__ == "__main__":
    sys.stdout.write(rules_markdown())
