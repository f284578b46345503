"""Issue 35 (hardening round four): remediation files, outputs and caches that are wrong or hostile.

Each test drives the CLI on files in a temporary git repository, and failed before the fix it is named
after: an impossible date was "internal error: ValueError" (exit 3), an output could replace an input,
a broken cache or model file ended a command with exit 3, CSV cells slipped past the formula guard.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_answer

QUESTION = "How do I reset my password?"


def _remedy(repo: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "remedy", *args], cwd=repo, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


# --- item 6: an impossible date in a remediation file -------------------------------------------------


@pytest.mark.parametrize("line, field, column", [("created: 2026-02-30", "created", 10),
                                                  ("review_by: 0000-01-01", "review_by", 12),
                                                  ("activated: 2026-02-30T10:00:00Z", "activated", 12),
                                                  ("updated: 2026-13-01 10:00:00", "updated", 10)])
def test_an_impossible_date_is_a_validation_error_naming_file_line_and_field(repo: Path, run, line: str,
                                                                              field: str, column: int) -> None:
    write_answer(repo, "reset", QUESTION, extra=line + "\n")
    result = run("validate")
    assert result.exit_code == 1, result.stderr + result.stdout
    assert f"remediations/answers/reset.yaml:7:{column}: S003 error: '{field}' must be a date" in result.stdout
    assert "internal error" not in result.stderr + result.stdout
    for args in (["list"], ["match", QUESTION]):
        result = run(*args)
        assert result.exit_code == 0 and "internal error" not in result.stderr, (args, result.stderr)


def test_serve_refuses_a_folder_with_an_impossible_date_with_exit_2(repo: Path) -> None:
    write_answer(repo, "reset", QUESTION, extra="activated: 2026-02-30T10:00:00Z\n")
    result = _remedy(repo, "serve", "--port", "0")
    assert result.returncode == 2, result.stderr
    assert "remediations/answers/reset.yaml:7:12: S003 'activated' must be a date" in result.stderr


# --- item 7: an output over a file the command reads --------------------------------------------------


@pytest.fixture
def project(repo: Path) -> Path:
    write_answer(repo, "reset", QUESTION)
    (repo / "logs.jsonl").write_text('{"id": "1", "timestamp": "2026-10-01T10:00:00Z", "query": "reset my '
                                     'password", "is_bad": true}\n', encoding="utf-8")
    return repo


OUTPUT_COMMANDS = {
    "report": ["report", "--logs", "logs.jsonl", "--out"],
    "report json": ["report", "--logs", "logs.jsonl", "--format", "json", "--out"],
    "coverage": ["coverage", "--logs", "logs.jsonl", "--attributions"],
    "calibrate": ["calibrate", "--sample", "5", "--logs", "logs.jsonl", "--out"],
}
TARGETS = ["remediations/answers/reset.yaml", "./remediations/answers/new.yaml", "remediations/report.jsonl",
           "remedy.toml", "triage/issue.yaml", ".remedy/x.jsonl", ".git/config", "LINK"]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
@pytest.mark.parametrize("target", TARGETS)
def test_no_output_lands_on_a_file_the_project_reads(project: Path, run, command: str, target: str) -> None:
    (project / "remedy.toml").write_text('remediations = "remediations"\n', encoding="utf-8")
    (project / "triage").mkdir()
    (project / "triage" / "issue.yaml").write_text("issue: x\n", encoding="utf-8")
    (project / "LINK").symlink_to(project / "remediations" / "answers" / "reset.yaml")
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file() and ".git" not in path.parts}
    result = run(*OUTPUT_COMMANDS[command], target)
    assert result.exit_code == 2, (command, target, result.stderr)
    assert "which remedy reads" in result.stderr or "inputs are never written" in result.stderr or \
        "use a .jsonl" in result.stderr, result.stderr
    after = {path: path.read_bytes() for path in project.rglob("*") if path.is_file() and ".git" not in path.parts}
    assert after == before


def test_model_adapt_out_holding_the_remediations_is_refused(project: Path, run) -> None:
    result = run("model", "adapt", "--logs", str(project / "logs.jsonl"), "--out", str(project / "remediations"))
    assert result.exit_code == 2 and "the remediations folder" in result.stderr, result.stderr
    assert (project / "remediations/answers/reset.yaml").exists()


def test_outputs_beside_the_project_files_are_still_written(project: Path, run) -> None:
    result = run("report", "--logs", "logs.jsonl", "--out", "report.html")
    assert result.exit_code == 0, result.stderr
    assert (project / "report.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


# --- caches: FIFOs, a file where the folder should be, a tampered printed queue ------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def analysed(project: Path) -> Path:
    """A project whose caches were all written once (logs, embeddings, decisions, topics, printed queue)."""
    rows = [{"id": str(i), "timestamp": f"2026-10-0{1 + i % 5}T10:00:00Z", "query": query, "is_bad": True}
            for i, query in enumerate(["reset my password", "how to reset password", "cancel my plan",
                                       "cancel subscription", "where is my invoice", "download an invoice"] * 3)]
    (project / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert _remedy(project, "issues", "--logs", "logs.jsonl").returncode == 0  # writes every cache
    return project


def test_a_fifo_in_place_of_any_cache_file_is_rebuilt_not_waited_for(analysed: Path, tmp_path: Path) -> None:
    cache = analysed / ".remedy"
    saved = tmp_path / "saved-cache"
    shutil.copytree(cache, saved)
    kinds: dict[tuple[str, str], Path] = {}  # one file of each kind: folder and file type
    for path in sorted(saved.rglob("*")):
        if path.is_file() and path.name != ".gitignore":
            relative = path.relative_to(saved)
            kinds.setdefault((relative.parts[0], "".join(path.suffixes[-2:])), relative)
    assert {folder for folder, _ in kinds} >= {"decisions", "embeddings", "logs", "topics", "printed-queue.json"}
    for relative in kinds.values():
        shutil.rmtree(cache)
        shutil.copytree(saved, cache)
        (cache / relative).unlink()
        os.mkfifo(cache / relative)
        result = _remedy(analysed, "issues", "--logs", "logs.jsonl", timeout=90)  # a blocked read: TimeoutExpired
        assert result.returncode == 0, (relative, result.stderr)
        assert "Traceback" not in result.stderr


def test_a_file_where_the_cache_folder_should_be_costs_the_cache_only(analysed: Path) -> None:
    shutil.rmtree(analysed / ".remedy")
    (analysed / ".remedy").write_text("not a folder\n", encoding="utf-8")
    for command in (["issues", "--logs", "logs.jsonl"], ["report", "--logs", "logs.jsonl", "--out", "report.html"]):
        result = _remedy(analysed, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr and "cannot write the" in result.stderr
        if command[0] == "issues":  # the queue is printed, and the command succeeds without its cache
            assert "the queue's ranks were not saved" in result.stderr and result.stdout.strip()


@pytest.mark.parametrize("tamper, field", [
    (lambda d: d["options"].update(half_life="nan"), "options.half_life"),
    (lambda d: d["options"].update(half_life=-5), "options.half_life"),
    (lambda d: d["options"].update(primary_issue=3), "options.primary_issue"),
    (lambda d: d["options"].update(assignee=["ada"]), "options.assignee"),
    (lambda d: d["options"].update(states="open"), "options.states"),
    (lambda d: d.update(ranks=[[1, 2]]), "ranks"),
    (lambda d: d.update(ranks=[["1", "x", "q"]]), "ranks"),
])
def test_a_tampered_printed_queue_is_ignored_with_a_warning(analysed: Path, tamper, field: str) -> None:
    path = analysed / ".remedy" / "printed-queue.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    tamper(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    result = _remedy(analysed, "triage", "1", "--wont-fix", "--logs", "logs.jsonl")
    assert result.returncode == 2, result.stderr
    assert f"printed-queue.json: not what `remedy issues` writes ({field}" in result.stderr
    assert "run `remedy issues --logs …` first" in result.stderr and "internal error" not in result.stderr
    assert not (analysed / "triage").exists()
    if field == "options.half_life":  # printed again, the queue is usable again
        assert _remedy(analysed, "issues", "--logs", "logs.jsonl").returncode == 0
        assert _remedy(analysed, "issue", "1", "--logs", "logs.jsonl").returncode == 0


# --- a broken verifier beside REMEDY_VERIFIER_MODEL ---------------------------------------------------

TINY = ROOT / "fixtures" / "tiny_verifier"


def _broken_verifier(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "verifier"
    shutil.copytree(TINY, folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / "model.onnx"


@pytest.mark.parametrize("name, text, says", [
    ("remedy_verifier.json", '{"weight": 0.5,', "remedy_verifier.json: cannot read the verifier's settings"),
    ("remedy_verifier.json", '{"weight": "half", "screen": 0.5, "threshold": 0.8, "margin": 0.05, "dim": 8}',
     'remedy_verifier.json: "weight" must be a number'),
    ("remedy_verifier.json", '{"weight": 0.5, "screen": 0.5, "threshold": 0.8, "margin": 0.05, "dim": 16}',
     '"dim" in its remedy_verifier.json does not fit it'),
    ("remedy_verifier.json", '{"weight": 0.5, "screen": 0.5, "threshold": 0.8, "margin": 0.05, "dim": "8"}',
     'remedy_verifier.json: "dim" must be'),
    ("tokenizer.json", '{"version": "1.0", "model": 5}', "cannot load the verifier's tokenizer"),
    ("tokenizer.json", '{"version": "1.0", "trunc', "cannot load the verifier's tokenizer"),
    ("model.onnx", "not a model", "cannot load the verifier's model"),
])
def test_a_broken_verifier_file_is_exit_2_naming_it(project: Path, tmp_path: Path, name: str, text: str,
                                                    says: str) -> None:
    pytest.importorskip("onnxruntime")
    model = _broken_verifier(tmp_path, name, text)
    for command in (["match", QUESTION], ["coverage", "--logs", "logs.jsonl"]):
        result = _remedy(project, *command, env={"REMEDY_VERIFIER_MODEL": str(model)})
        assert result.returncode == 2, (command, result.stderr)
        assert says in result.stderr and "internal error" not in result.stderr, result.stderr


# --- CSV cells that a spreadsheet folds into a formula ------------------------------------------------


@pytest.mark.parametrize("payload", [" =1+1", "\u00a0=1+1", "＝1+1", "\u200b=1+1", "\ufeff=1+1", "﹢1+1", "＠SUM(1)",
                                     "\u200b\u200b -1+1", "\x0b=1+1"])
def test_csv_cells_that_fold_into_a_formula_are_neutralised(repo: Path, run, payload: str) -> None:
    from remedy.report.tables import csv_cell

    assert csv_cell(payload) == "'" + payload
    write_answer(repo, "reset", QUESTION, status="draft")
    rows = [{"id": f"l{i}", "timestamp": "2026-10-01T10:00:00Z", "query": payload + f" reset password {i}",
             "is_bad": True} for i in range(3)]
    (repo / "logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = run("issues", "--logs", "logs.jsonl", "--status", "all", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    cells = [cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row if "1+1" in cell or "SUM" in cell]
    assert cells and all(cell.startswith("'") for cell in cells), cells


def test_plain_text_and_numbers_stay_as_they_are() -> None:
    from remedy.report.tables import csv_cell

    for text in ("reset password", " reset", "\u200bhello", "＝", "-0.5", "1e-3"):
        if text == "＝":
            assert csv_cell(text) == "'＝"
        else:
            assert csv_cell(text) == text
