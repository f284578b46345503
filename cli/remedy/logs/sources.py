"""The first step of reading logs: paths, globs and folders resolved into files (hive partitions
included), each file sniffed for its format; and what a reader reports back (`SkippedLine`).

How a file's rows are read is `remedy.logs.readers`; nothing here reads a row.
"""

from __future__ import annotations

import glob
import logging
import os
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from remedy.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
# What a folder given to --logs contributes (each also .gz but Parquet); a file named explicitly or by a
# glob is read whatever its name. Not .json (usually one document, e.g. a config) nor .log/.txt.
FOLDER_SUFFIXES = (".jsonl", ".ndjson", *PARQUET_SUFFIXES, *CSV_SUFFIXES)
_FOLDER_KINDS = ".jsonl, .ndjson, .parquet or .csv (optionally .gz)"
GLOB_CHARS = frozenset("*?[")
# How many skipped lines are kept for the CLI to name on stderr.
REPORTED_SKIPS = 5
log = logging.getLogger("remedy")


@dataclass(frozen=True)
class LogFile:
    """One input file and how to read it."""

    path: str
    format: str  # "jsonl" | "parquet" | "csv"
    gzip: bool = False
    # Hive partition values of a file found in a folder (`date=2026-11-30/`): (key, value) pairs, read as
    # the value of a mapped field that the row itself lacks, as Ray Data reads them.
    partitions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SkippedLine:
    """One malformed line that was left out: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:  # line 0: read by an engine that does not count lines
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


def resolve_log_paths(paths: Sequence[str], *, quiet: bool = False) -> list[LogFile]:
    """Expand globs and folders into files, in a stable order; InputError names what is missing.

    An existing file is that file even when its name holds `*`, `?` or `[`; only a path that does not
    exist is a pattern. A folder is searched recursively and gives its log exports (FOLDER_SUFFIXES),
    in sorted order of their paths, with the hive partition values of the folders between (`date=…/`);
    files and folders whose names start with `.` or `_` are skipped (Spark and Hive write `_SUCCESS`,
    `_temporary/`), and the other files are named on stderr as passed over (unless `quiet`): a folder
    often holds a README or an error log.
    """
    if not paths:
        raise InputError("no log files given")
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for path in paths:
        if os.path.isfile(path):
            found.setdefault(path, ())
        elif os.path.isdir(path):
            for file, partitions in _folder_logs(path, quiet):
                found.setdefault(file, partitions)
        elif GLOB_CHARS & set(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"{path}: no file matches this pattern")
            for match in matches:
                found.setdefault(match, ())
        else:
            raise InputError(f"{path}: no such file")
    return [describe_file(path, partitions) for path, partitions in found.items()]


def _folder_logs(folder: str, quiet: bool) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The log exports under `folder` (recursively), each with its hive partition values."""
    files: list[str] = []  # relative to `folder`, with "/" between parts (as Ray names them)
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith((".", "_"))]
        relative = os.path.relpath(root, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        files.extend(prefix + name for name in names
                     if not name.startswith((".", "_")) and os.path.isfile(os.path.join(root, name)))
    files.sort()
    logs = [name for name in files if _is_folder_log(name)]
    passed_over = [name for name in files if not _is_folder_log(name)]
    if not logs:
        raise InputError(f"{folder}: folder holds no {_FOLDER_KINDS} file"
                         + (f" (passed over: {_some(passed_over)})" if passed_over else ""))
    if passed_over and not quiet:
        log.warning("%s: passed over %d file(s) that are not log exports (%s): %s",
                    folder, len(passed_over), _FOLDER_KINDS, _some(passed_over))
    return [(os.path.join(folder, name), hive_partitions(name)) for name in logs]


def hive_partitions(relative: str) -> tuple[tuple[str, str], ...]:
    """The `key=value` folders of a path relative to the folder given (URL-decoded, the last of a key
    wins), as Ray Data's hive partitioning parses them."""
    pairs = [part.split("=") for part in relative.split("/")[:-1] if part.count("=") == 1]
    values = {key: urllib.parse.unquote(value) for key, value in pairs}
    return tuple(values.items())


def _is_folder_log(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith(FOLDER_SUFFIXES)


def _some(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def describe_file(path: str, partitions: tuple[tuple[str, str], ...] = ()) -> LogFile:
    """Sniff `path`: Parquet by its magic bytes, gzip by its own, binary refused, else by its name."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from error
    if head[:4] == b"PAR1":
        return LogFile(path, "parquet", partitions=partitions)
    gzip = head[:2] == b"\x1f\x8b"
    if not gzip and b"\x00" in head:
        # As git does: a NUL byte near the start means a binary file, not JSON lines or CSV.
        raise InputError(f"{path}: a binary file, not JSON lines, CSV or Parquet")
    name = path.lower().removesuffix(".gz")
    if name.endswith(PARQUET_SUFFIXES):
        if gzip:
            raise InputError(f"{path}: a compressed Parquet file; Parquet compresses itself, give it uncompressed")
        return LogFile(path, "parquet", partitions=partitions)
    return LogFile(path, "csv" if name.endswith(CSV_SUFFIXES) else "jsonl", gzip, partitions)
