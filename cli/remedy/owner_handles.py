"""What an owner may be written as, and what an `[owners]` glob may be, checked once for files and config.

An owner is a GitHub user `@name`, a GitHub team `@org/team`, or an e-mail address: the three forms a
CODEOWNERS file takes. Globs use CODEOWNERS' own syntax (gitignore patterns without `!` and `[ ]`),
so the generated file means on GitHub exactly what `remedy owners` shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from remedy.errors import UsageError

# GitHub user and organisation names: letters, digits and hyphens, at most 39 characters, not starting
# with a hyphen. Team slugs also take underscores and dots.
_USER = r"[A-Za-z0-9][A-Za-z0-9-]{0,38}"
_TEAM = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
OWNER_PATTERN = rf"^(?:@{_USER}(?:/{_TEAM})?|{_EMAIL})$"  # for the JSON Schema; Python uses fullmatch, as `$`
# would also match before a trailing newline ("@alice\n" would pass and end a CODEOWNERS line early)
_OWNER = re.compile(OWNER_PATTERN)
_BARE = re.compile(rf"^{_USER}(?:/{_TEAM})?$")

RULE = "a GitHub user '@name', a team '@org/team', or an e-mail address"


def is_owner(value: object) -> bool:
    return isinstance(value, str) and _OWNER.fullmatch(value) is not None


def owner_problem(value: str) -> str | None:
    """Why `value` is not an owner (with the likely fix), or None when it is one."""
    if _OWNER.fullmatch(value):
        return None
    text = value.strip()
    parts = [part for part in re.split(r"[\s,;]+", text) if part]
    if len(parts) > 1 and all(_OWNER.fullmatch(part) for part in parts):
        listed = ", ".join(repr(part) for part in parts)
        return f"{value!r} holds {len(parts)} owners in one item: write one per item, [{listed}]"
    if _OWNER.fullmatch(text):
        return f"{value!r} has spaces around it: write {text!r}"
    if _BARE.fullmatch(text) or _BARE.fullmatch(text.lstrip("@")):
        return f"{value!r} is not an owner: write {RULE} (did you mean '@{text.lstrip('@')}'?)"
    return f"{value!r} is not an owner: write {RULE}"


def normalize_owner(value: str) -> str:
    """A handle as typed on the command line (`ada`, `@Ada`) in the form owners are compared in."""
    text = value.strip()
    if "@" not in text:
        text = "@" + text
    return text.casefold()  # GitHub names and e-mail addresses compare without case


def handle_from_option(value: str, option: str) -> str:
    """A handle typed on the command line (`alice`, `@Alice`, `@org/team`, an e-mail) as files keep it: with its
    `@`, checked like an owner, so `--assign alice` and `--assign @alice` record the same person."""
    text = value.strip()
    if not text:
        raise UsageError(f"{option} needs a handle, e.g. @alice")
    if "@" not in text:
        text = "@" + text
    problem = owner_problem(text)
    if problem:
        raise UsageError(f"{option}: {problem}")
    return text


def glob_problem(pattern: str) -> str | None:
    """Why an `[owners]` glob cannot be used (CODEOWNERS does not support it), or None."""
    if not pattern.strip():
        return "is empty"
    if pattern != pattern.strip():
        return "has spaces at the start or end"
    if not pattern.strip("/"):
        return "is only slashes: write ** for everything"
    if pattern.startswith("!"):
        return "starts with '!': CODEOWNERS has no negation; give the exception its own glob (with [] for none)"
    if pattern.startswith("#"):
        return "starts with '#', which CODEOWNERS reads as a comment"
    if any(character in pattern for character in "[]\\"):
        return "uses '[', ']' or '\\', which CODEOWNERS does not support: use * or ? instead"
    if any(not character.isprintable() for character in pattern):
        return "holds a control character"
    if ".." in pattern.strip("/").split("/"):
        return "leaves the remediations folder ('..'): globs are relative to it"
    return None


def checked_owner_table(table: Mapping[str, object], where: str) -> dict[str, tuple[str, ...]]:
    """The `[owners]` config table, checked: glob → tuple of owners, in file order (the last match wins)."""
    checked: dict[str, tuple[str, ...]] = {}
    for pattern, owners in table.items():
        name = f'owners."{pattern}"'
        problem = glob_problem(pattern)
        if problem:
            raise UsageError(f"{where}: {name}: the glob {problem}")
        if isinstance(owners, str):
            hint = f' (write ["{owners}"])' if is_owner(owners) else ""
            raise UsageError(f"{where}: {name} must be a list of owners{hint}, not {owners!r}")
        if not isinstance(owners, list):
            raise UsageError(f"{where}: {name} must be a list of owners like [\"@refunds-team\"], not {owners!r}")
        for owner in owners:
            if not isinstance(owner, str):
                raise UsageError(f"{where}: {name}: {owner!r} is not an owner: write {RULE}")
            problem = owner_problem(owner)
            if problem:
                raise UsageError(f"{where}: {name}: {problem}")
        checked[pattern] = tuple(owners)
    return checked
