"""Loading models without a network and encoding texts into unit rows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from remedy.errors import UsageError
from remedy.matching.embedding import BUNDLED_DIR, load_embedder

TINY_VOCAB = ["[UNK]", "refund", "flight", "cancel", "##led", "bag", "dog", "plane", "?"]


def write_tiny_model(folder: Path, seed: int = 0, dim: int = 8) -> Path:
    """A four-file model2vec model with a WordPiece tokenizer of a few tokens: no network."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {token: i for i, token in enumerate(TINY_VOCAB)}
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vectors = np.random.default_rng(seed).standard_normal((len(vocab), dim)).astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True).save_pretrained(str(folder))
    return folder


def test_bundled_model_loads_fast_and_encodes_unit_rows() -> None:
    start = time.process_time()  # CPU time: a busy machine must not fail it, a slow load path must
    embedder = load_embedder("bundled")
    assert time.process_time() - start < 2.0  # < 0.5 s warm; generous for a cold CI disk
    assert embedder.name == "bundled" and embedder.dim == 256
    vectors = embedder.encode(["Can I get a refund?", "how many bags can I check", "zzqx"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 256)


def test_bundled_model_ships_its_defaults_and_a_stable_fingerprint() -> None:
    embedder = load_embedder("bundled")
    assert embedder.defaults is not None
    assert 0.0 < embedder.defaults.threshold < 1.0 and 0.0 <= embedder.defaults.margin < 0.5
    assert len(embedder.fingerprint) == 16 and embedder.fingerprint == load_embedder("bundled").fingerprint
    assert (BUNDLED_DIR / "LICENSE").is_file()


def test_paraphrases_are_closer_than_unrelated_questions() -> None:
    embedder = load_embedder("bundled")
    a, b, c = embedder.encode(
        [
            "can i get my money back for a cancelled flight",
            "refund for a cancelled flight",
            "what is the weather in paris",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.1


def test_trailing_punctuation_and_case_do_not_change_the_vector() -> None:
    embedder = load_embedder("bundled")
    a, b = embedder.encode(["Refund for a cancelled flight?", "refund for a  cancelled flight"])
    assert np.allclose(a, b)


def test_local_folder_relative_to_base_dir(tmp_path: Path) -> None:
    write_tiny_model(tmp_path / "models" / "tiny")
    embedder = load_embedder("models/tiny", base_dir=tmp_path)
    assert embedder.dim == 8 and embedder.defaults is None
    vectors = embedder.encode(["refund flight", "Refund flight?", "nothing known here"])
    assert np.allclose(vectors[0], vectors[1])
    assert np.allclose(np.linalg.norm(vectors[0]), 1.0)
    assert not vectors[2].any()  # no known token: a zero row, not NaN


def test_defaults_file_is_read_when_present(tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path / "tiny")
    (folder / "remedy_defaults.json").write_text(json.dumps({"threshold": 0.7, "margin": 0.03}))
    defaults = load_embedder(str(folder)).defaults
    assert defaults is not None and (defaults.threshold, defaults.margin) == (0.7, 0.03)


def test_fingerprint_follows_the_model_bytes(tmp_path: Path) -> None:
    one = load_embedder(str(write_tiny_model(tmp_path / "one", seed=1)))
    same = load_embedder(str(write_tiny_model(tmp_path / "same", seed=1)))
    other = load_embedder(str(write_tiny_model(tmp_path / "other", seed=2)))
    assert one.fingerprint == same.fingerprint != other.fingerprint


def test_missing_folder_is_a_usage_error_not_a_download(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_embedder("./no-such-model", base_dir=tmp_path)


def test_uncached_model_id_is_a_usage_error_not_a_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UsageError, match="never downloads"):
        load_embedder("remedy-tests/no-such-model-7f3a", base_dir=tmp_path)


def test_folder_without_model_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="not a model2vec model"):
        load_embedder("empty", base_dir=tmp_path)


def test_the_model_is_read_as_model2vec_reads_it(tmp_path: Path) -> None:
    """`_read_model` skips model2vec's persistence imports; the model it builds must be the same."""
    from model2vec import StaticModel

    from remedy.matching.embedding import _read_model

    for folder in (BUNDLED_DIR, write_tiny_model(tmp_path / "tiny")):
        ours, theirs = _read_model(StaticModel, folder), StaticModel.from_pretrained(folder)
        assert np.array_equal(ours.embedding, theirs.embedding) and ours.embedding.dtype == theirs.embedding.dtype
        assert ours.tokenizer.to_str() == theirs.tokenizer.to_str()
        assert (ours.config, ours.normalize, ours.max_length, ours.unk_token_id, ours.median_token_length) == \
            (theirs.config, theirs.normalize, theirs.max_length, theirs.unk_token_id, theirs.median_token_length)
        assert ours.weights is None and theirs.weights is None
        texts = ["Can I get a refund?", "refund cancelled flight dog"]
        assert np.array_equal(ours.encode(texts), theirs.encode(texts))
    (tmp_path / "other").mkdir()  # another layout: left to from_pretrained
    assert _read_model(StaticModel, tmp_path / "other") is None
