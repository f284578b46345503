"""Content that will go stale: prices, dates, stock counts, "currently", "as of".

An answer is served verbatim for months. A price, a date or "currently" in it is wrong the day the
fact changes, and nobody notices. Link to the page that stays current instead, or set `review_by`.

Bad:

    answer: As of March 2026 a checked bag currently costs $35.

Good:

    answer: Checked bag fees depend on the route; see https://example.com/bag-fees

A paused entry is not served, so its text cannot go stale in front of a user: it is not checked.
"""

import re
from collections.abc import Iterator

from remedy.problems import Problem
from remedy.rules.context import RuleContext, locate

CODE = "W002"
NAME = "lint.volatile-content"
SEVERITY = "warning"

# Month names only when capitalised: "15 may travel" is a verb, "15 May" a date.
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
                   rf"|\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b"
                   rf"|\b(?:{_MONTHS})\s+20\d\d\b|\b[Ii]n 20\d\d\b")
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a price", re.compile(r"[$€£¥]\s?\d+(?:[.,]\d+)*|\b\d+(?:[.,]\d+)*\s?(?:usd|eur|gbp|dollars?|euros?|pounds)\b",
                          re.I)),
    ("a date", _DATE),
    ("a stock count", re.compile(r"\b(?:only\s+)?\d+\s+(?:left|remaining|in stock|seats? left)\b|\bin stock\b", re.I)),
    ("a time-bound word", re.compile(r"\b(?:currently|as of|at the moment|right now|at present|for now|"
                                     r"this (?:week|month|year)|today|tomorrow|yesterday)\b", re.I)),
)


def check(context: RuleContext) -> Iterator[Problem]:
    for remediation in context.folder.remediations:
        if remediation.kind == "review":
            continue  # a judged response is a record of what was said, not something we serve
        if remediation.status == "paused":
            continue  # not served: the warning would only nag about text nobody sees
        key = remediation.kind
        for what, pattern in PATTERNS:
            for match in pattern.finditer(remediation.text):
                yield context.problem(remediation, locate(remediation, key, match.group()), CODE, SEVERITY,
                                      f"{what} in '{key}' ({match.group()!r}) will go stale; link to a page "
                                      "that stays current or set review_by")
