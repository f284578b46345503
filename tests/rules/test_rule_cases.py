"""Every rule against the cases in cases.yaml: exactly the expected codes at the expected lines."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from remedy.config import Config
from remedy.files.folder import load_folder
from remedy.rules.context import RuleContext
from remedy.rules.registry import ALL_RULES, run_rules

CASES = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))


def _cases() -> list:
    return [pytest.param(code, case, id=f"{code}-{case['name']}") for code, cases in CASES.items() for case in cases]


@pytest.mark.parametrize(("code", "case"), _cases())
def test_rule_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, case: dict) -> None:
    monkeypatch.chdir(tmp_path)
    for name, text in case["files"].items():
        # triage/<id>.yaml and topics/<id>.yaml go beside the remediations, the rest into the folder
        path = tmp_path / name if name.startswith(("triage/", "topics/")) else tmp_path / "remediations" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{long}", "word " * 300), encoding="utf-8")
    folder = load_folder(tmp_path / "remediations")
    context = RuleContext(folder=folder, config=Config(root=tmp_path, file=None, remediations_dir=folder.root),
                          today=datetime.date(2026, 11, 23))
    problems = [p for p in run_rules(context) if p.code == code]
    assert sorted([p.code, p.line] for p in problems) == sorted(case["expect"]), problems
    if "message" in case:
        assert case["message"] in problems[0].message


def test_every_rule_has_cases_and_documentation() -> None:
    documented = {rule.CODE for rule in ALL_RULES}
    elsewhere = {"F001", "F002", "F003", "F004",  # tests/files/test_bad_files.py
                 "F006",  # tests/reliability/test_files_and_gate.py (needs symlinks on disk)
                 "M001", "M002", "M003", "C001",  # tests/matching/test_matching_commands.py (need the model)
                 "C003",  # tests/matching/test_verifier.py (with and without the verifier installed)
                 "O002",  # tests/owners/test_owners_commands.py (needs a git repository)
                 "G001", "G002", "G003", "G004"}  # tests/gate/ (compare a change with its base revision)
    assert documented - elsewhere <= set(CASES)
    for rule in ALL_RULES:
        assert rule.__doc__ and "Bad" in rule.__doc__ and "Good" in rule.__doc__, rule.CODE
        assert rule.SEVERITY in ("error", "warning")
    assert len(documented) == len(ALL_RULES), "rule codes must be unique"
