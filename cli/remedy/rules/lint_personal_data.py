"""Personal data in a remediation.

Remediation files are shared in git and answers are served to every user who asks: they must not
hold e-mail addresses, phone numbers or payment card numbers (a digit run that passes the Luhn
check). Link to a contact page instead.

Bad:

    answer: Write to jane.doe@example.com or call +1 415 555 0100.

Good:

    answer: Contact us through https://example.com/contact
"""

import re
from collections.abc import Iterator

from remedy.files.schema import TEXT_FIELD_BY_KIND
from remedy.problems import Problem
from remedy.rules.context import RuleContext, locate

CODE = "W001"
NAME = "lint.personal-data"
SEVERITY = "warning"

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
# A phone number: optional +country, then at least 7 digits in groups separated by space, dot or dash.
PHONE = re.compile(r"(?<![\w/.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){2,4}(?![\w/-])")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def check(context: RuleContext) -> Iterator[Problem]:
    for remediation in context.folder.remediations:
        fields = [("question", remediation.question), (TEXT_FIELD_BY_KIND[remediation.kind], remediation.text)]
        fields += [("note", remediation.note)] if remediation.note else []
        for key, text in fields:
            for found, what in find_personal_data(text):
                yield context.problem(remediation, locate(remediation, key, found), CODE, SEVERITY,
                                      f"{what} in '{key}': {found!r}; remediations must not hold personal data")


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """(matched text, what it is) for each e-mail address, card number and phone number in `text`."""
    found = [(match.group(), "e-mail address") for match in EMAIL.finditer(text)]
    cards = [match.group() for match in CARD.finditer(text) if luhn_valid(re.sub(r"\D", "", match.group()))]
    found += [(card, "payment card number") for card in cards]
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 7 <= len(digits) <= 15 and not any(match.group() in card for card in cards) and not _is_date(match.group()):
            found.append((match.group(), "phone number"))
    return found


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every payment card number passes."""
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _is_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4}", text.strip()))
