"""The remedy block of CODEOWNERS no longer matches the owners of the remediations.

`remedy owners --write` keeps a block between `# BEGIN remedy owners` and `# END remedy owners` in
`.github/CODEOWNERS` (or the CODEOWNERS file GitHub already reads). Once the block exists, an edited
`owners` key or `[owners]` table, or a moved file, leaves it stale: GitHub would ask the wrong people
to review. A repository without a block is not warned about (remedy does not assume GitHub).

Bad (after adding `owners: ["@ada"]` to an entry):

    # BEGIN remedy owners
    # END remedy owners

Good: run `remedy owners --write` and commit the file with the change.
"""

from collections.abc import Iterator

from remedy.files.folder import display_path
from remedy.owners.codeowners import codeowners_status
from remedy.problems import Problem, as_severity
from remedy.rules.context import RuleContext

CODE = "O002"
NAME = "owners.codeowners-stale"
SEVERITY = "warning"


def check(context: RuleContext) -> Iterator[Problem]:
    status = codeowners_status(context.config, context.folder.remediations)
    if status is not None and status.state in ("stale", "malformed"):
        yield Problem(display_path(status.path), status.line, 1, CODE, as_severity(SEVERITY), status.message)
