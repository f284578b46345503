"""What `/v1/health` says about a loaded folder: settings and where they come from, the pin, the revision."""

from __future__ import annotations

from pathlib import Path

from remedy.serving.served_folder import load_served_folder
from tests.conftest import git, write, write_answer


def test_defaults_outside_git(tmp_path: Path) -> None:
    write_answer(tmp_path, "refund", "Can I get a refund?")
    write(tmp_path / "remedy.toml", 'remediations = "remediations"\n')
    described = load_served_folder(str(tmp_path / "remedy.toml"), None).describe()
    assert described["settings"]["source"] == "model defaults" and described["settings"]["calibrated_for"] is None
    assert described["revision"] is None and described["entries"] == 1
    assert described["by_status"] == {"active": 1, "draft": 0, "paused": 0}


def test_calibrated_settings_and_a_stale_pin_in_git(repo: Path) -> None:
    write_answer(repo, "refund", "Can I get a refund?")
    write_answer(repo, "pets", "Can I bring my dog?", status="draft")
    write(repo / "remedy.toml", """\
        threshold = 0.7
        margin = 0.1
        [calibration]
        model = "bundled"
        fingerprint = "0000000000000000"
        """)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "folder")
    described = load_served_folder(None, None).describe()
    assert described["settings"] == {"threshold": 0.7, "margin": 0.1, "source": "calibrated",
                                     "calibrated_for": {"model": "bundled", "fingerprint": "0000000000000000",
                                                        "matches": False}}
    assert described["revision"] == git(repo, "rev-parse", "HEAD").strip()
    assert described["active_by_kind"] == {"answer": 1, "guidance": 0, "review": 0}
    write(repo / "remedy.toml", "threshold = 0.7\n")
    assert load_served_folder(None, None).describe()["settings"]["source"] == "config"
