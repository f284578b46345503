"""The CODEOWNERS block writer and the owner rules: properties over arbitrary surrounding content."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remedy.files.schema import json_schema
from remedy.owner_handles import glob_problem, normalize_owner, owner_problem
from remedy.owners.codeowners import BEGIN, END, BlockError, find_block, render_block, splice, split_lines

# Any bytes a team may have in its file, invalid UTF-8 included (read with surrogateescape).
content = st.binary(max_size=300).map(lambda data: data.decode("utf-8", "surrogateescape"))
entries = st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30)
                   .filter(lambda line: line.strip() not in (BEGIN, END)), max_size=6)


def no_markers(text: str) -> bool:
    return all(line.strip() not in (BEGIN, END) for line in split_lines(text))


def whole_lines(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


@given(content, content, entries, entries, st.sampled_from(["\n", "\r\n"]))
def test_a_block_is_replaced_and_everything_around_it_kept(before: str, after: str, old: list[str],
                                                           new: list[str], newline: str) -> None:
    if not (no_markers(before) and no_markers(after)):
        return
    before = whole_lines(before)
    text = before + render_block(old, newline) + after
    written = splice(text, new)
    assert written == before + render_block(new, newline) + after
    assert splice(written, new) == written  # idempotent
    begin, end = find_block(written) or (0, 0)
    assert [line.rstrip("\r\n") for line in split_lines(written)[begin + 2:end]] == new


@given(content, entries)
def test_a_file_without_a_block_gets_one_appended(text: str, new: list[str]) -> None:
    if not no_markers(text):
        return
    written = splice(text, new)
    assert written.startswith(text)  # the team's content is a byte-for-byte prefix
    assert splice(written, new) == written
    first_line = split_lines(text)[0] if text else ""
    assert written.count(BEGIN) == 1 and written.endswith(END + ("\r\n" if first_line.endswith("\r\n") else "\n"))
    assert written.encode("utf-8", "surrogateescape")  # every byte can be written back


@pytest.mark.parametrize(("text", "line"), [
    (f"x\n{BEGIN}\n/a @b\n", 2),
    (f"{END}\n", 1),
    (f"{BEGIN}\n{BEGIN}\n{END}\n", 2),
    (f"{BEGIN}\n{END}\n{END}\n", 3),
])
def test_broken_blocks_name_their_line(text: str, line: int) -> None:
    with pytest.raises(BlockError) as raised:
        find_block(text)
    assert raised.value.line == line


@pytest.mark.parametrize("owner", ["@ada", "@a", "@Ada-Lovelace", "@skyway/refunds", "@skyway/refunds_team.eu",
                                   "ada@example.com", "first.last+tag@mail.example.co.uk"])
def test_owners_that_codeowners_accepts(owner: str) -> None:
    assert owner_problem(owner) is None


@pytest.mark.parametrize(("owner", "hint"), [
    ("ada", "did you mean '@ada'?"),
    ("@@ada", "did you mean '@ada'?"),
    ("skyway/refunds", "did you mean '@skyway/refunds'?"),
    ("@ada @bob", "one per item"),
    ("@ada,@bob", "one per item"),
    (" @ada", "write '@ada'"),
    ("@-ada", "is not an owner"),
    ("@" + "a" * 40, "is not an owner"),
    ("@org/team/sub", "is not an owner"),
    ("ada@localhost", "is not an owner"),
    ("Ada Lovelace", "is not an owner"),
])
def test_owners_that_it_does_not(owner: str, hint: str) -> None:
    problem = owner_problem(owner)
    assert problem is not None and hint in problem


def test_command_line_handles_compare_without_case_or_at() -> None:
    assert normalize_owner("Ada") == normalize_owner("@ada") == "@ada"
    assert normalize_owner("Ada@Example.com") == "ada@example.com"


@pytest.mark.parametrize(("pattern", "ok"), [("refunds/**", True), ("*.yaml", True), ("/a b/?x", True),
                                             ("", False), ("/", False), ("!x", False), ("#x", False), ("a[0-9]", False),
                                             ("a\\ b", False), ("../x", False), (" x", False)])
def test_globs_are_limited_to_what_codeowners_understands(pattern: str, ok: bool) -> None:
    assert (glob_problem(pattern) is None) == ok


def test_the_json_schema_takes_the_same_owners() -> None:
    answer = next(v["then"] for v in json_schema()["allOf"] if v["if"]["properties"]["kind"]["const"] == "answer")
    items = answer["properties"]["owners"]["items"]
    for owner in ("@ada", "@skyway/refunds", "ada@example.com", "ada", "@ada @bob", "@org/team/sub"):
        assert (re.search(items["pattern"], owner) is not None) == (owner_problem(owner) is None), owner


GLOBS = ["**", "*", "*.yaml", "refunds", "refunds/", "refunds/**", "/refunds/*.yaml", "refunds/legal-*.yaml",
         "**/legal", "a b/**", "answers/?ags.yaml", "/top.yaml", "top.yaml"]
PATHS = ["top.yaml", "refunds/a.yaml", "refunds/legal/b.yaml", "x/refunds/c.yaml", "answers/bags.yaml",
         "legal/d.yaml", "x/legal/e.yaml", "a b/f.yaml", "refunds/legal-claims.yaml", "x/top.yaml"]


@pytest.mark.parametrize("folder", ["remediations", "help/desk", ""])
@pytest.mark.parametrize("glob", GLOBS)
def test_a_glob_means_the_same_in_codeowners_as_in_remedy(tmp_path, folder: str, glob: str) -> None:
    """The CODEOWNERS line of a glob (anchored at the repository root) matches exactly the files the
    glob matches inside the folder, read with the same gitignore rules GitHub applies."""
    from pathspec import GitIgnoreSpec

    from remedy.config import Config
    from remedy.owners.codeowners import block_entries

    (tmp_path / ".git").mkdir()
    config = Config(root=tmp_path, file=None, remediations_dir=tmp_path / folder, owners={glob: ("@x",)})
    line = block_entries(config, [], tmp_path)[0]
    pattern = line[:-len(" @x")]
    in_remedy = GitIgnoreSpec.from_lines([glob])
    in_codeowners = GitIgnoreSpec.from_lines([pattern])
    for path in PATHS:
        full = f"{folder}/{path}" if folder else path
        assert in_codeowners.match_file(full) == in_remedy.match_file(path), (pattern, path)
    if folder:  # and nothing outside the folder
        assert not any(in_codeowners.match_file(f"elsewhere/{path}") for path in PATHS), pattern
