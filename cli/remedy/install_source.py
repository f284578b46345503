"""Where a project installs remedy from: the package index, a git URL at a tag, a wheel, or a checkout.

`remedy init --install-from SOURCE` writes it into the CI workflow and the pre-commit snippet, so both
install a remedy the team controls before (or instead of) a release on the package index. Every form
names the distribution (`remedy-sme`) so an extra can be added to it (`remedy-sme[serve] @ …`); the
name `remedy` on the index is an unrelated project and is never what a line installs.

docs/install.md is the user-facing story; this module is the one place its forms are parsed.

The value lands in a CI workflow that runs with the repository's token, so it is refused unless it is
what a pip requirement can be, in a closed set of characters (no quote, space, `$`, `{`, backtick,
newline or leading `-`): a workflow is then never a way to run code from a flag. The workflow also
passes it to pip as an `env:` value, never as part of a `run:` line (project_init.py), so even a value
that slipped through would be data, not shell.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from remedy.errors import UsageError

FORMS = ("git+https://HOST/ORG/REPO@TAG (a git URL at a tag or commit)", "PATH/remedy_sme-X.Y.Z-…whl (a wheel)",
         "https://…/remedy_sme-X.Y.Z-…whl (a wheel's URL)", "PATH (a checkout of remedy's source)",
         "a version or specifier of the release on the package index (0.2.0, ==0.2.0, >=0.2,<0.3)")
# What a requirement may hold: a URL's characters less those that quote, expand or substitute in a shell or a
# workflow (' " ` $ { } ; & | < > ( ) * ? ! \\ space, control characters). `~` and `%` stay for URLs.
_ALLOWED = re.compile(r"^[A-Za-z0-9._~/:@%+=#,-]+$")
_GIT = re.compile(r"^git\+(?P<url>(?:https|ssh|file)://[A-Za-z0-9._~%:/+-]+?(?:\.git)?)"
                  r"@(?P<ref>[A-Za-z0-9_+][A-Za-z0-9._/+-]*)$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]+)?/[A-Za-z0-9._~/%+-]*(?:#sha256=[0-9a-f]{64})?$")
_WHEEL_NAME = re.compile(r"^remedy_sme-[^-]+-.+\.whl$")
_PATH = re.compile(r"^(?:/|\./|\.\./)?(?:[A-Za-z0-9_+][A-Za-z0-9._+-]*/?)+$")
# PEP 440, the forms a team pins a release with: a version, or comma-separated clauses with an operator.
_VERSION = r"[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
_SPECIFIER = re.compile(rf"^(?:{_VERSION}|(?:===?|~=|!=|<=|>=|<|>){_VERSION}(?:\.\*)?"
                        rf"(?:,(?:===?|~=|!=|<=|>=|<|>){_VERSION}(?:\.\*)?)*)$")


@dataclass(frozen=True)
class InstallSource:
    """How a fresh machine gets this version of remedy."""

    kind: str  # "index", "git", "wheel" or "checkout"
    requirement: str  # what `pip install` takes, e.g. `remedy-sme @ git+https://…@v0.1.0`
    repo_url: str | None = None  # git: the repository pre-commit clones
    rev: str | None = None  # git: the tag or commit

    def pip_argument(self) -> str:
        """The requirement quoted for a shell line (`pip install "…"`); safe as its characters are (_ALLOWED)."""
        return f'"{self.requirement}"'

    def with_extras(self, extras: tuple[str, ...]) -> InstallSource:
        """The same source with extras (`remedy-sme[precise] @ …`, `./remedy_sme-….whl[precise]`)."""
        if not extras:
            return self
        tag = f"[{','.join(extras)}]"
        if self.kind in ("wheel", "checkout") and " @ " not in self.requirement:  # a local path: pip reads PATH[extra]
            requirement = self.requirement + tag
        else:
            name, separator, rest = re.split(r"( @ |==|~=|!=|<=|>=|<|>)", self.requirement, maxsplit=1)
            requirement = f"{name}{tag}{separator}{rest}"
        return InstallSource(self.kind, requirement, self.repo_url, self.rev)

    def describe(self) -> str:
        return {"index": f"{self.requirement} from the package index", "git": f"the git tag {self.rev} of "
                f"{self.repo_url}", "wheel": f"the wheel {self.requirement}",
                "checkout": f"the checkout {self.requirement}"}[self.kind]


def index_source(distribution: str, version: str) -> InstallSource:
    """The default: the released version on the package index."""
    return InstallSource("index", f"{distribution}=={version}")


def parse_install_source(value: str, project_dir: Path, distribution: str) -> InstallSource:
    """`--install-from VALUE` as an InstallSource; a path is checked relative to the project (where CI runs).

    Refused (UsageError, exit 2) unless it is one of FORMS written in _ALLOWED's characters."""
    text = value  # not stripped: a line break or a space anywhere is refused, not quietly cut
    if _SPECIFIER.fullmatch(text):  # its own closed grammar (`<`, `>` and `!` in operators only)
        return InstallSource("index", f"{distribution}{text if text[0] in '=<>!~' else '==' + text}")
    if not _ALLOWED.fullmatch(text) or text.startswith("-"):
        raise UsageError(f"--install-from {value!r}: {_refusal(text)}; it must be one of: {'; '.join(FORMS)}")
    git = _GIT.fullmatch(text)
    if git:
        url = git["url"]
        return InstallSource("git", f"{distribution} @ git+{url}@{git['ref']}", repo_url=url, rev=git["ref"])
    if text.startswith("git+"):
        raise UsageError(f"--install-from {value}: a git URL needs the tag (or commit) to install, so every CI run "
                         "gets the same remedy: git+https://github.com/ORG/remedy@v0.1.0")
    if re.match(r"^https?://", text):
        if not _URL.fullmatch(text):
            raise UsageError(f"--install-from {value}: not a plain URL (scheme, host, path; a #sha256= hash at most)")
        if not _WHEEL_NAME.fullmatch(text.split("#")[0].rsplit("/", 1)[-1]):
            raise UsageError(f"--install-from {value}: a URL must be a git URL (git+https://…@TAG) or a "
                             "remedy_sme-….whl wheel")
        return InstallSource("wheel", f"{distribution} @ {text}")
    if not _PATH.fullmatch(text):
        raise UsageError(f"--install-from {value}: not one of: {'; '.join(FORMS)}")
    path = Path(text)
    where = path if path.is_absolute() else project_dir / path
    if text.endswith(".whl"):
        if not _WHEEL_NAME.fullmatch(path.name):
            raise UsageError(f"--install-from {value}: not a wheel of remedy (its name is remedy_sme-VERSION-….whl)")
        if not where.is_file():
            raise UsageError(f"--install-from {value}: no such wheel (a relative path is taken from {project_dir}, "
                             "where the workflow runs; commit the wheel there)")
        return InstallSource("wheel", _local(text))
    if where.is_dir():
        if not ((where / "pyproject.toml").is_file() and (where / "cli" / "remedy").is_dir()):
            raise UsageError(f"--install-from {value}: {where} is a folder but not a checkout of remedy "
                             "(no pyproject.toml with cli/remedy beside it)")
        return InstallSource("checkout", _local(text))
    raise UsageError(f"--install-from {value}: not one of: {'; '.join(FORMS)}")


