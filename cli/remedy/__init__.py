"""remedy: expert remediations for AI assistants, as YAML files in git.

The run-time API is `Remediations` (see remedy.api); it is imported on first use so that
`import remedy` and the CLI stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remedy.api import AnswerHit, Remediations

__all__ = ["AnswerHit", "Remediations"]
__version__ = "0.1.0"  # the one home of the version: pyproject.toml reads it
# The name on the package index (`remedy` there is an unrelated project); the command and the import stay `remedy`.
DISTRIBUTION = "remedy-sme"


def installed_version() -> str:
    """The installed distribution's version (what `pip install` pinned), else this source tree's."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return __version__


def __getattr__(name: str) -> Any:
    if name in __all__:
        from remedy import api

        return getattr(api, name)
    raise AttributeError(f"module 'remedy' has no attribute {name!r}")
