"""`remedy check` on a 1,000-file folder against a base with 50 changed files, without logs (target < 3 s).

Also shows that a warm embedding cache means unchanged remediations are not embedded again.
Run: python benchmarks/check_speed.py [--files 1000] [--changed 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_speed import make_distinct_folder, make_folder  # noqa: E402

ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, env=ENV)


def timed(command: list[str], cwd: Path) -> tuple[float, int, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, result.returncode, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=50)
    parser.add_argument("--near-duplicates", action="store_true", help="The worst case: many conflicting entries.")
    options = parser.parse_args()
    remedy = str(Path(sys.executable).parent / "remedy")
    with tempfile.TemporaryDirectory() as temporary:
        project = Path(temporary)
        if options.near_duplicates:
            make_folder(project / "remediations", options.files)
            distinct = False
        else:
            distinct = make_distinct_folder(project / "remediations", options.files)
        (project / "remedy.toml").write_text('remediations = "remediations"\n', encoding="utf-8")
        (project / ".gitignore").write_text(".remedy/\n", encoding="utf-8")
        git(project, "init", "-q", "-b", "main")
        git(project, "add", ".")
        git(project, "commit", "-q", "-m", "base")
        git(project, "checkout", "-q", "-b", "feature")
        files = sorted((project / "remediations").rglob("*.yaml"))
        for path in files[:options.changed]:  # new paraphrases: a change that validate accepts
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("also_matches:\n", f"also_matches:\n  - variant of {path.stem}\n"),
                            encoding="utf-8")
        cold, code, _ = timed([remedy, "check", "--base", "main"], project)
        warm, code_warm, output = timed([remedy, "check", "--base", "main", "--format", "json"], project)
        summary = json.loads(output) if output.strip().startswith("{") else {}
    print(json.dumps({"files": options.files, "changed": options.changed, "distinct_topics": distinct,
                      "check_cold_cache_seconds": round(cold, 2),
                      "check_warm_cache_seconds": round(warm, 2), "exit_codes": [code, code_warm],
                      "changes_reported": len(summary.get("changes", [])), "errors": summary.get("errors")},
                     indent=2))


if __name__ == "__main__":
    main()
