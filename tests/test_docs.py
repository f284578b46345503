"""The documentation cannot drift: docs/rules.md is generated from the rules, and every command has help."""

from __future__ import annotations

from pathlib import Path

import typer

from remedy.commands.app import app
from remedy.rules.docs import rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_rules_page_is_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), \
        "regenerate it: python -m remedy.rules.docs > docs/rules.md"


def test_every_command_has_help() -> None:
    def walk(group: typer.Typer, prefix: str) -> list[tuple[str, object]]:
        found = [(f"{prefix}{info.name}", info.callback) for info in group.registered_commands]
        for sub in group.registered_groups:
            found += walk(sub.typer_instance, f"{prefix}{sub.name} ")
        return found

    commands = walk(app, "")
    assert len(commands) >= 7
    for name, callback in commands:
        assert callback.__doc__ and callback.__doc__.strip(), f"`remedy {name}` has no help text"
