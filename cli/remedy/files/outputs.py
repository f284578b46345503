"""Outputs never overwrite inputs: an output path is compared with every input by file identity.

Names lie (`./a.jsonl`, `a.jsonl`, a symlink, a hard link, `../dir/a.jsonl`), so an existing output is
compared with `os.path.samefile` and one that does not exist yet by its resolved path. A folder output
(e.g. `model adapt --out`, which replaces the folder) must not hold an input either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

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
