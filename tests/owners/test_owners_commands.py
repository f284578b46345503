"""Owners from the CLI in a temporary git repository: the key, [owners] globs, CODEOWNERS, list, check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, write, write_answer

CONFIG = """\
[owners]
"**" = ["@skyway/support"]
"refunds/**" = ["@skyway/refunds", "ada@example.com"]
"refunds/legal-*.yaml" = ["@skyway/legal"]
"""


@pytest.fixture
def owned(repo: Path) -> Path:
    write(repo / "remedy.toml", CONFIG)
    folder = repo / "remediations"
    write_answer(repo, "bags", "What is the baggage allowance?", extra='owners: ["@ada", "@Ada", "@bob"]\n')
    write_answer(repo, "wifi", "Is there wifi on board?")
    for name in ("refund-cancelled", "legal-refund-claims"):
        text = (folder / "answers" / "wifi.yaml").read_text().replace("id: wifi", f"id: {name}")
        write(folder / "refunds" / f"{name}.yaml", text.replace("Is there wifi on board?", f"What about {name}?"))
    write_answer(repo, "nobody", "Who owns this one?", extra="owners: []\n")
    return repo


def owners_of(run, *args: str) -> dict[str, dict]:
    result = run("owners", "--format", "json", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)["remediations"]}


def test_owners_come_from_the_key_else_the_last_matching_glob(owned: Path, run) -> None:
    rows = owners_of(run)
    assert rows["bags"]["owners"] == ["@ada", "@bob"] and rows["bags"]["source"] == "file"  # own key wins, deduped
    assert rows["wifi"]["owners"] == ["@skyway/support"] and rows["wifi"]["pattern"] == "**"
    assert rows["refund-cancelled"]["owners"] == ["@skyway/refunds", "ada@example.com"]
    assert rows["legal-refund-claims"]["owners"] == ["@skyway/legal"]  # the later, narrower glob wins
    assert rows["nobody"]["owners"] == [] and rows["nobody"]["source"] == "file"  # [] overrides the default
    table = run("owners")
    assert '[owners] "refunds/**"' in table.stdout and "owners key" in table.stdout
    assert "5 remediations: 1 with their own owners, 3 from [owners], 1 without" in table.stdout
    assert run("owners", "--format", "markdown").stdout.startswith("| id | kind | status | owners | from | file |")
    assert run("owners", "--format", "csv").stdout.splitlines()[0] == "id,kind,status,owners,from,file"


def test_write_creates_the_block_and_is_idempotent(owned: Path, run) -> None:
    result = run("owners", "--write")
    assert result.exit_code == 0 and result.stdout == "created .github/CODEOWNERS (5 line(s) in the remedy block)\n"
    text = (owned / ".github/CODEOWNERS").read_text()
    assert text.splitlines()[2:] == [
        "/remediations/** @skyway/support",
        "/remediations/refunds/** @skyway/refunds ada@example.com",
        "/remediations/refunds/legal-*.yaml @skyway/legal",
        "/remediations/answers/bags.yaml @ada @bob",
        "/remediations/answers/nobody.yaml",
        "# END remedy owners"]
    before = (owned / ".github/CODEOWNERS").stat().st_mtime_ns
    again = run("owners", "--write")
    assert again.stdout.startswith("unchanged .github/CODEOWNERS")
    assert (owned / ".github/CODEOWNERS").stat().st_mtime_ns == before  # not even rewritten
    assert json.loads(run("owners", "--format", "json").stdout)["codeowners"]["state"] == "current"
    assert json.loads(run("owners", "--write", "--format", "json").stdout) == {
        "file": ".github/CODEOWNERS", "result": "unchanged", "entries": 5}


def test_write_keeps_hand_written_lines_byte_for_byte(owned: Path, run) -> None:
    above = "# Team rules\r\n*   @skyway/admins\r\n\r\n"
    below = "/docs/  @skyway/writers   # tabs\tand odd spacing kept\r\n/no-newline-at-end @x"
    stale = "# BEGIN remedy owners\r\n/remediations/old.yaml @gone\r\n# END remedy owners\r\n"
    path = write(owned / ".github/CODEOWNERS", "")
    path.write_bytes((above + stale + below).encode())
    assert run("owners", "--write").stdout.startswith("updated .github/CODEOWNERS")
    data = path.read_bytes().decode()
    assert data.startswith(above) and data.endswith(below) and "@gone" not in data
    assert "/remediations/answers/bags.yaml @ada @bob\r\n" in data  # the file's own line endings


def test_an_existing_root_codeowners_is_the_one_written(owned: Path, run) -> None:
    write(owned / "CODEOWNERS", "* @skyway/admins")
    run("owners", "--write")
    assert not (owned / ".github").exists()  # a new .github/CODEOWNERS would shadow the team's file
    text = (owned / "CODEOWNERS").read_text()
    assert text.startswith("* @skyway/admins\n\n# BEGIN remedy owners\n")


def test_validate_warns_when_the_block_is_stale(owned: Path, run) -> None:
    assert "O002" not in run("validate", "--no-semantic").stdout  # no block yet: remedy does not assume GitHub
    run("owners", "--write")
    assert "CODEOWNERS" not in run("validate", "--no-semantic").stdout  # (C002 may say: not calibrated)
    bags = owned / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace('"@bob"', '"@carol"'))
    result = run("validate", "--no-semantic", "--format", "json")
    assert result.exit_code == 0  # a warning
    problem = next(p for p in json.loads(result.stdout)["problems"] if p["code"] != "C002")
    assert (problem["file"], problem["line"], problem["code"], problem["severity"]) == (
        ".github/CODEOWNERS", 1, "O002", "warning")
    assert "remedy owners --write" in problem["message"]
    assert run("validate", "--no-semantic", "--strict").exit_code == 1
    # A new file in a folder with a glob needs no new line: the glob covers it on GitHub too.
    run("owners", "--write")
    write_answer(owned, "seats", "Can I choose my seat?")
    assert "O002" not in run("validate", "--no-semantic").stdout
    # Moving a file that has its own owners makes the block stale.
    bags.rename(owned / "remediations/bags.yaml")
    assert "O002" in run("validate", "--no-semantic").stdout


def test_a_broken_block_is_reported_not_overwritten(owned: Path, run) -> None:
    path = write(owned / ".github/CODEOWNERS", "* @x\n# BEGIN remedy owners\n/a @y\n")
    result = run("owners", "--write")
    assert result.exit_code == 2 and ".github/CODEOWNERS:2:" in result.stderr and "END remedy owners" in result.stderr
    assert path.read_text() == "* @x\n# BEGIN remedy owners\n/a @y\n"
    assert "O002" in run("validate", "--no-semantic").stdout


def test_an_unwritable_codeowners_is_a_clear_error(owned: Path, run) -> None:
    write(owned / ".github", "a file where the folder should be\n")
    result = run("owners", "--write")
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_paths_are_escaped_for_codeowners(repo: Path, run) -> None:
    write(repo / "remedy.toml", 'remediations = "help desk#1"\n'
                                '[owners]\n"Refund policies/**" = ["@skyway/refunds"]\n"*.yaml" = ["@x"]\n')
    folder = repo / "help desk#1" / "Refund policies" / "a[1]#"
    write(folder / "money-back.yaml", "kind: answer\nid: money-back\nstatus: draft\nquestion: money back?\n"
                                      "answer: See https://x.example/r\nowners: ['@ada']\n")
    run("owners", "--write")
    lines = (repo / ".github/CODEOWNERS").read_text().splitlines()
    assert lines[2:5] == ["/help\\ desk?1/Refund\\ policies/** @skyway/refunds",
                          "/help\\ desk?1/**/*.yaml @x",
                          "/help\\ desk?1/Refund\\ policies/a?1??/money-back.yaml @ada"]
    rows = json.loads(run("owners", "--format", "json").stdout)["remediations"]
    assert rows[0]["owners"] == ["@ada"] and rows[0]["source"] == "file"


def test_list_filters_by_owner(owned: Path, run) -> None:
    def ids(*args: str) -> list[str]:
        return [row["id"] for row in json.loads(run("list", "--format", "json", *args).stdout)["remediations"]]

    assert ids("--owner", "@ada") == ["bags"]
    assert ids("--owner", "ADA") == ["bags"]  # without @, any case
    assert ids("--owner", "@skyway/refunds") == ["refund-cancelled"]
    assert ids("--owner", "Ada@Example.com") == ["refund-cancelled"]
    assert ids("--owner", "@nobody-at-all") == []
    assert "@skyway/support" in run("list").stdout  # the owners column


def test_bad_handles_are_errors_with_a_clear_code(owned: Path, run) -> None:
    bags = owned / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace('"@ada", "@Ada", "@bob"', '"ada", "@ada @bob", "@ok"'))
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert "answers/bags.yaml:7:10: O001 error: 'ada' is not an owner" in result.stdout
    assert "did you mean '@ada'?" in result.stdout and "holds 2 owners in one item" in result.stdout
    refused = run("owners", "--write")
    assert refused.exit_code == 2 and "bags.yaml:7:10" in refused.stderr
    assert not (owned / ".github").exists()


@pytest.mark.parametrize(("config", "message"), [
    ('[owners]\n"refunds/**" = "@ada"\n', 'owners."refunds/**" must be a list of owners (write ["@ada"])'),
    ('[owners]\n"refunds/**" = ["ada"]\n', "did you mean '@ada'?"),
    ('[owners]\n"!refunds/**" = ["@ada"]\n', "CODEOWNERS has no negation"),
    ('[owners]\n"refunds/[ab]*" = ["@ada"]\n', "does not support"),
    ('[owners]\n"../elsewhere/**" = ["@ada"]\n', "leaves the remediations folder"),
    ('owners = ["@ada"]\n', "'owners' must be a table of glob = list of owners"),
])
def test_bad_owner_config_exits_2_naming_file_and_key(repo: Path, run, config: str, message: str) -> None:
    write(repo / "remedy.toml", config)
    result = run("owners")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"remedy: {repo / 'remedy.toml'}") and message in result.stderr


def test_nothing_is_written_where_nobody_owns_anything(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?")
    assert run("owners", "--write").stdout == "no owners declared: nothing to write to CODEOWNERS\n"
    assert not (repo / ".github").exists()


def test_outside_git_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "remediations/a.yaml", "kind: answer\nid: a\nstatus: draft\nquestion: q\nanswer: Sure.\n"
                                            "owners: ['@ada']\n")
    assert run("owners").exit_code == 0
    result = run("owners", "--write")
    assert result.exit_code == 2 and "not in a git repository" in result.stderr


def test_check_names_the_owners_to_ask(owned: Path, run) -> None:
    git(owned, "add", ".")
    git(owned, "commit", "-q", "-m", "base")
    git(owned, "checkout", "-q", "-b", "feature")
    bags = owned / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace('"@ada", "@Ada", "@bob"', '"@carol"'))
    wifi = owned / "remediations/answers/wifi.yaml"
    wifi.write_text(wifi.read_text().replace("status: active", "status: paused"))
    document = json.loads(run("check", "--base", "main", "--format", "json").stdout)
    changes = {change["id"]: change for change in document["changes"]}
    assert changes["bags"]["fields"] == ["owners"]
    assert (changes["bags"]["base_owners"], changes["bags"]["owners"]) == (["@ada", "@bob"], ["@carol"])
    assert changes["wifi"]["owners"] == ["@skyway/support"]
    markdown = run("check", "--base", "main", "--format", "markdown").stdout
    assert "owners to ask for review: `@ada`, `@bob`, `@carol`, `@skyway/support`" in markdown
    assert "| `bags` | modified | owners | Ada SME | `@ada`, `@bob`, `@carol` |" in markdown
    assert "| `wifi` | modified | status | Ada SME | `@skyway/support` |" in markdown
    assert "owners: @skyway/support" in run("check", "--base", "main").stdout


@pytest.mark.parametrize("owner", ["@alice\n", "@alice\n* @evil", "../../etc/passwd", "@alice # x", "* @evil"])
def test_an_owner_with_a_newline_or_codeowners_syntax_never_reaches_codeowners(repo: Path, run, owner: str) -> None:
    """`$` in the handle pattern once let '@alice\\n' through: a line break in the written CODEOWNERS block."""
    write_answer(repo, "bags", "What is the baggage allowance?", extra=f"owners: [{json.dumps(owner)}]\n")
    checked = run("validate", "--format", "json")
    assert checked.exit_code == 1
    assert [p["code"] for p in json.loads(checked.stdout)["problems"] if p["severity"] == "error"] == ["O001"]
    written = run("owners", "--write")
    assert written.exit_code == 2 and "cannot write CODEOWNERS" in written.stderr
    assert repr(owner) in written.stderr and "\n" not in written.stderr.rstrip("\n")
    assert not (repo / ".github" / "CODEOWNERS").exists()
