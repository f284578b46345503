"""Placeholder text ("[URL]", "TODO", "lorem ipsum", "{{…}}"): what W003 warns about, and what makes a
draft still a scaffold (the issue queue and contributions do not count it). Below files/, rules/ and
analytics/, so each can ask without importing the others."""

import re

PLACEHOLDER = re.compile(r"\[(?:url|link|insert[^\]]*|name|date|phone|email|todo|tbd|placeholder)\]"
                         r"|\b(?:TODO|TBD|FIXME|XXX)\b|lorem ipsum|<insert[^>]*>|\{\{[^}]*\}\}", re.I)


def has_placeholder(text: str) -> bool:
    """True when `text` still holds a placeholder: a scaffold nobody has written yet (`new --from-issue`'s TODO)."""
    return PLACEHOLDER.search(text) is not None
