"""Text from git, files and logs inside Markdown: the one place it is escaped (PR comments, step summaries,
`--format markdown` tables, `remedy issue` tickets).

An author name, a file name, a query or an answer is written by someone else; in a comment GitHub renders,
`![t](https://…)` would show an image and `[security review: approved](https://…)` a link with words of
the author's choosing (issue 35). Every such text is one line (visible() writes line breaks as \\u000a)
and every character Markdown gives a meaning inline is backslash-escaped (CommonMark lets any ASCII
punctuation be escaped), with `&`, `<` and `>` written as entities, so it renders as the characters it
is. `://` and `www.` are escaped too, which stops GitHub's bare-URL autolinks; a `|` is escaped
everywhere, so the text is safe in a table cell.
"""

from __future__ import annotations

import re

from remedy.control_characters import visible

# Inline meaning: emphasis, code, links and images, raw HTML and entities, tables, strikethrough, math,
# headings and quotes at a line's start, and the backslash itself.
_SPECIAL = re.compile(r"([\\`*\[\]()!|~#$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")  # `a_b` is no emphasis
_AUTOLINK = re.compile(r"(?i)(:)(?=//)|(?<=www)(\.)")


def markdown_text(text: object) -> str:
    """`text` as Markdown that renders as exactly these characters, on one line."""
    escaped = _SPECIAL.sub(lambda match: "\\" + match.group(), visible(str(text), one_line=True))
    # HTML and entities as entities: `<img …>` shows as text and is never a tag in the raw comment either.
    escaped = escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _AUTOLINK.sub(lambda match: "\\" + match.group(), escaped)


def markdown_lines(text: object) -> str:
    """`text` with each of its lines escaped as `markdown_text` (a multi-line response stays multi-line)."""
    return "\n".join(markdown_text(line) for line in str(text).split("\n"))


def markdown_block(text: object) -> str:
    """`text` as a fenced code block, its lines kept: a fence of backticks longer than any run inside it."""
    shown = visible(str(text))
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", shown)), default=0))
    return f"{fence}text\n{shown.rstrip(chr(10))}\n{fence}"


def markdown_code(text: object) -> str:
    """`text` in a code span (ids, handles, paths): a fence longer than its longest run of backticks
    (CommonMark), `|` escaped because GFM splits table cells on it even inside a code span."""
    one_line = visible(str(text), one_line=True)
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", one_line)), default=0))
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{pad}{one_line}{pad}{fence}".replace("|", "\\|")
