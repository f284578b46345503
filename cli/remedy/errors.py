"""The one error family remedy raises for user-facing problems, and the exit codes, defined once.

Anything raised that is not a RemedyError is a bug: the CLI prints a short message and the traceback
only with --debug. Two exceptions come from the machine, not from remedy: an OSError (a full disk, a
folder deleted under us, no permission) is exit 2 with the file named, and Ctrl-C, also when DuckDB
reports it as its own exception, is exit 130.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # validate / test / check found problems; activate refused
EXIT_USAGE = 2  # bad usage, bad config, unreadable input
EXIT_BUG = 3  # an internal error: a short message, the traceback with --debug
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


class OutputError(RemedyError):
    """An output that cannot be written, or that would overwrite an input (exit 2). The message names it."""


def os_error_text(error: OSError) -> str:
    """`path: reason` for an OSError (a full disk, a missing folder, no permission), without Python's noise."""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{error.filename}: {reason}" if error.filename else reason


_ctrl_c = {"seen": False}


def watch_ctrl_c() -> None:
    """From now on Ctrl-C is also remembered, not only raised: an error some library made of the
    KeyboardInterrupt (wrapped in another exception, whatever its text) is still known for one by
    `is_interrupt`, so no fallback path ("the typed read failed, read line by line", "the cache is corrupt,
    rebuild it") can swallow it and finish with exit 0. Only Python's own handler is replaced."""
    import signal
    import threading

    _ctrl_c["seen"] = False
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return

    def remember(signum: int, frame: object) -> None:
        _ctrl_c["seen"] = True
        signal.default_int_handler(signum, frame)  # type: ignore[arg-type]

    signal.signal(signal.SIGINT, remember)


def is_interrupt(error: BaseException) -> bool:
    """Ctrl-C while DuckDB works raises its InterruptException (or a RuntimeError), not KeyboardInterrupt.

    When the signal lands inside one of our Python UDFs (query normalization), DuckDB wraps the
    KeyboardInterrupt in an InvalidInputException that names it. Any error after a Ctrl-C this
    command saw (`watch_ctrl_c`) counts as the interrupt.
    """
    if _ctrl_c["seen"] or type(error).__name__ == "InterruptException":
        return True
    text = str(error)
    if "Python exception occurred while executing the UDF: KeyboardInterrupt" in text:
        return True
    return isinstance(error, RuntimeError) and "Query interrupted" in text