def _refusal(text: str) -> str:
    """Why a value is refused, naming the first character that no requirement form holds."""
    if not text:
        return "it is empty"
    if text.startswith("-"):
        return "it starts with '-' (pip would read an option)"
    bad = next((c for c in text if not _ALLOWED.fullmatch(c)), "")
    if bad in ("\n", "\r"):
        return "it holds a line break (it would add lines to the workflow)"
    if bad in ("$", "{", "}", "`"):
        return f"it holds {bad!r} (an expression or a command substitution in a workflow or a shell)"
    if bad.isspace():
        return "it holds white space (rename the file or folder without spaces)"
    return f"it holds the character {bad!r} (U+{ord(bad):04X}), which no requirement form has"


def _local(text: str) -> str:
    """A path as pip reads it from a shell line: relative paths keep a leading ./ (else pip takes a name)."""
    if os.path.isabs(text) or text.startswith(("./", "../")):
        return text
    return "./" + text


def precommit_snippet(source: InstallSource) -> str:
    """The `.pre-commit-config.yaml` lines that run remedy validate and remedy test from `source`.

    A git source uses the repository's own `.pre-commit-hooks.yaml` at the tag; the index installs the
    release into pre-commit's environment; a wheel or checkout is installed by the developer (the same
    `pip install` line as CI), so the hooks call that `remedy` (`language: system`).
    """
    hooks = (("remedy-validate", "remedy validate"), ("remedy-test", "remedy test"))
    files = "files: (^|/)(remediations/.*\\.ya?ml|remedy\\.toml)$"
    if source.kind == "git":
        lines = ["repos:", f"  - repo: {source.repo_url}", f"    rev: {source.rev}", "    hooks:"]
        lines += [f"      - id: {hook}" for hook, _ in hooks]
        return "\n".join(lines) + "\n"
    lines = ["repos:", "  - repo: local", "    hooks:"]
    for hook, entry in hooks:
        lines += [f"      - id: {hook}", f"        name: {entry}", f"        entry: {entry}"]
        if source.kind == "index":
            lines += ["        language: python",
                      f"        additional_dependencies: [{json.dumps(source.requirement)}]"]
        else:
            lines += [f"        language: system  # remedy installed with: pip install {source.pip_argument()}"]
        lines += ["        pass_filenames: false", f"        {files}"]
    return "\n".join(lines) + "\n"
