"""DocumentCache: a folder read again re-parses only the files that changed, and forgets deleted ones."""

from __future__ import annotations

import os
from pathlib import Path

from remedy.files.folder import DocumentCache, load_folder
from tests.conftest import write_answer


def test_unchanged_files_are_reused_and_changed_ones_reparsed(repo: Path) -> None:
    refund = write_answer(repo, "refund", "Can I get a refund?")
    pets = write_answer(repo, "pets", "Can I bring my dog?")
    documents = DocumentCache()
    first = {d.path: d for d in load_folder(repo / "remediations", documents).documents}
    pets.write_text(pets.read_text().replace("status: active", "status: paused"))
    os.utime(pets, ns=(1, 1))  # even an mtime going backwards counts as a change
    second = {d.path: d for d in load_folder(repo / "remediations", documents).documents}
    assert second[refund] is first[refund]
    assert second[pets] is not first[pets] and second[pets].values["status"] == "paused"
    refund.unlink()
    third = load_folder(repo / "remediations", documents)
    assert [d.path for d in third.documents] == [pets] and refund not in documents._parsed
    assert [r.status for r in third.remediations] == ["paused"]
