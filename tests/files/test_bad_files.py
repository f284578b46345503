"""Bad input files: each gets a message naming the file and line, the right code, exit 1 from validate,
and never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import write_answer

VALID = "kind: answer\nid: {stem}\nstatus: draft\nquestion: q {stem}\nanswer: yes\n"


@pytest.mark.parametrize(("name", "content", "code", "line", "words"), [
    ("tabs", "kind: answer\n\tid: tabs\n", "F002", 2, "tab character"),
    ("quote", 'kind: answer\nquestion: "unclosed\n', "F002", 3, "YAML syntax"),
    ("two-docs", "kind: answer\n---\nkind: answer\n", "F002", 2, "YAML syntax"),
    ("bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "F004", 1, "aliases"),
    ("list", "- kind: answer\n- id: list\n", "F003", 1, "a list"),
    ("scalar", "just text\n", "F003", 1, "a single value"),
    ("empty", "", "F003", 1, "empty"),
    ("blank", "\n  \n", "F003", 1, "empty"),
    ("latin1", "kind: answer\nquestion: caf\xe9\n".encode("latin-1"), "F001", 2, "not UTF-8"),
    ("huge", "kind: answer\nanswer: " + "x" * 10_000_000 + "\n", "F001", 1, "limited"),
])
def test_bad_file_is_reported_with_position(repo: Path, run, name: str, content: str | bytes, code: str,
                                            line: int, words: str) -> None:
    path = repo / "remediations" / f"{name}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    before = path.read_bytes()
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert f"remediations/{name}.yaml:{line}:" in result.stdout
    assert code in result.stdout and words in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert path.read_bytes() == before


def test_directory_named_like_a_file_and_symlink_loop(repo: Path, run) -> None:
    (repo / "remediations" / "folder.yaml").mkdir()
    os.symlink("loop-b.yaml", repo / "remediations" / "loop-a.yaml")
    os.symlink("loop-a.yaml", repo / "remediations" / "loop-b.yaml")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert "remediations/folder.yaml:1:1: F001 error: is a directory" in result.stdout
    assert "remediations/loop-a.yaml:1:1: F006 error: is a symlink" in result.stdout


def test_one_bad_file_does_not_hide_the_others(repo: Path, run) -> None:
    write_answer(repo, "good", "What is the baggage allowance?")
    (repo / "remediations" / "broken.yaml").write_text("kind: [\n", encoding="utf-8")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert "broken.yaml" in result.stdout and "good.yaml" not in result.stdout
    assert "2 files checked: 1 error, 1 warning" in result.stdout  # C002: no calibration yet


def test_missing_folder_and_bad_config_exit_2(repo: Path, run) -> None:
    result = run("--remediations", "nowhere", "validate")
    assert result.exit_code == 2
    assert "nowhere: remediations folder not found" in result.stderr
    (repo / "remedy.toml").write_text("threshhold = 0.8\n", encoding="utf-8")
    result = run("validate")
    assert result.exit_code == 2
    assert "unknown key 'threshhold' (did you mean 'threshold'?)" in result.stderr
    (repo / "remedy.toml").write_text("threshold = [\n", encoding="utf-8")
    result = run("validate")
    assert result.exit_code == 2 and "invalid TOML" in result.stderr
