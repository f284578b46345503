# remedy's tasks. `just` comes from PyPI (rust-just); every task creates .venv on first use.
set shell := ["bash", "-euo", "pipefail", "-c"]

python := env_var_or_default("PYTHON", "python3")
venv := ".venv"
bin := venv + "/bin"

# List the tasks.
default:
    @just --list

# Create .venv and install remedy with the dev tools (idempotent).
install:
    @test -x {{bin}}/python || {{python}} -m venv {{venv}}
    @{{bin}}/python -m pip install -q --disable-pip-version-check -e '.[dev]'

# Run remedy on the bundled demo: validate, test, coverage and the issue queue over the demo logs.
demo: install
    {{bin}}/remedy validate
    {{bin}}/remedy list --status active
    {{bin}}/remedy match "my flight was cancelled, can i get my money back?"

# Run the test suite.
test: install
    {{bin}}/python -m pytest

# Lint and type-check; check that docs/rules.md is current.
lint: install
    {{bin}}/ruff check cli tests benchmarks scripts fixtures
    {{bin}}/mypy cli/remedy
    {{bin}}/python -m remedy.rules.docs | diff -u docs/rules.md - && echo "docs/rules.md is current"

# Speed and matching-quality benchmarks (figures, not pass/fail).
bench: install
    {{bin}}/python benchmarks/cli_speed.py

# Rebuild the bundled embedding model (needs the `adapt` extra and torch).
model:
    @test -x {{bin}}/python || {{python}} -m venv {{venv}}
    {{bin}}/python -m pip install -q torch==2.13.0
    {{bin}}/python -m pip install -q -e '.[dev,adapt]'
    {{bin}}/python scripts/build_model.py
