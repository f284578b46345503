"""A symlink in the remediations folder.

remedy reads only regular files inside the folder and never follows a link, in `validate`,
`check` and the run-time API alike. A link could serve a file from outside the repository (a
secrets file, a device such as /dev/zero), or move an answer's real file out of the gate's sight:
`remedy check` compares the folder's files, so an edit made through a link would not be seen as an
edit of the answer. A symlinked folder is reported too: its files are not read.

Bad:

    remediations/answers/refund.yaml -> ../../shared/refund.yaml

Good: the file itself in the folder (`git mv shared/refund.yaml remediations/answers/refund.yaml`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.FILE_SYMLINK  # F006 (files/ reports it too)
NAME = "file.symlink"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.read_problems(CODE)
