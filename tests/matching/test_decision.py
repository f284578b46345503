"""The decision rule: exact matches, threshold and margin, tie-breaks, determinism, speed."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.matching.decision import Decision, MatchEntry, MatchIndex
from remedy.normalize import normalize_question

DIM = 32


def _word_vector(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIM)


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """A deterministic stand-in for an embedder: mean of per-word random vectors, unit rows."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        words = normalize_question(text).split()
        if words:
            v = np.mean([_word_vector(w) for w in words], axis=0)
            out[i] = v / np.linalg.norm(v)
    return out


def entry(
    id: str, question: str, *also: str, status: str = "active", kind: str = "answer", threshold: float | None = None
) -> MatchEntry:
    return MatchEntry(id=id, kind=kind, status=status, question=question, also_matches=also, threshold=threshold)


ENTRIES = [
    entry("refund", "can i get a refund for a cancelled flight", "my flight got cancelled money back"),
    entry("baggage", "how many bags can i check in"),
    entry("pets", "can i bring my dog on the plane"),
    entry("refund-draft", "refund for cancelled flight please", status="draft"),
    entry("wifi", "is there wifi on board", kind="guidance"),
]


def make_index(entries: Sequence[MatchEntry] = ENTRIES, threshold: float = 0.6, margin: float = 0.05) -> MatchIndex:
    return MatchIndex(entries, bag_of_words, threshold=threshold, margin=margin)


def test_exact_match_after_normalization_wins_with_similarity_one() -> None:
    [d] = make_index().decide(["  Can I get a REFUND for a cancelled flight?? "], kind="answer")
    assert d.entry_id == "refund" and d.best_id == "refund"
    assert d.exact and d.accepted and d.similarity == 1.0
    assert d.runner_up_id is not None and d.margin == pytest.approx(1.0 - d.runner_up_similarity)


def test_exact_match_on_also_matches() -> None:
    [d] = make_index().decide(["My flight got  CANCELLED money back!"], kind="answer")
    assert (d.entry_id, d.exact, d.similarity) == ("refund", True, 1.0)


def test_similar_query_is_accepted_and_far_query_is_not() -> None:
    near, far = make_index(threshold=0.5, margin=0.0).decide(
        ["can i get a refund for my cancelled flight", "what is the capital of peru"], kind="answer"
    )
    assert near.entry_id == "refund" and not near.exact and 0.5 <= near.similarity < 1.0
    assert far.entry_id is None and not far.accepted and far.best_id is not None


def test_margin_rejects_an_ambiguous_query() -> None:
    twins = [entry("a", "reset my password now"), entry("b", "reset my password today")]
    [d] = make_index(twins, threshold=0.3, margin=0.2).decide(["reset my password"], kind="answer")
    assert d.best_id in {"a", "b"} and d.runner_up_id in {"a", "b"} and d.best_id != d.runner_up_id
    assert d.margin < 0.2 and not d.accepted and d.entry_id is None
    [d] = make_index(twins, threshold=0.3, margin=0.0).decide(["reset my password"], kind="answer")
    assert d.accepted


def test_entry_threshold_overrides_index_threshold() -> None:
    strict = [
        entry("refund", "can i get a refund for a cancelled flight", threshold=0.99),
        entry("pets", "can i bring my dog on the plane"),
    ]
    [d] = make_index(strict, threshold=0.3, margin=0.0).decide(["refund for my cancelled flight"], kind="answer")
    assert d.best_id == "refund" and not d.accepted


def test_kind_and_status_filter_candidates() -> None:
    index = make_index()
    [d] = index.decide(["is there wifi on board"], kind="answer")
    assert d.best_id != "wifi" and not d.exact
    [d] = index.decide(["is there wifi on board"], kind="guidance")
    assert d.entry_id == "wifi"
    [d] = index.decide(["refund for cancelled flight please"], kind="answer", statuses=("draft",))
    assert d.entry_id == "refund-draft" and d.runner_up_id is None and d.margin == d.similarity
    [d] = index.decide(["anything"], kind="review")
    assert d == Decision(None, None, 0.0, None, 0.0, 0.0, False, False)


