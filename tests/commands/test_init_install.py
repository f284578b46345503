"""`remedy init --install-from`: the workflow's install step installs remedy on a fresh machine, literally.

The slow test builds a wheel of this checkout (as a team would: `pip wheel --no-deps .`), has `init` write a workflow
that installs it, and runs the workflow's install, validate and test `run:` lines with bash in a fresh
venv. The venv sees the dev venv's packages through a .pth file, so remedy's dependencies are already
there and nothing is downloaded; remedy itself must come from the wheel the line names.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def workflow_steps(project: Path) -> list[dict]:
    return yaml.safe_load((project / ".github/workflows/remedy.yml").read_text())["jobs"]["remedy"]["steps"]


def install_lines(project: Path) -> list[str]:
    """What the install steps give pip: the requirement is an env value, the command line never changes."""
    steps = [step for step in workflow_steps(project) if step.get("name", "").startswith("Install remedy")]
    assert all(step["run"] == 'pip install "$REMEDY_REQUIREMENT"' for step in steps)
    return [f'pip install "{step["env"]["REMEDY_REQUIREMENT"]}"' for step in steps]


def test_the_default_installs_the_released_name_and_says_how_to_choose_another(repo: Path, run) -> None:
    from remedy import __version__

    result = run("init", ".")
    assert result.exit_code == 0, result.stderr
    assert install_lines(repo) == [f'pip install "remedy-sme[precise]=={__version__}"']
    assert "until that release is on the package index, choose your own source with --install-from" in result.stdout
    assert f'additional_dependencies: ["remedy-sme[precise]=={__version__}"]' in result.stdout
    assert "<org>" not in result.stdout and '"remedy[' not in (repo / ".github/workflows/remedy.yml").read_text()


def test_a_git_tag_fills_the_workflow_and_the_precommit_snippet(repo: Path, run) -> None:
    result = run("init", ".", "--install-from", "git+https://github.com/acme/remedy@v0.1.0")
    assert result.exit_code == 0, result.stderr
    assert install_lines(repo) == ['pip install "remedy-sme[precise] @ git+https://github.com/acme/remedy@v0.1.0"']
    snippet = yaml.safe_load(result.stdout[result.stdout.index("repos:"):])
    assert snippet == {"repos": [{"repo": "https://github.com/acme/remedy", "rev": "v0.1.0",
                                  "hooks": [{"id": "remedy-validate"}, {"id": "remedy-test"}]}]}
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {"remedy-validate", "remedy-test"} <= hooks  # the ids the snippet names exist at the tag


@pytest.mark.parametrize(("value", "message"), [
    ("git+https://github.com/acme/remedy", "needs the tag"),
    ("dist/remedy_sme-0.1.0-py3-none-any.whl", "no such wheel"),
    ("dist/other-0.1.0-py3-none-any.whl", "not a wheel of remedy"),
    ("https://example.com/remedy.tar.gz", "must be a git URL"),
    ("remedy", "not one of"),
])
def test_a_bad_install_source_is_refused_before_any_file_is_written(repo: Path, run, value: str,
                                                                   message: str) -> None:
    result = run("init", "proj", "--install-from", value)
    assert result.exit_code == 2 and message in result.stderr and "--install-from" in result.stderr
    assert not (repo / "proj").exists()


def test_the_workflow_install_step_runs_in_a_fresh_venv(repo: Path, run, tmp_path_factory) -> None:
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("remedy_sme-*.whl")
    (repo / "tools").mkdir()
    (repo / "tools" / wheel.name).write_bytes(wheel.read_bytes())  # a wheel the team keeps in its repository
    result = run("init", ".", "--install-from", f"tools/{wheel.name}")
    assert result.exit_code == 0, result.stderr
    assert install_lines(repo) == [f'pip install "./tools/{wheel.name}[precise]"']
    assert "language: system" in result.stdout and f'pip install "./tools/{wheel.name}[precise]"' in result.stdout

    fresh = tmp_path_factory.mktemp("venv") / "ci"
    venv.EnvBuilder(with_pip=True).create(fresh)
    site = next(fresh.glob("lib/python*/site-packages"))
    dev_site = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p, "typer").is_dir())
    (site / "dev-dependencies.pth").write_text(f"{dev_site}\n")  # the dependencies, not remedy (editable)
    output = tmp_path_factory.mktemp("github") / "output"
    output.write_text("")
    env = {**os.environ, "PATH": f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}", "PIP_NO_INDEX": "1",
           "VIRTUAL_ENV": str(fresh), "GITHUB_OUTPUT": str(output)}
    env.pop("PYTHONPATH", None)
    steps = [step for step in workflow_steps(repo) if "run" in step and "if" not in step]
    assert [step["name"].split()[0] for step in steps] == ["Install", "Fingerprint", "Validate", "Test"]
    for step in steps:  # each with its own env: values, as the runner gives them
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env={**env, **step.get("env", {})},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{step['name']}: {done.stdout}\n{done.stderr}"
    assert output.read_text().startswith("key=static-"), "the cache key step wrote its output"
    where = subprocess.run([str(fresh / "bin" / "python"), "-c", "import remedy; print(remedy.__file__)"],
                           capture_output=True, text=True, env=env, check=True).stdout
    assert where.startswith(str(site)), "remedy came from the wheel the workflow line names"


def test_every_doc_and_hint_names_the_distribution_not_the_unrelated_remedy() -> None:
    import re

    wrong = re.compile(r"(?<![\w./-])remedy\[|pip install '?remedy'?(?:\s|$)|<org>")
    files = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("cli/remedy/**/*.py"),
             *ROOT.glob("cli/remedy/templates/*"), *ROOT.glob("benchmarks/*.py")]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in files
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if wrong.search(line) and path.name != "install.md"]  # install.md warns about the wrong name
    assert not found, "\n".join(found)
