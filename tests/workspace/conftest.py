"""The demo (remediations/ + fixtures/logs.jsonl) copied into a temporary git repository, with a warm cache.

The template is made once per test session (reading the logs cold is the slow part); each test copies it,
cache included (.remedy/ holds content-keyed caches, valid wherever the files are the same).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("jinja2", reason="the workspace extra is not installed")
pytest.importorskip("multipart", reason="the workspace extra is not installed")

from starlette.testclient import TestClient  # noqa: E402

from remedy.config import load_config  # noqa: E402
from remedy.workspace.server import WorkspaceOptions, prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LOGS = "logs/logs.jsonl"
BASE_URL = "http://127.0.0.1:8765"


def git(where: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True, text=True).stdout


def make_demo(target: Path) -> Path:
    shutil.copytree(ROOT / "remediations", target / "remediations")
    (target / "logs").mkdir()
    shutil.copy(ROOT / "fixtures" / "logs.jsonl", target / LOGS)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", ".")
    git(target, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "commit", "-q", "-m", "the demo")
    return target


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = make_demo(tmp_path_factory.mktemp("demo-template") / "repo")
    config = load_config(None, template / "remediations")
    prepared = prepare(config, WorkspaceOptions(log_paths=(str(template / LOGS),), user="warmup",
                                                branch="main"))
    assert TestClient(prepared.app, base_url=BASE_URL).get("/issues").status_code == 200  # warms .remedy/
    return template


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(demo_template, repo, symlinks=True)
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    git(repo, "config", "user.name", "Demo Committer")
    git(repo, "config", "user.email", "demo@example.com")
    monkeypatch.chdir(repo)
    return repo


@dataclass
class Client:
    http: TestClient
    repo: Path

    def page(self, path: str) -> str:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.text

    def post(self, path: str, data: dict, *, follow: bool = False):  # noqa: ANN201
        return self.http.post(path, data=data, follow_redirects=follow)


def options(repo: Path, **changes) -> WorkspaceOptions:  # noqa: ANN003
    values = {"log_paths": (str(repo / LOGS),), "user": "alice", "email": "alice@example.com", **changes}
    return WorkspaceOptions(**values)


@pytest.fixture
def client(demo: Path) -> Iterator[Client]:
    prepared = prepare(load_config(None, demo / "remediations"), options(demo))
    with TestClient(prepared.app, base_url=BASE_URL) as http:
        yield Client(http, demo)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1)


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the first form on the page that carries a triage hash (the issue's forms)."""
    fields = {"csrf": hidden(page, "csrf")}
    if 'name="triage_hash"' in page:
        fields["triage_hash"] = hidden(page, "triage_hash")
    return fields


def issue_ids(page: str) -> list[str]:
    return re.findall(r'data-issue="([0-9a-f]+)"', page)
