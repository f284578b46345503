"""Outputs never overwrite inputs: an output path is compared with every input by file identity.

Names lie (`./a.jsonl`, `a.jsonl`, a symlink, a hard link, `../dir/a.jsonl`), so an existing output is
compared with `os.path.samefile` and one that does not exist yet by its resolved path. A folder output
(e.g. `model adapt --out`, which replaces the folder) must not hold an input either.

Besides the files a command is given, every command reads the project: the config file, the
remediations, the triage files, its caches and the git repository. `refuse_output_in_project` keeps
an output out of all of them (issue 35: `report --out remediations/answers/x.yaml` replaced an answer
with HTML, exit 0; a new `.yaml` there would become a broken remediation).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from remedy.config import CONFIG_FILE, Config
from remedy.errors import OutputError


def refuse_output_over_inputs(output: Path, inputs: Iterable[str | os.PathLike[str]], *, option: str,
                              folder: bool = False) -> None:
    """Raise OutputError when `output` is one of `inputs` (or, for a `folder` output, holds one)."""
    resolved = os.path.realpath(output)
    for item in inputs:
        path = os.fspath(item)
        if _same_file(output, path) or (folder and _inside(os.path.realpath(path), resolved)):
            what = "holds" if folder and not _same_file(output, path) else "is"
            raise OutputError(f"{option} {output} {what} the input {path}: inputs are never written; "
                              "choose another output")


def _same_file(output: Path, path: str) -> bool:
    try:
        return os.path.samefile(output, path)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return os.path.realpath(output) == os.path.realpath(path)


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives
        return False


def refuse_output_in_project(output: Path, config: Config, *, option: str, folder: bool = False) -> None:
    """Raise OutputError when `output` is the config file, lies in (or, as a `folder`, holds) remedy's
    cache or the .git folder, or lies in the remediations or triage folder.

    Where the remediations (or triage) folder is the project root itself, only the names remedy would
    read there are refused (a `.yaml`/`.yml` file, or any file that exists), not every output in the root.
    """
    resolved = os.path.realpath(output)
    for config_file in {config.file or config.root / CONFIG_FILE, config.root / CONFIG_FILE}:
        if _same_file(output, os.fspath(config_file)):  # one not there yet is read as soon as it is
            raise OutputError(f"{option} {output} is the configuration file {config_file}: inputs are never "
                              "written; choose another output")
    root = os.path.realpath(config.root)
    places = (("the remediations folder", config.remediations_dir), ("the triage folder", config.triage_dir),
              ("remedy's cache folder", config.cache_dir), ("the git repository's own folder", config.root / ".git"))
    for index, (name, place) in enumerate(places):
        where = os.path.realpath(place)
        holds = folder and _inside(where, resolved)
        inside = _inside(resolved, where)
        if inside and index < 2 and _inside(root, where):  # the folder is the root (or above it)
            inside = output.suffix.lower() in (".yaml", ".yml") or os.path.lexists(output)
        if inside or holds:
            what = "holds" if holds else "is inside"
            raise OutputError(f"{option} {output} {what} {name} {place}, which remedy reads: write outputs "
                              "elsewhere")
