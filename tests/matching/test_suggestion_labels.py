"""The suggestion labels file and the list edits `suggest --apply` makes: round trips (hypothesis) and the
core's band, folding and order on hand-made vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.errors import InputError
from remedy.files.editing import with_list_items
from remedy.files.remediation import Remediation
from remedy.files.yaml_source import LINE_BREAK, parse_document
from remedy.matching.decision import MatchEntry, MatchIndex
from remedy.matching.matcher import Matcher
from remedy.matching.suggestion_labels import (
    SuggestionLabel,
    flow_scalar,
    labelable,
    parse_suggestion_labels,
    render_suggestion_labels,
)
from remedy.matching.suggestions import ORDER_NEAREST, ORDER_SPREAD, LogQueries, suggest_for_queries

# One line of text: no line break YAML counts, no lone surrogate (not encodable), something besides white space.
ONE_LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60).filter(
    lambda t: not LINE_BREAK.search(t) and t.strip() != "")
# What `suggest --out` writes: no control or bidi character either (the reader refuses those, named).
LABELABLE = ONE_LINE.filter(labelable)
IDS = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(IDS, LABELABLE, st.none() | st.floats(-1, 1), st.none() | st.integers(0, 10**6),
                               st.sampled_from([None, "yes", "no", "skip"])), max_size=6))
def test_labels_file_round_trips(rows: list) -> None:
    written = [SuggestionLabel(id=i, query=q, similarity=None if s is None else round(s, 4), count=c, label=label)
               for i, q, s, c, label in rows]
    text = render_suggestion_labels(written, model="m", fingerprint="f", questions={"a": "Q: x, y # z"})
    read = parse_suggestion_labels(text, "labels.yaml")
    assert [(r.id, r.query, r.similarity, r.count, r.label) for r in read] == \
           [(r.id, r.query, r.similarity, r.count, r.label) for r in written]
    assert all(line.startswith(("#", "- {")) for line in text.splitlines())  # one item a line


@given(text=ONE_LINE, breaks=st.sampled_from(["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"]))
def test_a_line_break_is_refused_by_the_writer_and_named_by_the_reader(text: str, breaks: str) -> None:
    with pytest.raises(ValueError, match="one line"):
        flow_scalar(text + breaks + text)
    escaped = yaml.safe_dump(text + breaks + text, default_style='"', width=float("inf")).strip()
    with pytest.raises(InputError, match=r"labels.yaml:1: field 'query' holds a line break"):
        parse_suggestion_labels(f"- {{id: a, query: {escaped}, label: yes}}\n", "labels.yaml")


def test_the_fill_in_format_reads_as_designed() -> None:
    rows = parse_suggestion_labels('- {id: a, query: "x: y", similarity: 0.81, count: 3, label: }\n'
                                   "- {id: a, query: q, label: yes}\n- {id: a, query: r, label: No}\n", "f")
    assert [(r.query, r.label, r.line) for r in rows] == [("x: y", None, 1), ("q", "yes", 2), ("r", "no", 3)]
    for bad, field in (("similarity: high", "similarity"), ("count: -1", "count"), ("label: maybe", "label")):
        with pytest.raises(InputError, match=f"f:1: field '{field}'"):
            parse_suggestion_labels(f"- {{id: a, query: q, {bad}}}\n", "f")


BLOCK = ("kind: answer  # the kind\nid: a\nstatus: active\nquestion: Q?\nanswer: |\n  A.\n"
         "also_matches:   # checked\n  - one\n  - two  # note\n# end of the list\ntags: [x]\n")
FLOW = "kind: answer\nid: a\nstatus: active\nquestion: Q?\nanswer: A\nalso_matches: [one]\nmust_not_match: []\n"
EMPTY = "kind: answer\r\nid: a\r\nstatus: active\r\nquestion: Q?\r\nanswer: A\r\nalso_matches:\r\n"


@settings(max_examples=200, deadline=None)
@given(source=st.sampled_from([BLOCK, FLOW, EMPTY]), yes=st.lists(ONE_LINE, max_size=3),
       no=st.lists(ONE_LINE, max_size=3))
def test_list_items_read_back_exactly_and_nothing_else_moves(source: str, yes: list[str], no: list[str]) -> None:
    document = parse_document(Path("a.yaml"), source)
    text = with_list_items(document, {"also_matches": yes, "must_not_match": no}, anchors=("also_matches", "answer"))
    edited = parse_document(Path("a.yaml"), text)
    assert edited.values.get("also_matches") in ([*(document.values.get("also_matches") or []), *yes], None if not
                                                  yes and document.values.get("also_matches") is None else ...)
    if no:
        assert edited.values["must_not_match"] == [*(document.values.get("must_not_match") or []), *no]
    # every line of the original is still there, in order (comments included): only lines or items were added
    kept = iter(text.splitlines())
    for line in source.splitlines():
        if line.startswith(("also_matches: [", "must_not_match: [")) or line.rstrip() == "also_matches:":
            continue  # a flow list grows inside its line; an empty value gets its list on its line
        assert any(candidate == line for candidate in kept), line


# -- the core on hand-made vectors: band, folding, order ---------------------------------------------------

def _matcher(vectors: dict[str, list[float]], entries: list[MatchEntry]) -> Matcher:
    def encode(texts):  # noqa: ANN001, ANN202
        return np.asarray([vectors[t] for t in texts], np.float32)

    class Model:
        name, fingerprint = "hand-made", "x"

    return Matcher(index=MatchIndex(entries, encode, threshold=0.9, margin=0.05), embedder=Model(),  # type: ignore[arg-type]
                   encode=encode, threshold=0.9, margin=0.05, by_id={})


def _at(similarity: float, azimuth: float) -> list[float]:
    """A unit vector at cosine `similarity` from e1, turned by `azimuth` in the (e2, e3) plane."""
    side = float(np.sqrt(1 - similarity ** 2))
    return [similarity, side * float(np.cos(azimuth)), side * float(np.sin(azimuth)), 0.0]


def test_the_band_is_folded_and_ordered() -> None:
    # entry "a" on e1, threshold 0.9, band 0.25 (down to 0.65); "b" on e4, far from everything
    at = {"q-served": (0.99, 0.0), "q-85": (0.85, 0.0), "q-85b": (0.849, 0.01), "q-80": (0.80, np.pi / 2),
          "q-75": (0.75, np.pi), "q-70": (0.70, 3 * np.pi / 2), "q-50": (0.5, 0.0)}
    vectors = {"question a": [1.0, 0, 0, 0], "question b": [0, 0, 0, 1.0], **{q: _at(*v) for q, v in at.items()}}
    entries = [MatchEntry("a", "answer", "active", "question a"), MatchEntry("b", "answer", "active", "question b")]
    target = Remediation(id="a", kind="answer", status="active", question="question a", text="A", path=Path("a.yaml"),
                         must_not_match=("q-80",))  # judged already: never asked again
    names = sorted(at)
    queries = LogQueries(normalized=names, texts=names, counts=np.array([2] * len(names)),
                         failures=np.array([1] * len(names)), rows=2 * len(names))
    result = suggest_for_queries(_matcher(vectors, entries), [target], queries, limit=10, band=0.25,
                                 order=ORDER_NEAREST)
    # the near-duplicates (cosine 0.99+ to each other) are one line with both counts; nearest first
    assert [(s.query, s.count, s.variants) for s in result.suggestions] == [("q-85", 4, 2), ("q-75", 2, 1),
                                                                           ("q-70", 2, 1)]
    assert result.entries[0].in_band == 4 and result.entries[0].served_queries == 1
    audit = suggest_for_queries(_matcher(vectors, entries), [target], queries, limit=10, band=0.25, served=True)
    assert [s.query for s in audit.suggestions if s.served] == ["q-served"]
    nearest = suggest_for_queries(_matcher(vectors, entries), [target], queries, limit=2, band=0.25,
                                  order=ORDER_NEAREST)
    assert [s.query for s in nearest.suggestions] == ["q-85", "q-75"]
    spread = suggest_for_queries(_matcher(vectors, entries), [target], queries, limit=2, band=0.25,
                                 order=ORDER_SPREAD)
    assert [s.query for s in spread.suggestions] == ["q-75", "q-85"]  # the middle of the band, then its quarters


@given(text=ONE_LINE)
def test_a_query_the_writer_would_leave_out_is_refused_by_the_reader_naming_it(text: str) -> None:
    line = f"- {{id: a, query: {flow_scalar(text)}, label: yes}}\n"
    if labelable(text):
        assert parse_suggestion_labels(line, "labels.yaml")[0].query == text
    else:
        with pytest.raises(InputError, match=r"labels.yaml:1: field 'query'"):
            parse_suggestion_labels(line, "labels.yaml")
