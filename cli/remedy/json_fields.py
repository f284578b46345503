"""How a result's dataclass field asks to be written as JSON: the `dataclasses.field(metadata=...)` keys.

Why a module of its own: the core modules that declare results (analytics, matching, owners) set
these keys, and the encoder (`remedy.report.tables`) reads them. Defined here, below both, the core
never imports the formatting layer that imports it.
"""

from __future__ import annotations

JSON_NAME = "json_name"  # the JSON name of a field whose Python name cannot be it (`from`)
OMIT_NONE = "omit_none"  # leave the field out of JSON when it is None (a key that is there only sometimes)
