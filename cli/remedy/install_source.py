"""Where a project installs remedy from: the package index, a git URL at a tag, a wheel, or a checkout.

`remedy init --install-from SOURCE` writes it into the CI workflow and the pre-commit snippet, so both
install a remedy the team controls before (or instead of) a release on the package index. Every form
names the distribution (`remedy-sme`) so an extra can be added to it (`remedy-sme[serve] @ …`); the
name `remedy` on the index is an unrelated project and is never what a line installs.

docs/install.md is the user-facing story; this module is the one place its forms are parsed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from remedy.errors import UsageError

FORMS = ("git+https://HOST/ORG/REPO@TAG (a git URL at a tag or commit)", "PATH/remedy_sme-X.Y.Z-…whl (a wheel)",
         "https://…/remedy_sme-X.Y.Z-…whl (a wheel's URL)", "PATH (a checkout of remedy's source)")
_GIT = re.compile(r"^git\+(?P<url>(?:https|ssh|file)://[^@\s]+?(?:\.git)?)@(?P<ref>[^@/\s][^@\s]*)$")
_WHEEL_NAME = re.compile(r"^remedy_sme-[^-]+-.+\.whl$")


@dataclass(frozen=True)
class InstallSource:
    """How a fresh machine gets this version of remedy."""

    kind: str  # "index", "git", "wheel" or "checkout"
    requirement: str  # what `pip install` takes, e.g. `remedy-sme @ git+https://…@v0.1.0`
    repo_url: str | None = None  # git: the repository pre-commit clones
    rev: str | None = None  # git: the tag or commit

    def pip_argument(self) -> str:
        """The requirement quoted for a shell line (`pip install "…"`)."""
        return f'"{self.requirement}"'

    def describe(self) -> str:
        return {"index": f"{self.requirement} from the package index", "git": f"the git tag {self.rev} of "
                f"{self.repo_url}", "wheel": f"the wheel {self.requirement}",
                "checkout": f"the checkout {self.requirement}"}[self.kind]


def index_source(distribution: str, version: str) -> InstallSource:
    """The default: the released version on the package index."""
    return InstallSource("index", f"{distribution}=={version}")


def parse_install_source(value: str, project_dir: Path, distribution: str) -> InstallSource:
    """`--install-from VALUE` as an InstallSource; a path is checked relative to the project (where CI runs)."""
    text = value.strip()
    git = _GIT.match(text)
    if git:
        url = git["url"]
        return InstallSource("git", f"{distribution} @ git+{url}@{git['ref']}", repo_url=url, rev=git["ref"])
    if text.startswith("git+"):
        raise UsageError(f"--install-from {value}: a git URL needs the tag (or commit) to install, so every CI run "
                         "gets the same remedy: git+https://github.com/ORG/remedy@v0.1.0")
    if re.match(r"^https?://", text):
        if not _WHEEL_NAME.match(text.rsplit("/", 1)[-1]):
            raise UsageError(f"--install-from {value}: a URL must be a git URL (git+https://…@TAG) or a "
                             "remedy_sme-….whl wheel")
        return InstallSource("wheel", f"{distribution} @ {text}")
    path = Path(text)
    where = path if path.is_absolute() else project_dir / path
    if text.endswith(".whl"):
        if not _WHEEL_NAME.match(path.name):
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
            lines += ["        language: python", f'        additional_dependencies: ["{source.requirement}"]']
        else:
            lines += [f"        language: system  # remedy installed with: pip install {source.pip_argument()}"]
        lines += ["        pass_filenames: false", f"        {files}"]
    return "\n".join(lines) + "\n"
