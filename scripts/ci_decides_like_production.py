"""Issue 34's "done when": a project made by `remedy init --install-from <a built wheel>` runs its written
workflow's steps in a fresh virtual environment, offline, and decides exactly as `Remediations.answer_for`
does in the README's install (the dev venv, with the `precise` extra).

    python scripts/ci_decides_like_production.py --wheelhouse /tmp/wheelhouse [--work DIR]

1. builds a wheel of this checkout (`pip wheel --no-deps`) and commits it into a new project, made by
   `remedy init . --install-from tools/<wheel>` with the demo's remediations folder;
2. makes a fresh venv (no system or dev packages) and runs every `run:` step of the written workflow
   (install, fingerprint, validate, test) with bash, with the step's `env:`, under `unshare -n` (no network:
   pip finds the dependencies only in --wheelhouse, through PIP_NO_INDEX / PIP_FIND_LINKS);
3. decides every distinct query of fixtures/logs.jsonl and the README's demo queries in that venv (the
   wheel's `remedy match` for the demo queries, the wheel's `Remediations.answer_for` for all) and in this
   process's install, and compares the served ids.

The wheelhouse holds remedy's dependencies and the precise extra's, made once online with
`pip download -d DIR dist/remedy_sme-*.whl[precise]`. It takes minutes (a venv, an install, two models
loaded), so it is a script, not a test; tests/commands/test_init_install.py checks the steps quickly.
Exit 0 when every served id agrees and the fresh venv's judge is the verifier, like production's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO_QUERIES = ("my flight got cancelled, can i get my money back?",
                "can i get my money back for a cancelled flight")
DECIDE = """
import json, sys
from remedy import Remediations
rem = Remediations.load("remediations")
queries = json.load(open(sys.argv[1]))
out = {}
for query in queries:
    hit = rem.answer_for(query)
    out[query] = hit.id if hit else None
json.dump(out, open(sys.argv[2], "w"))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheelhouse", type=Path, required=True, help="remedy's dependencies as wheels")
    parser.add_argument("--work", type=Path, default=None, help="where to build (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="ci-like-prod-"))
    started = time.monotonic()
    project, fresh = work / "project", work / "venv"
    for path in (project, fresh, work / "dist"):
        shutil.rmtree(path, ignore_errors=True)

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
                   check=True)
    (wheel,) = (work / "dist").glob("remedy_sme-*.whl")
    project.mkdir(parents=True)
    git = ["git", "-C", str(project), "-c", "user.name=CI", "-c", "user.email=ci@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (project / "tools").mkdir()
    shutil.copy(wheel, project / "tools" / wheel.name)
    dev_env = {**os.environ, "PYTHONPATH": str(ROOT / "cli")}
    subprocess.run([sys.executable, "-m", "remedy", "init", ".", "--install-from", f"tools/{wheel.name}"],
                   cwd=project, env=dev_env, check=True, capture_output=True)
    shutil.rmtree(project / "remediations")
    shutil.copytree(ROOT / "remediations", project / "remediations")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a project made by remedy init"], check=True)

    venv.EnvBuilder(with_pip=True).create(fresh)
    output = work / "github_output"
    output.write_text("")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"PATH": f"{fresh / 'bin'}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(fresh),
                "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(args.wheelhouse), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "GITHUB_OUTPUT": str(output), "HF_HUB_OFFLINE": "1"})
    workflow = yaml.safe_load((project / ".github/workflows/remedy.yml").read_text())
    env.update({key: "" for key in workflow["jobs"]["remedy"].get("env", {})})  # repository variables unset
    offline = ["unshare", "-n"] if shutil.which("unshare") else []
    log: list[str] = []
    for step in workflow["jobs"]["remedy"]["steps"]:
        if "run" not in step or "if" in step:  # `uses:` actions and the pull-request-only gate
            continue
        step_env = {**env, **{key: str(value) for key, value in (step.get("env") or {}).items()}}
        done = subprocess.run([*offline, "bash", "-e", "-c", step["run"]], cwd=project, env=step_env,
                              capture_output=True, text=True, timeout=1200)
        log.append(f"$ {step['name']}: exit {done.returncode}\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
        if done.returncode != 0:
            print("\n".join(log))
            return 1
    where = subprocess.run([str(fresh / "bin" / "python"), "-c", "import remedy; print(remedy.__file__)"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()

    queries = list(dict.fromkeys([*DEMO_QUERIES, *(json.loads(line)["query"] for line in
                                                   (ROOT / "fixtures/logs.jsonl").read_text().splitlines()
                                                   if line.strip())]))
    (work / "queries.json").write_text(json.dumps(queries))
    subprocess.run([*offline, str(fresh / "bin" / "python"), "-c", DECIDE, str(work / "queries.json"),
                    str(work / "ci.json")], cwd=project, env=env, check=True)
    subprocess.run([sys.executable, "-c", DECIDE, str(work / "queries.json"), str(work / "production.json")],
                   cwd=project, env=dev_env, check=True)
    ci, production = (json.loads((work / name).read_text()) for name in ("ci.json", "production.json"))
    matched = {}
    for query in DEMO_QUERIES:  # the CLI of the fresh venv, as the README's demo runs it
        shown = subprocess.run([*offline, "remedy", "match", query, "--format", "json"], cwd=project, env=env,
                               capture_output=True, text=True, check=True).stdout
        answer = json.loads(shown).get("answer")
        matched[query] = answer["id"] if answer else None
    differ = [query for query in queries if ci[query] != production[query]]
    differ += [query for query in DEMO_QUERIES if matched[query] != production[query]]
    served = sum(1 for query in queries if production[query])
    fingerprint = output.read_text().strip()
    print("\n".join(log))
    print(f"remedy in the fresh venv: {where}")
    print(f"workflow's model key: {fingerprint}")
    print(f"{len(queries):,} distinct queries: {served:,} served an answer in production; "
          f"{len(queries) - len(differ):,} decided alike in CI, {len(differ)} differ")
    for query in DEMO_QUERIES:
        print(f"  {query!r}: CI `remedy match` {matched[query]}, production answer_for {production[query]}")
    for query in differ[:10]:
        print(f"  DIFFERS {query!r}: CI {ci.get(query)} / {matched.get(query)}, production {production[query]}")
    print(f"{time.monotonic() - started:.0f} s in {work}")
    return 0 if not differ and "-verifier-" in fingerprint and str(fresh) in where else 1


if __name__ == "__main__":
    sys.exit(main())
