"""A topic file with a missing, unknown or malformed field, or one that contradicts another.

A topic file (`topics/<issue-id>.yaml`, named by the issue it shapes) holds `queries` (normalized
failure queries that belong to this issue whatever the clustering says) and/or `merge` (issue ids
whose failures join it), optionally `split_from` (the issue its queries were split out of; needs
`queries`) and `note`. A query belongs to one file only, an issue is merged by one file only, and an
issue that another file merges does not merge others (no chains). A file with a problem is not
applied, so the issues group as the clustering says until it is fixed.

Bad:

    split_from: 5b57524401fe
    merge: []
    queris: [can i get a refund for a cancelled flight]

Good:

    split_from: 5b57524401fe
    queries: [can i get a refund for a cancelled flight]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from remedy import file_codes
from remedy.problems import Problem

if TYPE_CHECKING:
    from remedy.rules.context import RuleContext

CODE = file_codes.TOPIC_SCHEMA  # T004 (files/ reports it too)
NAME = "topic.schema"
SEVERITY = "error"


def check(context: RuleContext) -> Iterator[Problem]:
    return context.topic_problems(CODE, SEVERITY)
