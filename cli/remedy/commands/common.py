"""What every command needs: the configuration from the global options, and output helpers."""

from __future__ import annotations

import sys

import typer

from remedy.config import Config, load_config
from remedy.control_characters import visible
from remedy.errors import UsageError


def config_from(ctx: typer.Context) -> Config:
    options = ctx.find_root().obj or {}
    return load_config(options.get("config"), options.get("remediations"))


def write(text: str) -> None:
    """Everything a command prints to stdout goes here: control characters from logs and files are shown
    as `\\uXXXX` (JSON's own escape, so JSON output stays valid and reads back the same)."""
    sys.stdout.write(visible(text))


def choose(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}, not '{value}'")
    return value
