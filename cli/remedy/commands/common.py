"""What every command needs: the configuration from the global options, and output helpers."""

from __future__ import annotations

import sys

import typer

from remedy.config import Config, load_config
from remedy.errors import UsageError


def config_from(ctx: typer.Context) -> Config:
    options = ctx.find_root().obj or {}
    return load_config(options.get("config"), options.get("remediations"))


def write(text: str) -> None:
    sys.stdout.write(text)


def choose(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}, not '{value}'")
    return value
