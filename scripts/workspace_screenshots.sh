#!/usr/bin/env bash
# Retake docs/img/workspace-*.png: the browser walk of tests/workspace saves its pages' screenshots there.
set -euo pipefail
cd "$(dirname "$0")/.."
REMEDY_SCREENSHOTS=docs/img "${PYTHON:-.venv/bin/python}" -m pytest -q -p no:cacheprovider \
    tests/workspace/test_workspace_browser.py
