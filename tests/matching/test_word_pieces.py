"""The word-memo embedding path gives model2vec's vectors bit for bit, or steps aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.matching.test_embedding import write_tiny_model

from remedy.matching.embedding import MAX_TOKENS, WORD_PATH_MIN_TEXTS, load_embedder
from remedy.matching.word_pieces import WordPieceEncoder
from remedy.normalize import normalize_question

QUERIES = [
    "can i get a refund", "how many bags can i check", "zzqx unknownish words", "", "refund refund refund",
    "café au lait, s'il vous plaît", "退款 政策", "order #12345 -- where is it?!", "[mask] and [cls] typed",
    "e-mail me at a.b@c.de", "x " * 300, "y" * 2000, "ǰ ﬁ ㈱ ①", "tab\there", "under_score 3.14 1,000",
]


@pytest.fixture(scope="module")
def bundled():  # type: ignore[no-untyped-def]
    return load_embedder("bundled")._model


def _model2vec(model, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(model.encode(texts, max_length=MAX_TOKENS, use_multiprocessing=False,
                                   show_progress_bar=False, normalize=False))


def test_bundled_model_takes_the_word_path_and_matches_model2vec_bit_for_bit(bundled) -> None:  # type: ignore[no-untyped-def]
    encoder = WordPieceEncoder.of(bundled, MAX_TOKENS, lambda texts: _model2vec(bundled, texts))
    assert encoder is not None
    texts = [normalize_question(q) for q in QUERIES]
    vectors, rest = encoder.encode(texts)
    # the two texts model2vec truncates (300 tokens, 2,000 characters) are left to it
    assert rest.tolist() == [len(t) > MAX_TOKENS * bundled.median_token_length or t.count("x") >= 300
                             for t in texts]
    expected = _model2vec(bundled, texts)
    assert vectors.dtype == expected.dtype
    assert np.array_equal(vectors[~rest], expected[~rest])
    # the second call reuses the memo of words and still agrees
    again, _ = encoder.encode(texts[::-1])
    assert np.array_equal(again[::-1][~rest], expected[~rest])


def test_embedder_encode_is_unchanged_by_the_word_path() -> None:
    fast, slow = load_embedder("bundled"), load_embedder("bundled")
    slow._word_pieces = None  # model2vec for every text
    assert np.array_equal(fast.encode(QUERIES[:2]), slow.encode(QUERIES[:2]))
    assert "_word_pieces" not in vars(fast)  # a few texts at a time (run-time queries) stay on model2vec's path
    texts = [f"{query} {i}" for i in range(5) for query in QUERIES]
    assert len(texts) >= WORD_PATH_MIN_TEXTS
    assert np.array_equal(fast.encode(texts), slow.encode(texts))
    assert isinstance(fast._word_pieces, WordPieceEncoder)


# words the vocabulary knows, pieces of words, punctuation, accents, CJK and runs of spaces
_TEXT = st.lists(st.sampled_from(list("abcdefgh ijk  ?!.,'-#éü退款 ") + ["refund", "bag", "ed", "##", "cancel"]),
                 max_size=30).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_TEXT, min_size=1, max_size=12))
def test_any_normalized_texts_match_model2vec(bundled, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    encoder = WordPieceEncoder.of(bundled, MAX_TOKENS, lambda texts: _model2vec(bundled, texts))
    prepared = [normalize_question(t) for t in texts]
    vectors, rest = encoder.encode(prepared)  # type: ignore[union-attr]
    assert not rest.any()
    assert np.array_equal(vectors, _model2vec(bundled, prepared))


def test_a_tiny_wordpiece_model_qualifies(tmp_path: Path) -> None:
    from model2vec import StaticModel

    model = StaticModel.from_pretrained(write_tiny_model(tmp_path / "tiny"))
    encoder = WordPieceEncoder.of(model, MAX_TOKENS, lambda texts: _model2vec(model, texts))
    assert encoder is not None
    texts = ["refund cancelled flight", "dog plane? bag", "unknown refund"]
    vectors, _ = encoder.encode(texts)
    assert np.array_equal(vectors, _model2vec(model, texts))


def test_tokenizers_that_keep_spaces_in_tokens_are_left_to_model2vec(tmp_path: Path) -> None:
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    # byte-level BPE: "Ġrefund" (with its space) is not the token of "refund" alone
    vocab = {"refund": 0, "Ġrefund": 1, "bag": 2, "Ġbag": 3, "[UNK]": 4}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    vectors = np.random.default_rng(0).standard_normal((len(vocab), 8)).astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True).save_pretrained(str(tmp_path / "bpe"))
    bpe = StaticModel.from_pretrained(tmp_path / "bpe")
    assert WordPieceEncoder.of(bpe, MAX_TOKENS, lambda texts: _model2vec(bpe, texts)) is None
    embedder = load_embedder(str(tmp_path / "bpe"))
    assert embedder.encode(["refund bag"] * WORD_PATH_MIN_TEXTS).shape == (WORD_PATH_MIN_TEXTS, 8)  # model2vec's
    assert embedder._word_pieces is None


def test_weighted_or_quantized_models_are_left_to_model2vec(bundled) -> None:  # type: ignore[no-untyped-def]
    from model2vec import StaticModel

    weighted = StaticModel(vectors=np.asarray(bundled.embedding), tokenizer=bundled.tokenizer,
                           weights=np.ones(len(bundled.embedding), dtype=np.float32), normalize=False)
    assert WordPieceEncoder.of(weighted, MAX_TOKENS, lambda texts: _model2vec(weighted, texts)) is None


def test_threads_sharing_one_encoder_get_the_same_vectors(bundled) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    encoder = WordPieceEncoder.of(bundled, MAX_TOKENS, lambda texts: _model2vec(bundled, texts))
    batches = [[f"word{i}{j} refund bag {j}" for j in range(300)] for i in range(8)]  # every batch adds new words
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda texts: encoder.encode(texts)[0], batches))  # type: ignore[union-attr]
    for texts, vectors in zip(batches, together, strict=True):
        assert np.array_equal(vectors, _model2vec(bundled, texts))
