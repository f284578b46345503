"""Reading the remediations at a base revision straight from git, and comparing them with the working tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from remedy.config import Config
from remedy.errors import UsageError
from remedy.files.folder import Folder, load_folder
from remedy.gate.base_config import BaseConfig
from remedy.gate.changes import Change, compare
from remedy.gate.git_revision import folder_at
from remedy.git import repository_root, resolve_revision
from remedy.problems import Problem
from remedy.rules import gate_answer_deleted, gate_answer_rewritten
from remedy.rules.context import GateContext
from remedy.rules.registry import run_gate_rules
from tests.conftest import git, write_answer


def forbidden_edits(changes: list[Change], preventions: dict[str, int] | None) -> list[Problem]:
    """What G001 and G002 find in `changes` (the folders themselves are not looked at by these two)."""
    folder = Folder(root=Path.cwd())
    config = Config(root=Path.cwd(), file=None, remediations_dir=Path.cwd())
    context = GateContext(base=folder, current=folder, changes=changes, base_config=BaseConfig(config, "remedy.toml"),
                          config=config, preventions=preventions, semantic=False)
    return run_gate_rules(context, (gate_answer_deleted, gate_answer_rewritten))


@pytest.fixture
def base(repo: Path) -> Path:
    """main with three answers: one active, one paused, one draft never activated."""
    write_answer(repo, "bags", "What is the baggage allowance?", extra="activated: 2026-09-01T10:00:00Z\n")
    write_answer(repo, "pets", "Can I bring my dog?", status="paused",
                 extra="activated: 2026-09-01T10:00:00Z\n")
    write_answer(repo, "wifi", "Is there wifi on board?", status="draft")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def test_folder_at_reads_the_committed_files_without_touching_the_tree(base: Path) -> None:
    (base / "remediations/answers/bags.yaml").unlink()
    before = sorted(p.name for p in (base / "remediations").rglob("*"))
    folder = folder_at(base, resolve_revision(base, "main"), base / "remediations")
    assert sorted(r.id for r in folder.remediations) == ["bags", "pets", "wifi"]
    assert sorted(p.name for p in (base / "remediations").rglob("*")) == before
    assert git(base, "status", "--porcelain").strip() == "D remediations/answers/bags.yaml"


def test_rename_is_not_a_deletion(base: Path) -> None:
    (base / "remediations/answers/bags.yaml").rename(base / "remediations/bags.yaml")
    changes = compare(folder_at(base, resolve_revision(base, "main"), base / "remediations"),
                      load_folder(base / "remediations"))
    bags = next(c for c in changes if c.id == "bags")
    assert bags.what == "unchanged" and bags.moved
    assert list(forbidden_edits(changes, None)) == []


def test_deleting_or_rewriting_an_ever_active_answer_is_forbidden(base: Path) -> None:
    (base / "remediations/answers/bags.yaml").unlink()
    pets = base / "remediations/answers/pets.yaml"
    pets.write_text(pets.read_text().replace("Can I bring my dog?", "Can I bring my cat?"))
    wifi = base / "remediations/answers/wifi.yaml"
    wifi.write_text(wifi.read_text().replace("Is there wifi on board?", "Is there internet on board?"))
    changes = compare(folder_at(base, resolve_revision(base, "main"), base / "remediations"),
                      load_folder(base / "remediations"))
    problems = list(forbidden_edits(changes, None))
    assert [(p.code, p.file) for p in problems] == [("G001", "remediations/answers/bags.yaml"),
                                                    ("G002", "remediations/answers/pets.yaml")]
    assert "remedy new answer --from pets" in problems[1].message and problems[1].line == 4
    # With logs, only an answer that really prevented failures is protected.
    assert [p.code for p in forbidden_edits(changes, {"pets": 3})] == ["G002"]
    assert "was served 3 times in the logs" in next(iter(forbidden_edits(changes, {"pets": 3}))).message


def test_status_changes_are_allowed(base: Path) -> None:
    bags = base / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace("status: active", "status: paused"))
    changes = compare(folder_at(base, resolve_revision(base, "main"), base / "remediations"),
                      load_folder(base / "remediations"))
    assert next(c for c in changes if c.id == "bags").fields == ("status",)
    assert list(forbidden_edits(changes, None)) == []


def test_bad_refs_and_no_repository(base: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.raises(UsageError, match="'nope' does not exist"):
        resolve_revision(base, "nope")
    outside = tmp_path_factory.mktemp("plain")
    assert repository_root(outside) is None  # `remedy check` says so: tests/gate/test_check_command.py


def test_shallow_clone_without_the_base(base: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    git(base, "checkout", "-q", "main")
    for n in range(2):
        write_answer(base, f"extra-{n}", f"Extra question number {n}?")
        git(base, "add", ".")
        git(base, "commit", "-q", "-m", f"extra {n}")
    first = git(base, "rev-list", "--max-parents=0", "HEAD").strip()
    clone = tmp_path_factory.mktemp("shallow") / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{base}", str(clone)], check=True,
                   env={**os.environ})
    with pytest.raises(UsageError, match="shallow clone"):
        resolve_revision(clone, first)


def test_invalid_at_base_but_fixed_now_and_binary_files(base: Path) -> None:
    broken = base / "remediations/answers/broken.yaml"
    broken.write_text("kind: answer\nid: broken\nstatus: [\n")
    (base / "remediations/answers/blob.yaml").write_bytes(b"\x00\xff\xfe binary")
    git(base, "add", ".")
    git(base, "commit", "-q", "-m", "broken things")
    at_commit = folder_at(base, resolve_revision(base, "HEAD"), base / "remediations")
    assert {p.code for p in at_commit.file_problems} == {"F001", "F002"}
    assert all("@" in p.file for p in at_commit.file_problems), "base problems name the revision"


def test_the_base_is_parsed_and_checked_like_the_working_tree(base: Path) -> None:
    # One reader for both sides: the same bytes give the same problems, only named with the revision.
    (base / "remediations/answers/broken.yaml").write_text("kind: answer\nid: broken\nstatus: [\n")
    (base / "remediations/answers/latin1.yaml").write_bytes("id: caf\xe9\n".encode("latin-1"))
    (base / "remediations/answers/anchors.yaml").write_text("a: &x 1\nb: *x\n")
    (base / "remediations/answers/big.yaml").write_text("# " + "x" * 1_000_001 + "\n")
    git(base, "add", ".")
    git(base, "commit", "-q", "-m", "bad files")
    commit = resolve_revision(base, "HEAD")
    now, then = load_folder(base / "remediations"), folder_at(base, commit, base / "remediations")
    assert len(now.file_problems) == 4
    assert [(p.file + f"@{commit[:8]}", p.line, p.code, p.message) for p in now.file_problems] == \
        [(p.file, p.line, p.code, p.message) for p in then.file_problems]
    assert sorted(r.id for r in now.remediations) == sorted(r.id for r in then.remediations)


def test_one_error_policy_for_git(base: Path, tmp_path_factory: pytest.TempPathFactory,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from remedy.files.git_history import folder_history
    from remedy.git import git_output, head_commit, run_git

    assert head_commit(base) == git(base, "rev-parse", "HEAD").strip()
    assert folder_history(base / "remediations"), "committed files have a history"
    with pytest.raises(UsageError, match="git cat-file --batch failed"):
        run_git(base, "cat-file", "--batch", "--no-such-option")
    assert git_output(base, "cat-file", "--no-such-option") is None
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("no-git")))  # git is not installed
    assert head_commit(base) is None and folder_history(base / "remediations") == {}
    with pytest.raises(UsageError, match="cannot run git"):
        resolve_revision(base, "main")


def test_repository_root_of_a_worktree_and_of_a_relative_path(base: Path, tmp_path_factory: pytest.TempPathFactory,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    worktree = tmp_path_factory.mktemp("worktrees") / "other"
    git(base, "worktree", "add", "-q", str(worktree), "main")
    assert (worktree / ".git").is_file()
    assert repository_root(worktree / "remediations" / "answers") == worktree
    monkeypatch.chdir(base / "remediations")
    assert repository_root(Path("answers")) == base
