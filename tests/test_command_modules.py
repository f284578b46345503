"""The README's command -> core function -> module table is true: every command is in it, each function
is defined in a module named on its row, and the command's module calls it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import typer

from remedy.commands.app import app

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ROOT / "cli" / "remedy" / "commands"


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, str]]:
    """(name, the module that declares it) of every command."""
    found = [(f"{prefix}{info.name or info.callback.__name__}", info.callback.__module__)
             for info in group.registered_commands if info.callback is not None]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        found += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return found


def _table() -> list[tuple[list[str], list[str], list[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("| command | core function | module |"):]
    rows = []
    for line in section.splitlines()[2:]:
        if not line.startswith("|"):
            break
        commands, functions, modules = (cell.strip() for cell in line.strip("|").split("|"))
        rows.append((re.findall(r"`([^`]+)`", commands),
                     re.findall(r"`([a-z_]+)`", re.sub(r"\(`--[^)]*`\)", "", functions)),
                     re.findall(r"`cli/(remedy/[a-z_/]+)\.py`", modules)))
    return rows


def test_every_command_is_in_the_table_and_calls_its_core_function() -> None:
    declared = dict(_commands(app))
    rows = _table()
    listed = [command for commands, _, _ in rows for command in commands]
    assert sorted(listed) == sorted(declared), "README: the command -> module table and the commands differ"
    for commands, functions, modules in rows:
        assert functions and modules, commands
        imported = [importlib.import_module(module.replace("/", ".")) for module in modules]
        for function in functions:
            homes = [module.__name__ for module in imported if callable(getattr(module, function, None))
                     and getattr(module, function).__module__ == module.__name__]
            assert homes, f"{function} is defined in none of {modules}"
            for command in commands:
                source = importlib.import_module(declared[command]).__file__
                assert source is not None
                imports = re.findall(rf"from {re.escape(homes[0])} import (\([^)]*\)|[^\n]+)",  # one line or (…)
                                     Path(source).read_text())
                assert any(re.search(rf"\b{function}\b", names) for names in imports), \
                    f"`remedy {command}` does not import {function} from {homes[0]}"
