"""The one atomic writer: whole files or nothing, temporaries hidden and cleaned up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from remedy.files.atomic import TEMPORARY_SUFFIX, remove_stale_temporaries, replaced_atomically, write_atomically


def test_write_atomically_replaces_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.yaml"
    write_atomically(target, "one\n")
    target.chmod(0o640)
    write_atomically(target, b"two\n")
    assert target.read_text() == "two\n" and target.stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileExistsError):
        write_atomically(target, "three\n", exclusive=True)
    assert target.read_text() == "two\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.yaml"]


def test_replaced_atomically_gives_a_writer_its_own_path(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_text("old")
    with replaced_atomically(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".out.parquet.")
        assert temporary.name.endswith(TEMPORARY_SUFFIX)
        temporary.write_text("new")  # what DuckDB's COPY or NumPy would do
        assert target.read_text() == "old", "the target changes only when the block ends"
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), replaced_atomically(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"], "no temporary left behind"


def test_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f".x.yaml.999999999.0123abcd{TEMPORARY_SUFFIX}"
    live = tmp_path / f".y.yaml.{os.getpid()}.0123abcd{TEMPORARY_SUFFIX}"
    for path in (dead, live):
        path.write_text("partial")
        os.utime(path, (0, 0))
    assert remove_stale_temporaries(tmp_path) == [dead]
    assert live.exists()
