"""Formatting validation problems as text lines, JSON, or GitHub Actions annotations."""

from __future__ import annotations

from remedy.control_characters import visible
from remedy.problems import Problem, count_errors
from remedy.report.tables import json_document


def problems_text(problems: list[Problem]) -> str:
    lines = [f"{p.file}:{p.line}:{p.column}: {p.code} {p.severity}: {p.message}" for p in problems]
    return "\n".join(lines) + ("\n" if lines else "")


def problems_summary(problems: list[Problem], files: int) -> str:
    errors = count_errors(problems)
    warnings = len(problems) - errors
    if not problems:
        return f"{files} file{'s' if files != 1 else ''} checked: no problems"
    return (f"{files} file{'s' if files != 1 else ''} checked: {errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}")


def problems_json(problems: list[Problem], judge: dict[str, object] | None = None) -> str:
    errors = count_errors(problems)
    document: dict[str, object] = {"problems": [p.as_dict() for p in problems], "errors": errors,
                                   "warnings": len(problems) - errors}
    if judge is not None:
        document["judge"] = judge
    return json_document(document)


def github_escape(text: str, property_value: bool = False) -> str:
    """Text for a workflow command (`::error …::TEXT`): one line, no `::` that ends a property early.

    Annotations are plain text (no Markdown), so this and control characters made visible are all they
    need; the one function every annotation goes through."""
    text = visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def problems_github(problems: list[Problem]) -> str:
    """`::error file=…,line=…,col=…,title=CODE::message`, GitHub's workflow-command syntax."""
    lines = [f"::{p.severity} file={github_escape(p.file, True)},line={p.line},col={p.column},"
             f"title={github_escape(p.code, True)}::{github_escape(p.message)}" for p in problems]
    return "\n".join(lines) + ("\n" if lines else "")


def github_notice(text: str) -> str:
    """`::notice title=remedy::TEXT`: a line for the run's summary of annotations."""
    return f"::notice title=remedy::{github_escape(text)}\n"
