"""Calibration from expert labels, from the CLI: sample → fill in → calibrate --write → match uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.conftest import write_answer

from remedy.errors import InputError
from remedy.matching.calibration_labels import NOTHING, LabelRow, parse_labels, render_labels

TOPICS = {
    "refund": ("Can I get a refund if my flight is cancelled?",
               ["my flight was cancelled can i get my money back", "refund for a cancelled flight",
                "cancelled flight refund please", "how do i get a refund when the airline cancels"]),
    "pets": ("Can I bring my dog on the plane?",
             ["can my dog fly with me in the cabin", "bringing a pet on board", "is my cat allowed on the plane",
              "travel with my dog"]),
    "bags": ("How many bags can I check in?",
             ["how many checked bags are included", "checked baggage allowance", "how many suitcases can i check",
              "baggage allowance for my ticket"]),
    "wifi": ("Is there wifi on board?",
             ["do your planes have wifi", "internet on the flight", "can i use wifi during the flight",
              "onboard wifi price"]),
}
UNRELATED = ["how do i bake sourdough bread", "what is the capital of peru", "best hiking trails near lima",
             "how to fix a flat bicycle tyre", "recipe for lemon cake", "who won the football match"]


@pytest.fixture
def project(repo: Path) -> Path:
    for entry_id, (question, _) in TOPICS.items():
        write_answer(repo, entry_id, question, answer=f"The {entry_id} answer. See https://example.com/{entry_id}")
    lines = []
    queries = [(q, entry_id) for entry_id, (_, qs) in TOPICS.items() for q in qs] + [(q, None) for q in UNRELATED]
    for i, (query, _) in enumerate(queries):
        lines.append(json.dumps({"id": f"q{i}", "timestamp": "2026-08-01T00:00:00Z", "query": query,
                                 "response": "…"}))
    (repo / "logs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return repo


def expected_entry(query: str) -> str | None:
    for entry_id, (question, queries) in TOPICS.items():
        if query in {q.lower() for q in queries} or query == question.lower():
            return entry_id
    return None


def fill(path: Path, out: Path) -> int:
    """The expert: yes when the candidate is right, else no and the right entry (or none)."""
    rows = parse_labels(path.read_text(encoding="utf-8"), str(path))
    filled = []
    for row in rows:
        right = expected_entry(row.query)
        filled.append(LabelRow(row.query, row.candidate, row.similarity, row.margin, right == row.candidate,
                               None if right == row.candidate else (right or NOTHING), row.weight))
    out.write_text(render_labels(filled, model="bundled", fingerprint="x", questions={}), encoding="utf-8")
    return len(filled)


def test_labels_round_trip_from_sample_to_match(project: Path, run) -> None:
    # The static path's round trip: the verifier's screen keeps the unrelated queries out of the sample, and
    # the 22 left are too few to certify (its own round trip: tests/matching/test_verifier.py).
    (project / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    notice = run("match", "refund for my cancelled flight")
    assert notice.exit_code == 0 and "uncalibrated" in notice.stderr
    assert "C002" in run("validate", "--no-semantic").stdout
    previewed = run("preview", "refund", "--logs", "logs.jsonl")
    assert previewed.exit_code == 0 and "uncalibrated" in previewed.stderr
    logs_before = (project / "logs.jsonl").read_bytes()

    sampled = run("calibrate", "--sample", "30", "--logs", "logs.jsonl", "--out", "labels.yaml")
    assert sampled.exit_code == 0, sampled.stderr
    text = (project / "labels.yaml").read_text(encoding="utf-8")
    assert text.startswith("# remedy calibration labels; model bundled") and "Fill in label: yes | no" in text
    rows = parse_labels(text, "labels.yaml")
    assert 0 < len(rows) <= 30 and all(r.label is None and r.candidate in TOPICS for r in rows)
    assert all(r.weight >= 1 for r in rows) and (project / "logs.jsonl").read_bytes() == logs_before

    # a second round skips what was asked already, and never overwrites a file
    again = run("calibrate", "--sample", "30", "--logs", "logs.jsonl", "--labels", "labels.yaml", "--out", "more.yaml")
    assert again.exit_code in (0, 2)
    if again.exit_code == 0:
        asked = {r.query for r in rows}
        assert not asked & {r.query for r in parse_labels((project / "more.yaml").read_text(), "more.yaml")}
    assert run("calibrate", "--sample", "5", "--logs", "logs.jsonl", "--out", "labels.yaml").exit_code == 2
    assert run("calibrate", "--sample", "5", "--logs", "logs.jsonl", "--out", "logs.jsonl").exit_code == 2
    assert (project / "logs.jsonl").read_bytes() == logs_before

    fill(project / "labels.yaml", project / "filled.yaml")
    written = run("calibrate", "--labels", "filled.yaml", "--target-precision", "0.5", "--write", "--format", "json")
    assert written.exit_code == 0, written.stderr
    document = json.loads(written.stdout)
    assert document["met_target"] and document["precision_lower"] >= 0.5 and document["labels_hash"]
    assert "labelled positive" in written.stderr  # fewer than 30: a warning, not a refusal
    config = (project / "remedy.toml").read_text(encoding="utf-8")
    assert f'labels_sha256 = "{document["labels_hash"]}"' in config
    assert f"threshold = {document['threshold']:g}" in config and 'fingerprint = "' in config

    matched = run("match", "refund for my cancelled flight", "--format", "json")
    assert matched.exit_code == 0 and "uncalibrated" not in matched.stderr
    assert "C002" not in run("validate", "--no-semantic").stdout
    assert "uncalibrated" not in run("preview", "refund", "--logs", "logs.jsonl").stderr


def test_calibrate_refuses_what_it_cannot_certify(project: Path, run) -> None:
    run("calibrate", "--sample", "30", "--logs", "logs.jsonl", "--out", "labels.yaml")
    fill(project / "labels.yaml", project / "filled.yaml")
    for target in ("0", "1.5", "-0.2"):
        bad = run("calibrate", "--labels", "filled.yaml", "--target-precision", target)
        assert bad.exit_code == 2 and "(0, 1]" in bad.stderr
    refused = run("calibrate", "--labels", "filled.yaml", "--target-precision", "0.99", "--write")
    assert refused.exit_code == 1 and "nothing written" in refused.stderr
    assert "label" in refused.stderr and not (project / "remedy.toml").exists()


def test_several_rounds_after_one_labels_flag_and_every_hint_names_all_rounds(project: Path, run) -> None:
    # The static path: with the verifier, its screen leaves too few of these 22 queries for two rounds.
    (project / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    first = run("calibrate", "--sample", "8", "--logs", "logs.jsonl", "--out", "round-1.yaml")
    assert first.exit_code == 0 and "remedy calibrate --labels round-1.yaml --write" in first.stderr
    second = run("calibrate", "--sample", "8", "--logs", "logs.jsonl", "--labels", "round-1.yaml",
                 "--out", "round-2.yaml")
    assert second.exit_code == 0, second.stderr
    # the hint and the file's own header keep round 1's labels
    assert "next: experts fill in" in second.stderr
    assert "remedy calibrate --labels round-1.yaml round-2.yaml --write" in second.stderr
    assert "# Then: remedy calibrate --labels round-1.yaml round-2.yaml [--write]" in \
        (project / "round-2.yaml").read_text(encoding="utf-8")
    fill(project / "round-1.yaml", project / "round-1.yaml")
    fill(project / "round-2.yaml", project / "round-2.yaml")
    both = run("calibrate", "--labels", "round-1.yaml", "round-2.yaml", "--format", "json")
    repeated = run("calibrate", "--labels", "round-1.yaml", "--labels", "round-2.yaml", "--format", "json")
    alone = run("calibrate", "--labels", "round-1.yaml", "--format", "json")
    assert both.exit_code == 0 and repeated.exit_code == 0, both.stderr + repeated.stderr
    counted = [json.loads(result.stdout) for result in (both, repeated, alone)]
    assert counted[0]["labels"] == counted[1]["labels"] > counted[2]["labels"]
    assert counted[0]["labels_hash"] == counted[1]["labels_hash"]
    stray = run("calibrate", "round-1.yaml")
    assert stray.exit_code == 2 and "labels files go after --labels" in stray.stderr


@pytest.mark.parametrize(("text", "where"), [
    ("- query: hello\n  label: maybe\n", ("filled.yaml:2", "'label'")),
    ("- query: hello\n  candidate: refund\n  label: yes\n  weight: -1\n", ("filled.yaml:4", "'weight'")),
    # a hand-edited weight that overflowed the pooled sums into nonsense figures instead of an error
    ("- query: hello\n  candidate: refund\n  label: yes\n  weight: 1.0e+308\n", ("filled.yaml:4", "between")),
    ("- query: hello\n  candidate: refund\n  label: yes\n  weight: 1.0e-300\n", ("filled.yaml:4", "between")),
    ("- query: hello\n  candidate: refund\n  colour: red\n", ("filled.yaml:3", "'colour'")),
    ("- query: hello\n  candidate: nosuch\n  label: yes\n", ("filled.yaml:1", "'candidate'")),
    ("- query: hello\n  candidate: refund\n  label: yes\n  correct: none\n", ("filled.yaml:4", "'correct'")),
    ("- query: [a, b]\n", ("filled.yaml:1", "'query'")),
    ("query: hello\n", ("filled.yaml:1", "list")),
    ("- query: 'unclosed\n", ("filled.yaml", "not valid YAML")),
])
def test_a_malformed_labels_file_names_file_line_and_field(project: Path, run, text: str,
                                                           where: tuple[str, str]) -> None:
    (project / "filled.yaml").write_text(text, encoding="utf-8")
    result = run("calibrate", "--labels", "filled.yaml")
    assert result.exit_code == 2 and all(part in result.stderr for part in where), result.stderr


slug = st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)
number = st.floats(min_value=-1, max_value=1, allow_nan=False).map(lambda v: round(v, 4))


@st.composite
def label_rows(draw: st.DrawFn) -> LabelRow:
    query = draw(st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
    candidate = draw(st.none() | slug)
    label = draw(st.sampled_from([None, True, False]))
    correct = draw(st.sampled_from([None, NOTHING]) | slug)
    assume(not (label is True and (candidate is None or correct == NOTHING)))
    assume(not (label is False and correct is not None and correct == candidate))
    weight = draw(st.floats(min_value=1, max_value=1e6).map(lambda v: round(v, 4)))
    return LabelRow(query, candidate, draw(st.none() | number), draw(st.none() | number), label, correct, weight)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(label_rows(), max_size=6))
def test_labels_file_round_trips(rows: list[LabelRow]) -> None:
    text = render_labels(rows, model="bundled", fingerprint="abc", questions={r.candidate or "": "Q?" for r in rows})
    parsed = parse_labels(text, "labels.yaml")
    strip = [LabelRow(r.query, r.candidate, r.similarity, r.margin, r.label, r.correct, r.weight) for r in parsed]
    assert strip == rows
    assert [r.line for r in parsed] == [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith("- ")]


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_with_a_location(text: str) -> None:
    try:
        parse_labels(text, "labels.yaml")
    except InputError as error:
        assert re.match(r"labels\.yaml(:\d+)?: ", str(error)), str(error)


def test_the_labels_header_is_a_yaml_comment_and_items_are_plain() -> None:
    row = LabelRow("my card hasn't arrived #2", "card-arrival", 0.71, 0.08, weight=12.5)
    text = render_labels([row], model="bundled", fingerprint="abc", questions={"card-arrival": "Where is my card?"})
    assert yaml.safe_load(text) == [{"query": "my card hasn't arrived #2", "candidate": "card-arrival",
                                     "similarity": 0.71, "margin": 0.08, "label": None, "correct": None,
                                     "weight": 12.5}]
    assert "# Q: Where is my card?" in text


def test_model_adapt_chooses_its_own_defaults_on_held_out_logs(project: Path, run,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.matching.test_adapt import bag_of_words_teacher

    import remedy.matching.adapt_project as adapt_project

    monkeypatch.setattr(adapt_project, "load_teacher", lambda spec: bag_of_words_teacher(384))
    # enough distinct log queries that ~1 in 5 held out gives the rule something to decide on
    fillers = ["please", "today", "now", "thanks", "urgent", "again", "quick question", "hello", "hi", "help"]
    queries = [f"{q} {a} {b}" for _, qs in TOPICS.values() for q in qs for a in fillers for b in ("", "asap")]
    queries += [f"{q} {a}" for q in UNRELATED for a in fillers]
    (project / "logs.jsonl").write_text("".join(json.dumps({"id": f"q{i}", "timestamp": "2026-08-01T00:00:00Z",
                                                            "query": q}) + "\n" for i, q in enumerate(queries)),
                                        encoding="utf-8")
    result = run("model", "adapt", "--logs", "logs.jsonl", "--out", "models/adapted")
    assert result.exit_code == 0, result.stderr
    defaults = json.loads((project / "models/adapted/remedy_defaults.json").read_text())
    assert "inherited_from" not in defaults and "held out" in defaults["chosen_on"]
    assert f"threshold {defaults['threshold']:g}, margin {defaults['margin']:g}" in result.stdout
    assert "the base model there at its defaults" in result.stdout
    assert ("do NOT switch" in result.stdout) != ("next: set model" in result.stdout)


def test_the_summary_says_not_to_switch_when_held_out_quality_falls() -> None:
    from remedy.matching.adapt_defaults import HeldOutChoice
    from remedy.matching.adapt_project import AdaptSummary, HeldOutQuality

    def choice(threshold: float, recall: float) -> HeldOutChoice:
        return HeldOutChoice(threshold, 0.05, True, False, 0.99, 0.96, recall, 100, 40)

    def summary(top1_after: int, adapted: HeldOutChoice) -> AdaptSummary:
        return AdaptSummary(Path("m"), 10, 5, 1.0, 0, 0, HeldOutQuality(10, 8, 4), HeldOutQuality(10, top1_after, 5),
                            0, (), {}, adapted, choice(0.92, 0.2))

    assert summary(9, choice(0.9, 0.3)).worse == []
    assert "fewer held-out also_matches" in summary(7, choice(0.9, 0.3)).worse[0]
    assert "less recall" in summary(9, choice(0.9, 0.1)).worse[0]
    assert "exact matches only" in summary(9, choice(1.0, 0.0)).worse[0]


def test_the_folders_examples_may_tighten_expert_labels_never_loosen_them(project: Path, run) -> None:
    # 160 paraphrases certify 0.95 on their own (held out, each still matches its entry) ...
    extra = "also_matches:\n" + "".join(f"  - refund for my cancelled flight number {n}\n" for n in range(160))
    write_answer(project, "refund", TOPICS["refund"][0], answer="The refund answer. See https://example.com/r",
                 extra=extra)
    alone = run("calibrate", "--format", "json")
    assert alone.exit_code == 0 and json.loads(alone.stdout)["met_target"], alone.stderr
    # ... but next to expert labels from the logs, precision over the logs is what must be certified:
    # ten labels cannot, and the paraphrases do not make up for them.
    run("calibrate", "--sample", "10", "--logs", "logs.jsonl", "--out", "labels.yaml")
    fill(project / "labels.yaml", project / "filled.yaml")
    refused = run("calibrate", "--labels", "filled.yaml", "--write", "--format", "json")
    assert refused.exit_code == 1 and "nothing written" in refused.stderr
    document = json.loads(refused.stdout)
    assert not document["met_target"] and "only tighten" in document["source"]
    assert document["positives"] <= 10  # the labels' positives, not the paraphrases'


@pytest.mark.parametrize(("rows", "why"), [
    # the same query, candidate right in one row and wrong in the other (case and punctuation differ)
    (["- query: refund for a cancelled flight\n  candidate: refund\n  label: yes\n",
      "- query: Refund for a cancelled flight?\n  candidate: refund\n  label: no\n"],
     "'refund' is right, here it is not"),
    (["- query: bring my dog\n  candidate: refund\n  label: no\n  correct: pets\n",
      "- query: bring my dog\n  candidate: pets\n  label: no\n"], "'pets' is right, here it is not"),
    (["- query: bring my dog\n  candidate: refund\n  label: no\n  correct: none\n",
      "- query: bring my dog\n  candidate: refund\n  label: no\n  correct: pets\n"], "no entry is right"),
])
def test_contradictory_labels_are_refused_with_both_places(project: Path, run, rows: list[str], why: str) -> None:
    """Two rows about one query that disagree (even in two files) would count it as right and as wrong."""
    (project / "a.yaml").write_text(rows[0], encoding="utf-8")
    (project / "b.yaml").write_text(rows[1], encoding="utf-8")
    result = run("calibrate", "--labels", "a.yaml", "--labels", "b.yaml")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("remedy: b.yaml:1: query ") and "contradicts a.yaml:1" in result.stderr
    assert why in result.stderr
    (project / "b.yaml").write_text(rows[0], encoding="utf-8")  # the same verdict twice is no contradiction
    assert run("calibrate", "--labels", "a.yaml", "--labels", "b.yaml").exit_code in (0, 1)


def test_labels_sampled_by_another_model_count_with_a_warning(project: Path, run) -> None:
    (project / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")  # the pin names 'bundled@…'
    assert run("calibrate", "--sample", "30", "--logs", "logs.jsonl", "--out", "labels.yaml").exit_code == 0
    fill(project / "labels.yaml", project / "filled.yaml")  # fill() writes the header of model bundled@x
    result = run("calibrate", "--labels", "filled.yaml", "--target-precision", "0.5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "labels sampled with another model than today's bundled@" in result.stderr
    assert "filled.yaml (bundled@x)" in result.stderr
    own = run("calibrate", "--labels", "labels.yaml")  # unanswered but written by today's model: no such warning
    assert "another model" not in own.stderr
