"""Project configuration: `remedy.toml`, or `[tool.remedy]` in `pyproject.toml` (DESIGN 2.2).

Declared once as a typed dataclass; unknown keys and wrong types are refused with exit 2 and a
message naming the file and key.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remedy.errors import UsageError
from remedy.git import is_repository_top, repository_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "remedy.toml"
CACHE_DIR = ".remedy"
TRIAGE_DIR = "triage"
DEFAULT_HALF_LIFE = "14d"


@dataclass(frozen=True)
class Config:
    root: Path  # the project root: where the config file is, else the git top level, else the cwd
    file: Path | None
    remediations_dir: Path  # the remediations folder (`remediations` in the file)
    model: str = "bundled"
    threshold: float | None = None  # None: the model's calibrated default
    margin: float | None = None
    failure_cutoff: float = 0.5
    failure_cutoffs: dict[str, float] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    max_answer_length: int = 1200
    # Pinned by `remedy calibrate --write`: the model the threshold was tuned for.
    calibration: dict[str, Any] = field(default_factory=dict)
    # Default owners: glob inside the remediations folder -> owners, in file order (the last match wins).
    owners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    triage: str | None = None  # the triage folder, relative to the root; None: `triage/` beside the remediations
    issues: dict[str, Any] = field(default_factory=dict)  # [issues]: half_life
    # Decide with the verifier when it is installed (the `precise` extra); false: the static model alone.
    # Unset (None): the verifier, unless threshold/margin here were made for the static model (docs/matching.md).
    verifier: bool | None = None

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def triage_dir(self) -> Path:
        return self.root / self.triage if self.triage else self.remediations_dir.parent / TRIAGE_DIR

    @property
    def half_life(self) -> float:
        """The `[issues] half_life` in seconds (math.inf: no recency weighting); checked at load."""
        from remedy.durations import parse_duration

        return parse_duration(str(self.issues.get("half_life", DEFAULT_HALF_LIFE)))


_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "remediations": (str, "a folder path"),
    "model": (str, '"bundled", a local model2vec folder, or a model id'),
    "threshold": ((int, float), "a number between 0 and 1"),
    "margin": ((int, float), "a number between 0 and 1"),
    "failure_cutoff": ((int, float), "a number between 0 and 1"),
    "failure_cutoffs": (dict, "a table of score name = number"),
    "logs": (dict, "a table of field name mappings"),
    "max_answer_length": (int, "a whole number of characters"),
    "calibration": (dict, "a table written by `remedy calibrate --write`"),
    "owners": (dict, 'a table of glob = list of owners, e.g. "refunds/**" = ["@refunds-team"]'),
    "triage": (str, "a folder path (the triage files, default `triage` beside the remediations)"),
    "issues": (dict, 'a table with half_life = "14d" (or "inf")'),
    "verifier": (bool, "true or false (decide with the verifier when it is installed)"),
}
_ISSUES_KEYS = ("half_life",)


def load_config(config_file: Path | None = None, remediations_dir: Path | None = None,
                cwd: Path | None = None) -> Config:
    """Find and read the configuration; `remediations` (from --remediations) overrides the file."""
    cwd = (cwd or Path.cwd()).resolve()
    if config_file is not None:
        if not config_file.is_file():
            raise UsageError(f"{config_file}: config file not found")
        file: Path | None = config_file.resolve()
        table = _read_table(config_file)
    else:
        file, table = _discover(cwd)
    root = file.parent if file else (repository_root(cwd) or cwd)
    return config_from_table(table, file, root, remediations_dir)


def config_from_table(table: dict, file: Path | None, root: Path,
                      remediations_dir: Path | None = None) -> Config:
    """The configuration a table describes (checked); `remediations` overrides the table's folder."""
    values = _checked(table, file)
    folder = remediations_dir if remediations_dir is not None else root / values.pop("remediations", "remediations")
    values.pop("remediations", None)
    return Config(root=root, file=file, remediations_dir=Path(folder), **values)


def table_from_text(name: str, text: str, where: str) -> dict | None:
    """The remedy table in a config file's text: all of a remedy.toml, or `[tool.remedy]` of a
    pyproject.toml (None when it has none). UsageError for invalid TOML."""
    document = _parse_toml(text, where)
    if name != "pyproject.toml":
        return document
    tool = document.get("tool", {})
    table = tool.get("remedy") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _discover(cwd: Path) -> tuple[Path | None, dict]:
    for directory in (cwd, *cwd.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate, _read_table(candidate)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            tool = _read_toml(pyproject).get("tool", {})
            if isinstance(tool, dict) and "remedy" in tool:
                return pyproject, tool["remedy"]
        if is_repository_top(directory):
            break  # never pick up a config from outside the repository
    return None, {}


def _read_table(path: Path) -> dict:
    if path.name == "pyproject.toml":
        table = _read_toml(path).get("tool", {}).get("remedy")
        if not isinstance(table, dict):
            raise UsageError(f"{path}: no [tool.remedy] table")
        return table
    return _read_toml(path)


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read config: {error}") from None
    return _parse_toml(text, str(path))


def _parse_toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{where}: invalid TOML: {error}") from None


def _checked(table: dict, file: Path | None) -> dict[str, Any]:
    where = str(file) if file else "configuration"
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            hint = difflib.get_close_matches(key, list(_KEYS), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise UsageError(f"{where}: unknown key '{key}'{suggestion}")
        expected, description = _KEYS[key]
        if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            raise UsageError(f"{where}: '{key}' must be {description}, not {value!r}")
        values[key] = value
    for key in ("threshold", "margin", "failure_cutoff"):
        if key in values and not 0 <= values[key] <= 1:
            raise UsageError(f"{where}: '{key}' must be between 0 and 1, not {values[key]}")
    for key, value in values.get("issues", {}).items():
        if key not in _ISSUES_KEYS:
            raise UsageError(f"{where}: unknown key 'issues.{key}' (known: {', '.join(_ISSUES_KEYS)})")
        from remedy.durations import parse_duration

        try:
            parse_duration(str(value))
        except ValueError as error:
            raise UsageError(f"{where}: issues.half_life must be {error}") from None
    for name, cutoff in values.get("failure_cutoffs", {}).items():
        if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or not 0 <= cutoff <= 1:
            raise UsageError(f"{where}: failure_cutoffs.{name} must be a number between 0 and 1")
    if "owners" in values:
        from remedy.owner_handles import checked_owner_table

        values["owners"] = checked_owner_table(values["owners"], where)
    return values

