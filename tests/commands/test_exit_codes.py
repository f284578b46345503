"""The one place errors become exit codes (`RemedyGroup.invoke`, `main`): what a user sees for each kind
of failure. Each test makes the core function of `remedy validate` fail the way it is named after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from remedy.commands import app as app_module
from remedy.errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE, InputError, RefusedError
from tests.conftest import write_answer


@pytest.fixture
def failing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[BaseException], None]:
    write_answer(repo, "pets", "Can I bring my dog?")

    def fail_with(error: BaseException) -> None:
        def core(*args: object, **kwargs: object) -> None:
            raise error

        monkeypatch.setattr("remedy.validation.validate", core)

    return fail_with


def test_the_command_works_before_it_is_broken(repo: Path, run: Callable[..., Result]) -> None:
    write_answer(repo, "pets", "Can I bring my dog?")
    assert run("validate", "--no-semantic").exit_code == 0


def test_ctrl_c_is_exit_130_without_a_traceback(failing, run: Callable[..., Result]) -> None:
    failing(KeyboardInterrupt())
    result = run("validate", "--no-semantic")
    assert result.exit_code == EXIT_INTERRUPTED == 130
    assert result.stderr == "remedy: interrupted\n" and result.stdout == ""


def test_duckdb_interrupt_exception_is_exit_130(failing, run: Callable[..., Result]) -> None:
    interrupt = type("InterruptException", (Exception,), {})  # DuckDB's class, by name
    failing(interrupt("INTERRUPT Error: Interrupted!"))
    result = run("validate", "--no-semantic")
    assert result.exit_code == 130 and result.stderr == "remedy: interrupted\n"


def test_a_bug_is_exit_3_with_the_hint_to_rerun_with_debug(failing, run: Callable[..., Result]) -> None:
    failing(ZeroDivisionError("division by zero"))
    result = run("validate", "--no-semantic")
    assert result.exit_code == EXIT_BUG == 3
    assert result.stderr == ("remedy: internal error: ZeroDivisionError: division by zero "
                             "(run with --debug for details)\n")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_debug_shows_the_traceback_of_a_bug(failing, run: Callable[..., Result]) -> None:
    failing(ZeroDivisionError("division by zero"))
    result = run("--debug", "validate", "--no-semantic")
    assert result.exit_code == 3
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "in core\n" in result.stderr and "ZeroDivisionError: division by zero\n" in result.stderr
    assert result.stderr.endswith("remedy: internal error: ZeroDivisionError: division by zero "
                                  "(run with --debug for details)\n")


def test_debug_does_not_add_a_traceback_to_user_errors(failing, run: Callable[..., Result]) -> None:
    failing(InputError("remediations/answers/pets.yaml:3: bad\x1b[31m"))
    result = run("--debug", "validate", "--no-semantic")
    assert result.exit_code == EXIT_USAGE
    # Control characters from file contents are shown, never sent to the terminal.
    assert result.stderr.startswith("remedy: remediations/answers/pets.yaml:3: bad") and "\x1b" not in result.stderr
    assert "Traceback" not in result.stderr


def test_remedy_errors_keep_their_exit_codes(failing, run: Callable[..., Result]) -> None:
    failing(RefusedError("refused to set status active"))
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1 and result.stderr == "remedy: refused to set status active\n"


def test_an_os_error_names_the_file_and_is_exit_2(failing, run: Callable[..., Result]) -> None:
    failing(OSError(28, "No space left on device", "build/report.html"))
    result = run("validate", "--no-semantic")
    assert result.exit_code == 2 and result.stderr == "remedy: build/report.html: No space left on device\n"


def test_main_turns_a_late_ctrl_c_into_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    # DuckDB may report Ctrl-C as its own exception while Python's signal is still pending: it then fires
    # after the command already said "interrupted", outside RemedyGroup.invoke.
    def interrupted(**kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(app_module, "app", interrupted)
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code == 130