def test_exact_tie_prefers_active_then_lower_id() -> None:
    same = [
        entry("zeta", "Same question"),
        entry("alpha", "same question?", status="draft"),
        entry("beta", "same question"),
    ]
    [d] = make_index(same).decide(["same question"], kind="answer", statuses=("active", "draft"))
    assert (d.entry_id, d.runner_up_id, d.runner_up_similarity, d.margin) == ("beta", "zeta", 1.0, 0.0)


def test_similarity_tie_prefers_active_then_lower_id() -> None:
    same = [
        entry("b", "lost luggage claim", status="draft"),
        entry("c", "lost luggage claim form"),
        entry("a", "lost luggage claim", status="draft"),
    ]
    index = make_index(same, threshold=0.0, margin=0.0)
    [d] = index.decide(["claim lost luggage"], kind="answer", statuses=("active", "draft"))
    assert d.best_id == "a" and d.runner_up_id == "b" and d.margin == 0.0
    assert [i for i, _ in index.nearest("claim lost luggage")] == ["a", "b", "c"]


def test_query_without_known_words_never_matches_except_exactly() -> None:
    index = MatchIndex([entry("x", "hello")], lambda t: np.zeros((len(t), 4), np.float32), 0.0, 0.0)
    [d] = index.decide(["zzz"], kind="answer")
    assert not d.accepted and d.similarity == 0.0
    [d] = index.decide(["Hello!"], kind="answer")
    assert d.accepted and d.exact


def test_leave_out_exact_judges_an_also_matches_without_its_own_text() -> None:
    index = make_index(threshold=0.0, margin=0.0)
    [d] = index.decide(["my flight got cancelled money back"], kind="answer", leave_out_exact=True)
    assert not d.exact and d.similarity < 1.0 and d.best_id == "refund"
    only = make_index([entry("solo", "one text")], threshold=0.0, margin=0.0)
    [d] = only.decide(["one text"], kind="answer", leave_out_exact=True)
    assert d.similarity == -1.0 and not d.accepted


def test_nearest_lists_best_first_across_kinds() -> None:
    near = make_index().nearest("is there wifi on board", top=3)
    assert near[0] == ("wifi", 1.0) and len(near) == 3
    assert [s for _, s in near] == sorted((s for _, s in near), reverse=True)
    assert make_index().nearest("wifi", kind="answer", statuses=("draft",)) == [
        ("refund-draft", pytest.approx(make_index().nearest("wifi", kind="answer", statuses=("draft",))[0][1]))
    ]


def test_decide_vectors_agrees_with_decide_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import remedy.matching.decision as decision

    monkeypatch.setattr(decision, "_BLOCK_CELLS", 7)  # force many tiny blocks
    queries = ["refund cancelled flight", "bags check in", "dog plane", "peru", "Is there wifi on board?"]
    index = make_index(threshold=0.3, margin=0.01)
    vectors = bag_of_words(queries)
    normalized = [normalize_question(q) for q in queries]
    assert index.decide_vectors(vectors, normalized, kind="answer") == index.decide(queries, kind="answer")


words = st.sampled_from("refund flight cancel bag dog wifi seat meal price card lost".split())
questions = st.lists(words, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(questions, min_size=1, max_size=8, unique_by=normalize_question), st.data())
def test_identical_query_always_matches_its_own_entry(texts: list[str], data: st.DataObject) -> None:
    entries = [entry(f"e{i}", t) for i, t in enumerate(texts)]
    index = make_index(entries, threshold=0.99, margin=0.5)
    i = data.draw(st.integers(0, len(texts) - 1))
    query = data.draw(st.sampled_from([texts[i], texts[i].upper() + "?", f"  {texts[i]} !"]))
    [d] = index.decide([query], kind="answer")
    assert (d.entry_id, d.similarity, d.exact, d.accepted) == (f"e{i}", 1.0, True, True)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(questions, st.sampled_from(["active", "draft"])), min_size=1, max_size=8),
    st.lists(questions, min_size=1, max_size=4),
    st.randoms(use_true_random=False),
)
def test_decide_is_deterministic_under_entry_order(specs: list[tuple[str, str]], queries: list[str], rnd) -> None:
    entries = [entry(f"e{i}", q, status=s) for i, (q, s) in enumerate(specs)]
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    statuses = ("active", "draft")
    a = make_index(entries, 0.5, 0.02).decide(queries, kind="answer", statuses=statuses)
    b = make_index(shuffled, 0.5, 0.02).decide(queries, kind="answer", statuses=statuses)
    assert a == b


