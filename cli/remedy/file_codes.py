"""The problem codes that the file readers (`remedy.files`) report themselves, defined below them.

Why here: the readers find these problems while parsing (a file that cannot be read, bad YAML, an
anchor, a symlink, a bad triage file), and the rule modules in `remedy.rules` document them and
hand them on. The rules import the readers, so the readers cannot import the rules: both import
the codes from this module, which imports nothing of remedy. Each rule module still declares its
`CODE` (from here), so the registry and `docs/rules.md` are unchanged.
"""

from __future__ import annotations

FILE_UNREADABLE = "F001"
FILE_YAML_SYNTAX = "F002"
FILE_NOT_A_MAPPING = "F003"
FILE_ANCHORS = "F004"
FILE_SYMLINK = "F006"
SCHEMA_CONTROL_CHARACTER = "S009"
TRIAGE_UNREADABLE = "T001"
TRIAGE_SCHEMA = "T002"
TOPIC_UNREADABLE = "T003"
TOPIC_SCHEMA = "T004"
