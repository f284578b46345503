"""Every rule, in the order their codes are documented, and the engine that runs them."""

from __future__ import annotations

from types import ModuleType

from remedy.problems import Problem
from remedy.rules import (
    config_model_pin,
    config_uncalibrated,
    config_verifier,
    file_anchors,
    file_duplicate_key,
    file_not_a_mapping,
    file_symlink,
    file_unreadable,
    file_yaml_syntax,
    gate_answer_deleted,
    gate_answer_rewritten,
    gate_config_changed,
    gate_example_lost,
    lifecycle_duplicate_question,
    lifecycle_review_overdue,
    lint_personal_data,
    lint_placeholder,
    lint_too_long,
    lint_volatile_content,
    match_active_conflict,
    match_also_matches_lost,
    match_must_not_match,
    owners_bad_handle,
    owners_codeowners_stale,
    schema_bad_id,
    schema_bad_value,
    schema_control_character,
    schema_duplicate_id,
    schema_empty_text,
    schema_id_mismatch,
    schema_missing_field,
    schema_unknown_key,
    schema_wrong_type,
    topic_schema,
    topic_unreadable,
    triage_schema,
    triage_unreadable,
)
from remedy.rules.context import GateContext, RuleContext

RULES: tuple[ModuleType, ...] = (
    file_unreadable, file_yaml_syntax, file_not_a_mapping, file_anchors, file_duplicate_key, file_symlink,
    schema_unknown_key, schema_missing_field, schema_wrong_type, schema_empty_text, schema_bad_value,
    schema_bad_id, schema_id_mismatch, schema_duplicate_id, schema_control_character,
    lifecycle_duplicate_question, lifecycle_review_overdue,
    lint_personal_data, lint_volatile_content, lint_placeholder, lint_too_long,
    match_active_conflict, match_also_matches_lost, match_must_not_match,
    owners_bad_handle, owners_codeowners_stale,
    config_model_pin, config_uncalibrated, config_verifier,
    triage_unreadable, triage_schema, topic_unreadable, topic_schema,
)


# Rules about the triage folder, not the remediations: `validate` and `check` run them; loading the
# remediations for serving (the API, `activate`) does not, so a bad triage file never stops an answer.
TRIAGE_RULES: tuple[ModuleType, ...] = (triage_unreadable, triage_schema, topic_unreadable, topic_schema)
REMEDIATION_RULES: tuple[ModuleType, ...] = tuple(rule for rule in RULES if rule not in TRIAGE_RULES)


# Rules of the pull-request gate (`remedy check`): they compare the base revision with the working tree,
# so they take a GateContext, not a RuleContext.
GATE_RULES: tuple[ModuleType, ...] = (gate_answer_deleted, gate_answer_rewritten, gate_example_lost,
                                      gate_config_changed)

# Every code remedy can report, in the documented order (docs/rules.md).
ALL_RULES: tuple[ModuleType, ...] = RULES + GATE_RULES


def run_rules(context: RuleContext, rules: tuple[ModuleType, ...] = RULES) -> list[Problem]:
    """Every problem the rules find, sorted by file, line, column and code."""
    return _sorted({problem for rule in rules for problem in rule.check(context)})


def run_gate_rules(context: GateContext, rules: tuple[ModuleType, ...] = GATE_RULES) -> list[Problem]:
    """Every problem the gate rules find in a change, sorted like run_rules."""
    return _sorted({problem for rule in rules for problem in rule.check(context)})


def _sorted(problems: set[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: (problem.file, problem.line, problem.column, problem.code))