def test_decide_one_query_on_1000_entries_is_well_under_a_millisecond() -> None:
    rng = np.random.default_rng(0)
    table = {f"q{i}": rng.standard_normal(64).astype(np.float32) for i in range(1001)}

    def encode(texts: Sequence[str]) -> np.ndarray:
        return np.stack([table.get(t, table["q1000"]) for t in texts])

    entries = [entry(f"id-{i:04d}", f"q{i}") for i in range(1000)]
    index = MatchIndex(entries, encode, threshold=0.8, margin=0.05)
    index.decide(["warm up"], kind="answer")
    times = []
    for _ in range(200):
        start = time.perf_counter()
        index.decide(["q1000"], kind="answer")
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) < 1e-3


def test_decide_vectors_is_vectorized_for_logs() -> None:
    rng = np.random.default_rng(1)
    dim, n_texts, n_queries = 64, 2000, 20_000
    vectors = rng.standard_normal((n_texts, dim)).astype(np.float32)
    entries = [entry(f"e{i:04d}", f"t{2 * i}", f"t{2 * i + 1}") for i in range(n_texts // 2)]
    lookup = {f"t{i}": i for i in range(n_texts)}
    index = MatchIndex(entries, lambda texts: vectors[[lookup[t] for t in texts]], 0.5, 0.05)
    queries = rng.standard_normal((n_queries, dim)).astype(np.float32)
    start = time.perf_counter()
    decisions = index.decide_vectors(queries, [""] * n_queries, kind="answer")
    assert len(decisions) == n_queries
    assert time.perf_counter() - start < 5.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(questions, min_size=1, max_size=4), min_size=1, max_size=6),
    st.lists(questions, min_size=1, max_size=3),
)
def test_similarity_is_the_best_over_each_entrys_texts(texts: list[list[str]], queries: list[str]) -> None:
    entries = [entry(f"e{i}", t[0], *t[1:]) for i, t in enumerate(texts)]
    index = make_index(entries, threshold=0.0, margin=0.0)
    for query, d in zip(queries, index.decide(queries, kind="answer"), strict=True):
        expected = {
            e.id: float(np.max(bag_of_words([e.question, *e.also_matches]) @ bag_of_words([query])[0])) for e in entries
        }
        if d.exact:
            assert d.similarity == 1.0
            continue
        assert d.best_id is not None
        assert d.similarity == pytest.approx(max(expected.values()), abs=1e-5)
        assert d.similarity == pytest.approx(expected[d.best_id], abs=1e-5)
        if d.runner_up_id is not None:
            others = [v for k, v in expected.items() if k != d.best_id]
            assert d.runner_up_similarity == pytest.approx(max(others), abs=1e-5)


def test_leave_out_exact_hides_every_copy_of_the_text() -> None:
    # Two of three entries have a second text, so the second slot is padded with the third's
    # first text: the held-out question must be hidden in both places it appears.
    entries = [
        entry("refund", "refund for a cancelled flight", "money back cancelled flight"),
        entry("bags", "how many bags can i check", "checked bag allowance"),
        entry("pets", "dog on the plane"),  # one text: its copy pads the second slot
    ]
    index = make_index(entries, threshold=0.0, margin=0.0)
    query = "dog on the plane"
    [d] = index.decide([query], kind="answer", leave_out_exact=True)
    q = bag_of_words([query])[0]
    expected = {
        e.id: max((float(bag_of_words([t])[0] @ q) for t in (e.question, *e.also_matches) if t != query), default=-1.0)
        for e in entries
    }
    best = max(expected, key=lambda k: expected[k])
    assert not d.exact and d.best_id == best
    assert d.similarity == pytest.approx(expected[best], abs=1e-5) and best != "pets"


