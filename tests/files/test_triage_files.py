"""Triage files round-trip through render and load for any text; durations parse or refuse clearly."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.durations import parse_duration
from remedy.files.triage import STATES, Triage, load_triage, write_triage

HANDLE = st.from_regex(r"@[a-z0-9][a-z0-9-]{0,20}(/[a-z0-9][a-z0-9_.-]{0,9})?", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1,
               max_size=40).filter(lambda t: t.strip() != "")


@settings(max_examples=60, deadline=None)
@given(state=st.sampled_from(STATES), queries=st.lists(TEXT, min_size=1, max_size=5),
       assignee=st.one_of(st.none(), HANDLE),
       note=st.one_of(st.none(), TEXT))
def test_triage_files_round_trip(state: str, queries: list[str], assignee: str | None, note: str | None) -> None:
    if state == "assigned" and assignee is None:
        assignee = "@someone"
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_triage(root, Triage(id="3f2a9c1b0d4e", state=state, queries=queries, assignee=assignee, note=note))
        loaded = load_triage(root)
        assert loaded.problems == []
        back = loaded.triages["3f2a9c1b0d4e"]
        assert (back.state, back.queries, back.assignee, back.note) == (state, queries, assignee, note)


def test_durations() -> None:
    assert parse_duration("14d") == 14 * 86_400
    assert parse_duration("36h") == 36 * 3600 and parse_duration("2w") == 14 * 86_400
    assert parse_duration("1.5d") == 1.5 * 86_400 and parse_duration(" 90m ") == 5400
    assert math.isinf(parse_duration("inf"))
    for bad in ("", "14", "0d", "-1d", "two weeks", "14y"):
        with pytest.raises(ValueError, match="a duration like"):
            parse_duration(bad)
