"""The reloader swaps whole folders, keeps the last good one on a failed load, and waits for files to settle."""

from __future__ import annotations

from typing import Any

from remedy.errors import InputError
from remedy.serving.app import without_lone_surrogates
from remedy.serving.options import ServeOptions, check_options, is_loopback
from remedy.serving.reloader import FolderReloader


class Files:
    """A fake folder: a fingerprint that tests change, and loads that succeed or fail on demand."""

    def __init__(self) -> None:
        self.version = 0
        self.loads = 0
        self.broken = False

    def fingerprint(self) -> Any:
        return (("folder", self.version, 0, 0),)

    def load(self) -> Any:
        self.loads += 1
        if self.broken:
            raise InputError("remediations/x.yaml:3:9: S002 bad status")
        return f"folder v{self.version}"


def reloader(files: Files) -> FolderReloader:
    return FolderReloader(files.load, files.fingerprint, poll_seconds=0, settle_seconds=0)


def test_nothing_changed_nothing_loaded() -> None:
    files = Files()
    watcher = reloader(files)
    assert watcher.current == "folder v0" and not watcher.check() and files.loads == 1


def test_a_change_is_swapped_in_whole() -> None:
    files = Files()
    watcher = reloader(files)
    files.version = 1
    assert watcher.check() and watcher.current == "folder v1" and watcher.reloads == 1


def test_a_failed_load_keeps_the_last_good_folder_until_the_files_change_again() -> None:
    files = Files()
    watcher = reloader(files)
    files.version, files.broken = 1, True
    assert not watcher.check()
    assert watcher.current == "folder v0" and watcher.last_error is not None
    assert "S002" in watcher.last_error.describe()["message"]
    assert not watcher.check() and files.loads == 2  # not retried on every poll
    files.version, files.broken = 2, False
    assert watcher.check() and watcher.current == "folder v2" and watcher.last_error is None


def test_a_forced_check_loads_even_when_nothing_changed() -> None:
    files = Files()
    watcher = reloader(files)
    assert watcher.check(force=True) and files.loads == 2


def test_files_still_being_written_are_not_loaded() -> None:
    files = Files()
    watcher = FolderReloader(files.load, files.fingerprint, poll_seconds=0, settle_seconds=0.01)
    calls = iter(range(100))

    def moving() -> Any:
        return (("folder", next(calls), 0, 0),)

    watcher._fingerprint = moving  # every look sees another state: a checkout in progress
    assert not watcher.check() and files.loads == 1


def test_polling_thread_starts_and_stops() -> None:
    files = Files()
    watcher = FolderReloader(files.load, files.fingerprint, poll_seconds=0.01, settle_seconds=0)
    watcher.start()
    files.version = 1
    for _ in range(500):
        if watcher.current == "folder v1":
            break
        __import__("time").sleep(0.01)
    watcher.stop()
    assert watcher.current == "folder v1"


def test_loopback_and_refusals() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1") and not is_loopback("example.com")
    check_options(ServeOptions(host="0.0.0.0", insecure=True))
    for options, message in ((ServeOptions(host="0.0.0.0"), "not a loopback"),
                             (ServeOptions(workers=0), "--workers"), (ServeOptions(port=70000), "--port"),
                             (ServeOptions(token_file="/nonexistent/token"), "cannot read")):
        try:
            check_options(options)
        except Exception as error:  # UsageError
            assert message in str(error)
        else:
            raise AssertionError(f"{options} was accepted")


def test_lone_surrogates_become_replacement_characters() -> None:
    assert without_lone_surrogates("plain") == "plain"
    assert without_lone_surrogates("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert without_lone_surrogates("\U0001f600") == "\U0001f600"
