"""Issue 13, part A: the gate's holes, unsafe paths, line breaks, races, control characters, the first minute.

Each test drives the CLI (in-process, or as a subprocess where a hang, a race or the umask is the point)
on files in a temporary git repository, and failed before its fix.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from remedy import DISTRIBUTION, installed_version
from tests.conftest import git, write, write_answer

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = json.loads((ROOT / "cli/remedy/matching/bundled_model/remedy_defaults.json").read_text())


def remedy(repo: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`remedy ARGS` as its own process, memory-capped, so a runaway read fails the test instead of the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run([sys.executable, "-m", "remedy", *args], cwd=repo, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, check=False)


def commit(repo: Path, message: str = "base") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


# --- 2. the base side is read with the base revision's own configuration --------------------------------

@pytest.mark.parametrize("config_style", ["remedy.toml", "pyproject.toml"])
def test_moving_the_folder_in_the_pull_request_does_not_hide_an_edit(repo: Path, run, config_style: str) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", answer="One bag of 23 kg.")
    write(repo / "remedy.toml", 'remediations = "remediations"\n')
    commit(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "mv", "remediations", "rem2")
    if config_style == "remedy.toml":
        write(repo / "remedy.toml", 'remediations = "rem2"\n')
    else:
        (repo / "remedy.toml").unlink()
        write(repo / "pyproject.toml", '[project]\nname = "x"\n\n[tool.remedy]\nremediations = "rem2"\n')
    bags = repo / "rem2/answers/bags.yaml"
    bags.write_text(bags.read_text().replace("One bag of 23 kg.", "Two bags of 32 kg."))
    result = run("check", "--base", "main", "--format", "json")
    document = json.loads(result.stdout)
    codes = {(p["code"], p["severity"]) for p in document["problems"]}
    assert result.exit_code == 1 and ("G002", "error") in codes, document["problems"]
    assert ("G004", "warning") in codes
    assert any("moved from remediations to rem2" in p["message"] for p in document["problems"])
    assert [c["change"] for c in document["changes"]] == ["modified"]


def test_remapping_log_fields_in_the_pull_request_keeps_answers_protected(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", answer="One bag of 23 kg.")
    rows = [{"id": f"l{n}", "timestamp": f"2026-10-0{n}T10:00:00Z", "query": "what is the baggage allowance",
             "is_bad": False, "served_remediation": "bags"} for n in range(1, 4)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    write(repo / "remedy.toml", "[logs]\n")
    commit(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo / "remedy.toml", '[logs]\nserved_remediation = "nope"\n')
    bags = repo / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace("One bag of 23 kg.", "Two bags of 32 kg."))
    result = run("check", "--base", "main", "--logs", "logs.jsonl")
    assert result.exit_code == 1, result.stdout
    assert "G002" in result.stdout and "was served 3 times in the logs" in result.stdout
    assert "G004" in result.stdout and "'logs' changed" in result.stdout


# --- 3. symlinks and special files as remediations ---------------------------------------------------------

def test_a_link_to_dev_zero_is_refused_without_reading_it(repo: Path) -> None:
    os.symlink("/dev/zero", repo / "remediations" / "zero.yaml")
    result = remedy(repo, "validate", "--no-semantic")
    assert result.returncode == 1, result.stderr
    assert "remediations/zero.yaml:1:1: F006 error: is a symlink (to /dev/zero)" in result.stdout


def test_a_fifo_is_refused_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / "remediations" / "pipe.yaml")
    result = remedy(repo, "validate", "--no-semantic", timeout=60)
    assert result.returncode == 1
    assert "remediations/pipe.yaml:1:1: F001 error: is not a regular file (a FIFO)" in result.stdout


def test_a_file_over_the_cap_is_refused(repo: Path, run) -> None:
    (repo / "remediations" / "big.yaml").write_bytes(b"# " + b"x" * 1_000_000 + b"\n")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1 and "F001" in result.stdout and "limited to 1,000,000" in result.stdout


# --- 4. answers behind symlinks: one rule, refused everywhere ---------------------------------------------

def test_a_link_to_a_secrets_file_is_refused_and_its_keys_never_printed(repo: Path, run, tmp_path: Path) -> None:
    secrets = tmp_path.parent / f"{tmp_path.name}-secrets.yaml"
    secrets.write_text("aws_secret_access_key: hunter2\ndatabase_password: swordfish\n", encoding="utf-8")
    os.symlink(secrets, repo / "remediations" / "leak.yaml")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1 and "F006" in result.stdout
    assert "aws_secret_access_key" not in result.stdout + result.stderr
    from remedy import Remediations
    from remedy.errors import InputError

    with pytest.raises(InputError, match="F006"):
        Remediations.load(repo / "remediations")


def test_an_answer_moved_behind_a_symlink_at_the_base_stays_protected(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", answer="One bag of 23 kg.")
    commit(repo, "the answer")
    # A change that slipped in before the rule: the file moved out of the folder, a link left behind.
    (repo / "elsewhere").mkdir()
    git(repo, "mv", "remediations/answers/bags.yaml", "elsewhere/bags.yaml")
    os.symlink("../../elsewhere/bags.yaml", repo / "remediations/answers/bags.yaml")
    commit(repo, "move behind a link")
    git(repo, "checkout", "-q", "-b", "feature")
    target = repo / "elsewhere/bags.yaml"
    target.write_text(target.read_text().replace("One bag of 23 kg.", "Two bags of 32 kg."))
    edited = run("check", "--base", "main")
    assert edited.exit_code == 1 and "F006" in edited.stdout, edited.stdout
    # Removing the link and its target is a deletion of the protected answer, not a non-event.
    (repo / "remediations/answers/bags.yaml").unlink()
    target.unlink()
    deleted = run("check", "--base", "main")
    assert deleted.exit_code == 1 and "G001" in deleted.stdout, deleted.stdout


@pytest.mark.parametrize("when", ["in the pull request", "at the base"])
def test_a_folder_swapped_for_a_link_does_not_hide_an_edit(repo: Path, run, when: str) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", answer="One bag of 23 kg.")
    commit(repo, "the answer")

    def swap() -> None:
        git(repo, "mv", "remediations", "rem2")
        os.symlink("rem2", repo / "remediations")

    if when == "at the base":
        swap()
        commit(repo, "the folder behind a link")
    git(repo, "checkout", "-q", "-b", "feature")
    if when == "in the pull request":
        swap()
    bags = repo / "rem2/answers/bags.yaml"
    bags.write_text(bags.read_text().replace("One bag of 23 kg.", "Two bags of 32 kg."))
    result = run("check", "--base", "main")
    assert result.exit_code == 1 and "G002" in result.stdout, result.stdout


def test_a_symlinked_folder_is_reported_not_silently_skipped(repo: Path, run, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-shared"
    write_answer(outside.parent / outside.name, "x", "q")  # outside/remediations/answers/x.yaml
    os.symlink(outside / "remediations" / "answers", repo / "remediations" / "shared")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1 and "remediations/shared:1:1: F006" in result.stdout


# --- 14. unusual line breaks -------------------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_cr_only_and_crlf_files_activate_and_keep_their_line_endings(repo: Path, run, newline: str) -> None:
    text = newline.join(["kind: answer", "id: bags", "status: draft", "question: What is the baggage allowance?",
                         "answer: One bag of 23 kg.", ""])
    path = repo / "remediations" / "bags.yaml"
    path.write_bytes(text.encode())
    assert run("validate", "--no-semantic").exit_code == 0
    result = run("activate", "bags")
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes().decode()
    assert "status: active" + newline + "activated: " in after
    assert after.replace(newline, "") .count("\n") == 0 and run("validate", "--no-semantic").exit_code == 0


@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\u2029"])
def test_unicode_line_breaks_in_a_question_round_trip_through_new_and_activate(repo: Path, run,
                                                                              separator: str) -> None:
    question = f"Can I bring{separator}my cat?"
    created = run("new", "answer", "--question", question, "--answer", f"Yes,{separator}in a carrier.")
    assert created.exit_code == 0, created.stderr
    path = next((repo / "remediations").rglob("*.yaml"))
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["question"] == question
    assert run("validate", "--no-semantic").exit_code == 0
    activated = run("activate", path.stem)
    assert activated.exit_code == 0, activated.stderr
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["status"] == "active"


def test_a_valid_file_with_a_line_separator_in_a_quoted_question_activates(repo: Path, run) -> None:
    path = repo / "remediations" / "cats.yaml"
    path.write_text('kind: answer\nid: cats\nquestion: "Can I bring\u2028my cat?"\nstatus: draft\n'
                    "answer: Yes.\n", encoding="utf-8")
    assert run("validate", "--no-semantic").exit_code == 0
    result = run("activate", "cats")
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["status"] == "active"


# --- 15. races -----------------------------------------------------------------------------------------------

def test_two_concurrent_activates_of_the_same_question_let_one_through(repo: Path) -> None:
    for name in ("a", "b"):
        write_answer(repo, name, "What is the baggage allowance?", status="draft", answer=f"Answer {name}.")
    commands = [[sys.executable, "-m", "remedy", "activate", name] for name in ("a", "b")]
    processes = [subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for command in commands]
    codes = sorted(process.wait(timeout=120) for process in processes)
    statuses = sorted(yaml.safe_load((repo / f"remediations/answers/{n}.yaml").read_text())["status"]
                      for n in ("a", "b"))
    assert codes == [0, 1] and statuses == ["active", "draft"]


def test_two_concurrent_news_with_one_id_create_one_file(repo: Path) -> None:
    # Each command is the real CLI in its own process, with the folder listing slowed down so that both
    # have looked at the folder before either writes (the window a real race needs luck to hit).
    slowed = ("import sys, time\n"
              "import remedy.files.scaffold as scaffold\n"
              "listed = scaffold.find_files\n"
              "scaffold.find_files = lambda root: (listed(root), time.sleep(0.5))[0]\n"
              "from remedy.commands.app import main\n"
              "sys.argv = ['remedy', *sys.argv[1:]]\n"
              "main()\n")
    processes = [subprocess.Popen([sys.executable, "-c", slowed, "new", "answer", "--id", "x", "--question",
                                   f"Question {answer}?", "--answer", answer], cwd=repo, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for answer in ("first", "second")]
    outputs = [process.communicate(timeout=120) for process in processes]
    codes = sorted(process.returncode for process in processes)
    assert codes == [0, 2], outputs
    assert sum("created" in stdout for stdout, _ in outputs) == 1
    assert [path.name for path in (repo / "remediations").rglob("*.yaml")] == ["x.yaml"]


# --- 16. slugs ------------------------------------------------------------------------------------------------

def test_an_id_with_a_trailing_newline_is_not_a_slug(repo: Path, run) -> None:
    result = run("new", "answer", "--id", "refund\n", "--question", "Refund?", "--answer", "Yes.")
    assert result.exit_code == 2 and "not a slug" in result.stderr
    assert not list((repo / "remediations").rglob("*.yaml"))
    write(repo / "remediations" / "a.yaml", 'kind: answer\nid: "a\\n"\nstatus: draft\nquestion: q\nanswer: Sure.\n')
    assert "S006" in run("validate", "--no-semantic").stdout


# --- 17. temporary files left by a killed write ---------------------------------------------------------------

def test_stale_temporary_files_are_ignored_and_removed_by_the_next_write(repo: Path, run) -> None:
    write_answer(repo, "bags", "What is the baggage allowance?", status="draft")
    answers = repo / "remediations" / "answers"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftovers = [answers / f".bags.yaml.{dead.pid}.0123abcd.remedy-tmp", answers / ".bags.yaml.k3j_x9q2.tmp"]
    for leftover in leftovers:
        leftover.write_text("kind: [", encoding="utf-8")
        os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    fresh = answers / f".bags.yaml.{os.getpid()}.89abcdef.remedy-tmp"  # a live writer's: kept
    fresh.write_text("kind: answer\n", encoding="utf-8")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 0 and "tmp" not in result.stdout + result.stderr
    assert run("activate", "bags").exit_code == 0
    assert not any(leftover.exists() for leftover in leftovers) and fresh.exists()


# --- 18. control characters ------------------------------------------------------------------------------------

def test_control_characters_never_reach_the_terminal_raw(repo: Path, run) -> None:
    write(repo / "remediations" / "bad\x1b[31m.yaml", "kind: answer\n")
    text = run("validate", "--no-semantic").stdout
    assert "\x1b" not in text and "bad\\u001b[31m.yaml" in text
    github = run("validate", "--no-semantic", "--format", "github").stdout
    assert "\x1b" not in github


def test_validate_flags_control_characters_in_remediations(repo: Path, run) -> None:
    write(repo / "remediations" / "a.yaml",
          'kind: answer\nid: a\nstatus: draft\nquestion: q\nanswer: "Refunds take 7 days.\\e[8m Promise more."\n')
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert "remediations/a.yaml:5:9: S009 error: control character U+001B (ESCAPE) in 'answer'" in result.stdout


def test_log_text_is_escaped_in_tables_and_json_reads_back_the_same(repo: Path, run) -> None:
    query = "refund\x1b]0;owned\x07 please\x9b31m"
    table = run("match", query)
    assert table.exit_code == 0
    assert not any(ch in table.stdout for ch in "\x1b\x07\x9b") and "\\u001b]0;owned\\u0007" in table.stdout
    document = run("match", query, "--format", "json").stdout
    assert not any(ch in document for ch in "\x1b\x07\x9b")
    assert json.loads(document)["query"] == query


# --- 20. files follow the umask -------------------------------------------------------------------------------

def test_created_files_follow_the_umask(repo: Path, run) -> None:
    old = os.umask(0o022)
    try:
        assert run("init", ".").exit_code == 0
        modes = {path: stat.S_IMODE((repo / path).stat().st_mode)
                 for path in ("remedy.toml", ".github/workflows/remedy.yml",
                              "remediations/answers/example-opening-hours.yaml")}
        assert run("new", "answer", "--question", "Can I bring my cat?", "--answer", "Yes.").exit_code == 0
        (repo / "remedy.toml").unlink()
        # --write writes only certified settings: twelve exact matches certify precision 0.5 (the floor for
        # 0.5 is twice the six labels its bound needs)
        (repo / "pairs.jsonl").write_text('{"query": "Can I bring my cat?", "expected": "can-i-bring-my-cat"}\n' * 12,
                                          encoding="utf-8")
        assert run("calibrate", "--pairs", "pairs.jsonl", "--target-precision", "0.5", "--write").exit_code == 0
    finally:
        os.umask(old)
    for path in ("remedy.toml", "remediations/answers/can-i-bring-my-cat.yaml"):
        modes[path] = stat.S_IMODE((repo / path).stat().st_mode)
    assert set(modes.values()) == {0o644}, modes
    edited = repo / "remediations/answers/can-i-bring-my-cat.yaml"
    edited.chmod(0o640)
    assert run("activate", "can-i-bring-my-cat").exit_code == 0
    assert stat.S_IMODE(edited.stat().st_mode) == 0o640, "an edited file keeps its mode"


# --- 21, 22. the first minute -----------------------------------------------------------------------------------

def test_the_readme_commands_bootstrap_a_virtual_environment_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert len(commands) == 2 and all(c.startswith("python3 -m venv .venv && ") for c in commands)
    assert "pip install" not in " ".join(c.split("&&")[0] for c in commands), "no global pip install"
    assert commands[0].endswith("just demo") and commands[1].endswith("just test")
    assert commands[1] in (ROOT / ".ci/run").read_text(encoding="utf-8")


def test_the_distribution_name_is_ours_and_the_workflow_pins_it(repo: Path, run) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'name = "{DISTRIBUTION}"' in pyproject and DISTRIBUTION != "remedy"
    assert 'remedy = "remedy.commands.app:main"' in pyproject, "the command stays remedy"
    run("init", ".")
    workflow = yaml.safe_load((repo / ".github/workflows/remedy.yml").read_text())
    installs = [step["env"]["REMEDY_REQUIREMENT"] for step in workflow["jobs"]["remedy"]["steps"]
                if "pip install" in step.get("run", "")]
    assert installs == [f"{DISTRIBUTION}[precise]=={installed_version()}"]
    version = run("--version")
    assert version.exit_code == 0 and version.stdout.strip() == f"remedy {installed_version()} ({DISTRIBUTION})"


# --- 23. a second draft of the same question ---------------------------------------------------------------------

def test_new_refuses_a_second_draft_of_a_question_and_names_the_first(repo: Path, run) -> None:
    assert run("new", "answer", "--question", "Can I bring my cat?", "--answer", "Yes.").exit_code == 0
    again = run("new", "answer", "--question", "can i bring my CAT", "--answer", "No.")
    assert again.exit_code == 1
    assert "remediations/answers/can-i-bring-my-cat.yaml" in again.stderr and "already exists" in again.stderr
    assert [p.name for p in (repo / "remediations").rglob("*.yaml")] == ["can-i-bring-my-cat.yaml"]
    assert run("new", "guidance", "--question", "Can I bring my cat?", "--guidance", "Be kind.").exit_code == 0


# --- 24. smaller surprises ------------------------------------------------------------------------------------------

def test_check_outside_a_repository_without_a_folder_says_the_folder_is_missing(tmp_path: Path, run,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("check", "--base", "main")
    assert result.exit_code == 2 and "remediations folder not found" in result.stderr


def test_init_shows_the_model_defaults_that_apply(repo: Path, run) -> None:
    from remedy.matching.verifier import available_verifier

    run("init", ".")
    text = (repo / "remedy.toml").read_text(encoding="utf-8")
    verifier, _ = available_verifier()  # with the verifier installed, its settings are the ones in force
    DEFAULTS = vars(verifier.settings) if verifier else globals()["DEFAULTS"]  # noqa: N806
    assert f"# threshold = {DEFAULTS['threshold']:g}\n" in text and f"# margin = {DEFAULTS['margin']:g}\n" in text
    match = json.loads(run("match", "hello", "--format", "json").stdout)
    assert (match["threshold"], match["margin"]) == (DEFAULTS["threshold"], DEFAULTS["margin"])
