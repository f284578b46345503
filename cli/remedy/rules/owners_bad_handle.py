"""An owner that is not a GitHub user, a GitHub team or an e-mail address.

`owners` lists who reviews changes to the entry; `remedy owners --write` copies them into
CODEOWNERS, where GitHub accepts exactly three forms: a user `@name`, a team `@org/team`, or an
e-mail address. Anything else (a bare name, two handles in one item, a space inside) would be
ignored by GitHub, so nobody would be asked.

Bad:

    owners: [ada, "@refunds-team @ada"]

Good:

    owners: ["@ada", "@skyway/refunds-team", ada@example.com]
"""

from collections.abc import Iterator

from remedy.owner_handles import owner_problem
from remedy.problems import Problem
from remedy.rules.context import RuleContext

CODE = "O001"
NAME = "owners.bad-handle"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    for document in context.folder.documents:
        owners = document.values.get("owners")
        if not isinstance(owners, list):
            continue  # not a list: S003 says so
        for index, owner in enumerate(owners):
            problem = owner_problem(owner) if isinstance(owner, str) and owner.strip() else None
            if problem:
                yield context.problem(document, document.item_positions["owners"][index], CODE, SEVERITY, problem)