def test_nearest_equals_a_full_stable_sort_ties_included() -> None:
    rng = np.random.default_rng(7)
    entries = [MatchEntry(id=f"e{i:03d}", kind="answer", status="active", question=f"q{i}") for i in range(300)]
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    vectors[100:140] = vectors[5]  # many exact ties with entry 5
    table = {f"q{i}": vectors[i] for i in range(300)}
    index = MatchIndex(entries, lambda texts: np.stack([table.get(t, vectors[5]) for t in texts]), 0.5, 0.0)
    query = np.asarray([vectors[5]], dtype=np.float32)
    row = index._entry_scores(index._view(None, None), query)[0].astype(np.float64)
    expected = [(index._view(None, None).ids[c], float(row[c])) for c in np.argsort(-row, kind="stable")]
    for top in (1, 5, 41, 300, 400):
        assert index.nearest_vector(query, "not exact", top=top) == expected[:top]


@settings(max_examples=40, deadline=None)
@given(query=st.sampled_from(["can i get a refund for a cancelled flight", "Can I get a refund for a cancelled "
                              "flight?", "wifi on board", "reset my password", "lost luggage claim", "zzz"]),
       kind=st.sampled_from(["answer", "guidance", "review"]),
       statuses=st.sampled_from([("active",), ("draft",), ("active", "draft"), ("paused",)]))
def test_deciding_from_every_entry_scores_equals_deciding_alone(query: str, kind: str, statuses: tuple) -> None:
    index = make_index()
    vector = np.asarray(bag_of_words([query]), dtype=np.float32)
    normalized = [normalize_question(query)]
    every_entry = index.every_entry_scores(vector)
    # The same dot products, from a wider matrix product: equal up to float32 rounding.
    [shared] = index.decide_vectors(vector, normalized, kind=kind, statuses=statuses, every_entry=every_entry)
    [alone] = index.decide_vectors(vector, normalized, kind=kind, statuses=statuses)
    assert (shared.entry_id, shared.best_id, shared.runner_up_id, shared.exact, shared.accepted) == \
        (alone.entry_id, alone.best_id, alone.runner_up_id, alone.exact, alone.accepted)
    assert (shared.similarity, shared.margin) == pytest.approx((alone.similarity, alone.margin), abs=1e-6)
    near_shared = index.nearest_vector(vector, normalized[0], top=4, every_entry=every_entry)
    near_alone = index.nearest_vector(vector, normalized[0], top=4)
    assert [i for i, _ in near_shared] == [i for i, _ in near_alone]
    assert [s for _, s in near_shared] == pytest.approx([s for _, s in near_alone], abs=1e-6)


# -- rule 4: must_not_match ---------------------------------------------------------------------------------

NEAR_MISS = "can i get a refund for a cancelled hotel"


def _with_negatives(*negatives: str, delta: float = 0.0) -> MatchIndex:
    entries = [MatchEntry(id="refund", kind="answer", status="active", question="can i get a refund for a cancelled "
                          "flight", also_matches=("my flight got cancelled money back",), must_not_match=negatives),
               *ENTRIES[1:]]
    return MatchIndex(entries, bag_of_words, threshold=0.3, margin=0.0, delta=delta)


def test_a_listed_near_miss_is_refused_and_says_by_what() -> None:
    [before] = make_index(threshold=0.3, margin=0.0).decide([NEAR_MISS], kind="answer")
    assert before.entry_id == "refund" and not before.blocked and before.negative_similarity is None
    [after] = _with_negatives(NEAR_MISS.upper() + "?").decide([NEAR_MISS], kind="answer")
    assert after.entry_id is None and not after.accepted and after.blocked
    assert after.best_id == "refund" and after.negative_similarity == 1.0  # equal once normalized
    assert after.similarity == pytest.approx(before.similarity)


