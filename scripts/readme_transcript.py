"""Regenerate the README's demo transcript from a real run, or check it has not drifted.

    just readme                                        # rewrite README.md's ```console block
    python scripts/readme_transcript.py               # the same, with remedy importable (PYTHONPATH=cli)
    python scripts/readme_transcript.py --check       # exit 1 and print a diff when the README is stale

The transcript is what `just demo` shows: each command of STEPS runs in the repository root on the
bundled demo (remediations/, fixtures/logs.jsonl), in this process through the CLI itself, with the
install the README describes (the `precise` extra: the verifier decides). Long outputs are cut the way a
reader wants them (the first rows, "…", the headline); the command and every kept line are the real
output. The issue shown in full is the queue's last row, and its id is replaced everywhere in the
README, so the prose around the block names the same issue. tests/test_readme_transcript.py runs
`--check` (skipped where the verifier is not installed: the static model gives other numbers).

After changing any output the demo shows, run `just readme` and commit README.md with the change.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LOGS = "fixtures/logs.jsonl"
QUERY = "my flight got cancelled, can i get my money back?"
BLOCK = re.compile(r"(```console\n)(\$ remedy validate\n.*?)(```)", re.S)
ISSUE_ID = "{issue}"  # STEPS' placeholder for the id of the queue's last row shown
CUT = "…"


@dataclass(frozen=True)
class Step:
    """One command of the transcript and how much of its output the README keeps."""

    shown: str  # as the reader types it
    args: tuple[str, ...]
    head: int | None = None  # keep the first lines only ... (None: all)
    until: str | None = None  # ... or the lines up to and including the first that starts with this
    tail: int = 0  # and the last lines, after "…"
    stderr: bool = True  # append what the command writes to stderr (notes, warnings)


STEPS = (
    Step("remedy validate", ("validate",)),
    Step(f'remedy match "{QUERY}"', ("match", QUERY)),
    Step(f"remedy coverage --logs {LOGS}", ("coverage", "--logs", LOGS), head=4, tail=1),
    Step(f"remedy issues --logs {LOGS} --top 4", ("issues", "--logs", LOGS, "--top", "4")),
    Step(f"remedy issue {ISSUE_ID} --logs {LOGS} --limit 1", ("issue", ISSUE_ID, "--logs", LOGS, "--limit", "1"),
         until="    query:", tail=2),
)


def run_step(args: Sequence[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `remedy ARGS` in this process, from the repository root."""
    from typer.testing import CliRunner

    from remedy.commands.app import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def shorten(lines: list[str], step: Step) -> list[str]:
    if step.head is not None:
        kept = lines[:step.head]
    elif step.until is not None:
        index = next((i for i, line in enumerate(lines) if line.startswith(step.until)), len(lines) - 1)
        kept = lines[:index + 1]
    else:
        return lines
    if len(kept) + step.tail >= len(lines):
        return lines
    indent = re.match(r"\s*", kept[-1]).group() if step.until is not None else ""  # type: ignore[union-attr]
    return [*kept, indent + CUT, *(lines[-step.tail:] if step.tail else [])]


def transcript() -> tuple[str, str]:
    """The console block's text, and the id of the issue shown in full."""
    os.chdir(ROOT)
    blocks: list[str] = []
    issue_id = ""
    for step in STEPS:
        args = tuple(issue_id if arg == ISSUE_ID else arg for arg in step.args)
        code, out, err = run_step(args)
        if code not in (0, 1):
            raise SystemExit(f"readme_transcript: `remedy {' '.join(args)}` exited {code}:\n{err}")
        if step.args[0] == "issues":
            rows = [line.split()[1] for line in out.splitlines() if re.match(r"\d+\s+[0-9a-f]{12}\s", line)]
            issue_id = rows[-1]
        lines = out.rstrip("\n").splitlines()
        if step.stderr and err.strip():
            lines += err.rstrip("\n").splitlines()
        blocks.append("\n".join([f"$ {step.shown.replace(ISSUE_ID, issue_id)}", *shorten(lines, step)]))
    return "\n\n".join(blocks) + "\n", issue_id


def updated_readme(text: str) -> str:
    match = BLOCK.search(text)
    if match is None:
        raise SystemExit(f"readme_transcript: no ```console block starting with `$ remedy validate` in {README}")
    old_issue = re.search(r"^\$ remedy issue ([0-9a-f]{12}) ", match.group(2), re.M)
    block, issue_id = transcript()
    before, after = text[:match.start(2)], text[match.end(2):]
    if old_issue and old_issue.group(1) != issue_id:  # the prose around the block names the issue shown
        # outside the new block only: there the old id may now belong to another row of the queue
        before, after = (part.replace(old_issue.group(1), issue_id) for part in (before, after))
    return before + block + after


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff when README.md is stale")
    options = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "cli"))
    before = README.read_text(encoding="utf-8")
    after = updated_readme(before)
    if options.check:
        if after != before:
            sys.stdout.writelines(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                       "README.md", "README.md (a real run)"))
            print("\nthe README's demo transcript is stale: run `just readme` and commit README.md", file=sys.stderr)
            return 1
        return 0
    if after != before:
        from remedy.files.atomic import write_atomically

        write_atomically(README, after)
        print("README.md: demo transcript rewritten from a real run", file=sys.stderr)
    else:
        print("README.md: demo transcript is current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
