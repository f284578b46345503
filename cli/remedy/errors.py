"""The one error family remedy raises for user-facing problems, and the exit codes, defined once.

Anything raised that is not a RemedyError is a bug: the CLI prints a short message and the traceback
only with --debug.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # validate / test / check found problems; activate refused
EXIT_USAGE = 2  # bad usage, bad config, unreadable input
EXIT_INTERRUPTED = 130


class RemedyError(Exception):
    """A problem the user can fix; printed as one line, `remedy: <message>`."""

    exit_code = EXIT_USAGE


class UsageError(RemedyError):
    """Bad arguments or configuration (exit 2)."""


class InputError(RemedyError):
    """An input file that cannot be read or parsed (exit 2). The message names the file and line."""


class RefusedError(RemedyError):
    """A requested change that would break a rule; nothing was written (exit 1)."""

    exit_code = EXIT_FINDINGS