def test_a_query_nearer_a_negative_than_the_entry_is_refused_and_a_paraphrase_still_served() -> None:
    index = _with_negatives("refund for a cancelled hotel room booking")
    near, paraphrase = index.decide(["refund cancelled hotel room", "refund for my cancelled flight"], kind="answer")
    assert near.best_id == "refund" and near.blocked and near.entry_id is None
    assert near.negative_similarity is not None and near.negative_similarity >= near.similarity
    assert paraphrase.entry_id == "refund" and not paraphrase.blocked
    assert paraphrase.negative_similarity is not None and paraphrase.negative_similarity < paraphrase.similarity


def test_delta_widens_the_refusal() -> None:
    query = "refund for my cancelled flight"
    [plain] = _with_negatives("refund for a cancelled hotel room booking").decide([query], kind="answer")
    gap = plain.similarity - plain.negative_similarity
    [wide] = _with_negatives("refund for a cancelled hotel room booking", delta=gap + 0.01).decide([query],
                                                                                                    kind="answer")
    assert not plain.blocked and wide.blocked and wide.entry_id is None


def test_an_exact_match_is_never_blocked_and_leave_out_hides_the_negative_itself() -> None:
    index = _with_negatives(NEAR_MISS, "can i get a refund for a cancelled flight")
    [exact] = index.decide(["Can I get a refund for a cancelled flight"], kind="answer")
    assert exact.exact and exact.entry_id == "refund"
    [held_out] = _with_negatives(NEAR_MISS).decide([NEAR_MISS], kind="answer", leave_out_exact=True)
    assert held_out.entry_id == "refund" and not held_out.blocked and held_out.negative_similarity is None


def test_closest_negative_names_the_text() -> None:
    index = _with_negatives("refund for a cancelled hotel room booking", "lost my luggage")
    vector = bag_of_words(["refund cancelled hotel room"])[0]
    text, similarity = index.closest_negative("refund", vector) or ("", 0.0)
    assert text == "refund for a cancelled hotel room booking" and 0.5 < similarity < 1.0
    assert index.closest_negative("baggage", vector) is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.lists(questions, min_size=1, max_size=3), st.lists(questions, max_size=3)),
             min_size=1, max_size=6),
    st.lists(questions, min_size=1, max_size=4),
    st.sampled_from([0.0, 0.02, 0.1]),
    st.booleans(),
)
def test_rule_4_equals_brute_force(specs: list, queries: list[str], delta: float, leave_out: bool) -> None:
    entries = [MatchEntry(id=f"e{i}", kind="answer", status="active", question=texts[0],
                          also_matches=tuple(texts[1:]), must_not_match=tuple(negatives))
               for i, (texts, negatives) in enumerate(specs)]
    index = MatchIndex(entries, bag_of_words, threshold=0.2, margin=0.01, delta=delta)
    for query, d in zip(queries, index.decide(queries, kind="answer", leave_out_exact=leave_out), strict=True):
        if d.exact:
            continue
        owner = next(e for e in entries if e.id == d.best_id)
        q = normalize_question(query)
        kept = [t for t in dict.fromkeys(owner.must_not_match) if not (leave_out and normalize_question(t) == q)]
        scores = [1.0 if normalize_question(t) == q else float(bag_of_words([t])[0] @ bag_of_words([query])[0])
                  for t in kept]
        nearest = max(scores, default=None)
        if nearest is None:
            assert d.negative_similarity is None and not d.blocked
            continue
        assert d.negative_similarity == pytest.approx(nearest, abs=1e-5)
        if abs(nearest - (d.similarity - delta)) > 1e-5:  # away from the edge, where float rounding decides
            assert d.blocked == (nearest >= d.similarity - delta and d.similarity > 0)
        if d.blocked:
            assert d.entry_id is None
