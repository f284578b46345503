"""Log analytics: which logs each remediation covers, what it prevented, and the unaddressed failures.

For notebooks: `load`, `coverage_frame`, `attributions_frame` and `issues_frame` (remedy.analytics.frames)
give polars DataFrames. They are imported on first use, so the CLI never pays for polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remedy.analytics.frames import attributions_frame, coverage_frame, issues_frame, load

__all__ = ["attributions_frame", "coverage_frame", "issues_frame", "load"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from remedy.analytics import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'remedy.analytics' has no attribute {name!r}")
