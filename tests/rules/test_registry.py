"""Every code remedy can report is a rule module in the registry, documented in docs/rules.md.

Codes are written once, as a rule module's CODE; everything else (the gate, messages) refers to that
constant. The codes the file and triage readers report while parsing are written in `remedy/file_codes.py`
instead, below both files/ and rules/ (the rules import the readers, so the readers cannot import the
rules), and their rule modules take CODE from there. A code written as a string literal anywhere else, or
a code named in the source or the docs that no rule declares, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from remedy.rules.docs import rules_markdown
from remedy.rules.registry import ALL_RULES

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "cli" / "remedy"
RULES_DIR = SOURCE / "rules"
FILE_CODES = SOURCE / "file_codes.py"
CODE_SHAPE = re.compile(r"^[A-Z][0-9]{3}$")
CODE_MENTION = re.compile(r"\b[A-Z][0-9]{3}\b")
REGISTERED = {rule.CODE for rule in ALL_RULES}


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant in a module (docstrings and f-string parts included), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def _modules() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def test_the_source_holds_the_registry_shape() -> None:
    # The scan below must see the codes the registry holds; if it saw none, it would pass vacuously.
    assert len(REGISTERED) == len(ALL_RULES) >= 34
    assert {"F001", "F006", "G001", "G004", "T001", "T002", "W003"} <= REGISTERED


def test_no_code_literal_outside_the_rule_modules() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in _modules()
             if RULES_DIR not in path.parents and path != FILE_CODES
             for line, text in _strings(path) if CODE_SHAPE.match(text)]
    assert not found, "use the rule module's CODE instead:\n" + "\n".join(found)


def test_file_codes_are_the_codes_of_registered_rules() -> None:
    from remedy import file_codes

    codes = [text for _, text in _strings(FILE_CODES) if CODE_SHAPE.match(text)]
    assert codes and set(codes) <= REGISTERED and len(codes) == len(set(codes))
    by_code = {rule.CODE: rule for rule in ALL_RULES}
    for name in dir(file_codes):
        if name.isupper():  # the rule that documents the code takes it from here, not from a literal of its own
            source = Path(by_code[getattr(file_codes, name)].__file__).read_text(encoding="utf-8")
            assert f"CODE = file_codes.{name}" in source, name


def test_each_rule_module_declares_only_its_own_code() -> None:
    for rule in ALL_RULES:
        path = Path(rule.__file__)
        codes = [text for _, text in _strings(path) if CODE_SHAPE.match(text)]
        from_file_codes = "CODE = file_codes." in path.read_text(encoding="utf-8")
        assert codes == ([] if from_file_codes else [rule.CODE]), f"{path.name}: {codes}"
    helpers = [path for path in RULES_DIR.glob("*.py") if path.stem not in {Path(r.__file__).stem for r in ALL_RULES}]
    for path in helpers:
        assert not [text for _, text in _strings(path) if CODE_SHAPE.match(text)], path.name


def test_every_code_named_in_the_source_and_docs_is_registered() -> None:
    named: dict[str, str] = {}
    for path in _modules():
        for line, text in _strings(path):
            for code in CODE_MENTION.findall(text):
                named.setdefault(code, f"{path.relative_to(ROOT)}:{line}")
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            comment = text.partition("#")[2]
            for code in CODE_MENTION.findall(re.sub(r"noqa: ?[A-Z0-9, ]+", "", comment)):
                named.setdefault(code, f"{path.relative_to(ROOT)}:{number}")
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for code in CODE_MENTION.findall(page.read_text(encoding="utf-8")):
            named.setdefault(code, str(page.relative_to(ROOT)))
    unknown = {code: where for code, where in named.items() if code not in REGISTERED}
    assert not unknown, f"codes no rule module declares: {unknown}"


def test_the_rules_page_lists_every_code_and_is_current() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == rules_markdown(), "regenerate it: python -m remedy.rules.docs > docs/rules.md"
    for code in REGISTERED:
        assert f"\n## {code}\n" in page and f"| [{code}](#{code.lower()}) |" in page, code


def test_every_rule_module_is_registered() -> None:
    registered = {Path(rule.__file__).stem for rule in ALL_RULES}
    declaring = {path.stem for path in RULES_DIR.glob("*.py")
                 if any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CODE"
                                                              for t in node.targets)
                        for node in ast.parse(path.read_text(encoding="utf-8")).body)}
    assert declaring == registered, f"not in rules/registry.py: {sorted(declaring - registered)}"
