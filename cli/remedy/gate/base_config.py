"""The configuration of the base revision, read from git.

A pull request may edit `remedy.toml` (or `[tool.remedy]` in `pyproject.toml`). If the gate read
the base with the pull request's configuration, moving the folder (`remediations = "rem2"`) would
make every entry look added, and remapping `[logs]` fields (`served_remediation = "nope"`) would
make every answer look unused: protected answers could be rewritten unseen. So the base side is
read with the base revision's own configuration, found at that commit the way `load_config` finds
it in the working tree. What the change did to the settings that decide what the gate compares is
rule G004 (rules/gate_config_changed.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from remedy.config import CONFIG_FILE, Config, config_from_table, table_from_text
from remedy.errors import UsageError
from remedy.files.folder import display_path
from remedy.gate.git_revision import relative_to_top
from remedy.git import cat_files


@dataclass(frozen=True)
class BaseConfig:
    config: Config  # the base's, or the working tree's when the base's cannot be read
    shown: str  # the config file as problems name it
    unreadable: str | None = None  # why the base's configuration cannot be read


def base_config(top: Path, commit: str, current: Config, *, config_file: Path | None = None,
                remediations_dir: Path | None = None, cwd: Path | None = None) -> BaseConfig:
    """The configuration at `commit` (the working tree's, with the reason, when it cannot be read).

    `config_file` and `remediations_dir` are the command-line options (they apply to both sides, as the
    person running the gate chose them, not the pull request); `cwd` is where discovery starts.
    """
    cwd = (cwd or Path.cwd()).resolve()
    shown = display_path(current.file) if current.file else CONFIG_FILE
    if config_file is not None and not _inside(top, config_file):
        return BaseConfig(current, shown)  # a file outside the repository: the pull request cannot change it
    try:
        file, table = _config_at(top, commit, cwd, config_file)
        root = file.parent if file is not None else top
        config = config_from_table(table, file, root, remediations_dir)
    except UsageError as error:
        # A broken configuration at the base cannot be repaired by the pull request that fixes it if
        # the gate refuses to run; read the base with this one and say so.
        return BaseConfig(current, f"{shown}@{commit[:8]}", unreadable=str(error))
    config = replace(config, root=current.root)  # caches stay in one place
    return BaseConfig(config, shown)


def _config_at(top: Path, commit: str, cwd: Path, config_file: Path | None) -> tuple[Path | None, dict]:
    """The config file and its remedy table at `commit`, found like `load_config` finds them on disk."""
    if config_file is not None:
        relative = relative_to_top(top, config_file)
        (text,) = cat_files(top, [f"{commit}:{relative}"])
        table = _table(config_file.name, text, f"{relative}@{commit[:8]}")
        if table is not None:
            return top / relative, table
    try:
        start = relative_to_top(top, cwd)
    except UsageError:
        start = "."
    directories = [start]
    while directories[-1] != ".":
        parent = str(Path(directories[-1]).parent)
        directories.append("." if parent in ("", ".") else parent)
    names = [f"{commit}:{_join(directory, name)}" for directory in directories for name in (CONFIG_FILE,
                                                                                             "pyproject.toml")]
    texts = iter(cat_files(top, names))
    for directory in directories:
        for name in (CONFIG_FILE, "pyproject.toml"):
            text = next(texts)
            table = _table(name, text, f"{_join(directory, name)}@{commit[:8]}")
            if table is not None:
                return top / _join(directory, name), table
    return None, {}


def _inside(top: Path, path: Path) -> bool:
    try:
        relative_to_top(top, path)
    except UsageError:
        return False
    return True


def _table(name: str, data: bytes | None, where: str) -> dict | None:
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8 text") from None
    return table_from_text(name, text, where)


def _join(directory: str, name: str) -> str:
    return name if directory == "." else f"{directory}/{name}"
