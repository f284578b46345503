"""Adaptation: the ridge fit, writing an adapted model folder, and the optional teacher."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from remedy.errors import RemedyError, UsageError
from remedy.matching.adapt import Projection, adapt_model, fit_token_vectors, load_teacher
from remedy.matching.adapt_guidance import GUIDE_PULL, GUIDE_THRESHOLD, entry_texts, guide_targets
from remedy.matching.decision import MatchEntry
from remedy.matching.embedding import load_embedder

VOCAB = ["[UNK]", "refund", "flight", "cancel", "##led", "bag", "dog", "plane", "money", "back", "?"]
HAS_TEACHER = importlib.util.find_spec("sentence_transformers") is not None


def write_tiny_model(folder: Path, dim: int = 6) -> Path:
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tokenizer = Tokenizer(models.WordPiece(vocab={t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vectors = np.random.default_rng(0).standard_normal((len(VOCAB), dim)).astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True).save_pretrained(str(folder))
    (folder / "LICENSE").write_text("test licence\n")
    return folder


def fake_teacher(texts: Sequence[str]) -> np.ndarray:
    """A deterministic 'transformer': one unit vector per distinct text."""
    out = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(10)
        out.append(v / np.linalg.norm(v))
    return np.asarray(out, dtype=np.float32)


def dense_solution(base: np.ndarray, token_ids: list[list[int]], targets: np.ndarray, ridge: float) -> np.ndarray:
    a = np.zeros((len(token_ids), base.shape[0]))
    for i, ids in enumerate(token_ids):
        for t in ids:
            a[i, t] += 1.0 / len(ids)
    occurring = np.flatnonzero(a.any(axis=0))
    a = a[:, occurring]
    solved = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ targets + ridge * base[occurring])
    out = base.astype(np.float64).copy()
    out[occurring] = solved
    return out


@pytest.mark.parametrize("hide_scipy", [False, True])
def test_fit_token_vectors_matches_the_closed_form(hide_scipy: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if hide_scipy:
        monkeypatch.setitem(sys.modules, "scipy", None)
        monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    rng = np.random.default_rng(3)
    base = rng.standard_normal((12, 4)).astype(np.float32)
    token_ids = [list(rng.integers(0, 9, size=rng.integers(1, 5))) for _ in range(40)] + [[]]
    targets = rng.standard_normal((41, 4)).astype(np.float32)
    fitted, changed = fit_token_vectors(base, token_ids, targets, ridge=0.1, tolerance=1e-7)
    expected = dense_solution(base, token_ids[:-1], targets[:-1], 0.1)
    assert changed == len({t for ids in token_ids for t in ids})
    assert np.allclose(fitted, expected, atol=1e-3)
    assert np.array_equal(fitted[9:], base[9:])  # tokens that never occur keep their vectors


def test_fit_recovers_vectors_that_explain_the_targets() -> None:
    rng = np.random.default_rng(4)
    truth = rng.standard_normal((8, 3))
    token_ids = [list(rng.integers(0, 8, size=3)) for _ in range(300)]
    targets = np.stack([truth[ids].mean(axis=0) for ids in token_ids])
    fitted, _ = fit_token_vectors(np.zeros((8, 3), np.float32), token_ids, targets, ridge=1e-4, tolerance=1e-8)
    assert np.allclose(fitted, truth, atol=0.02)


def test_fit_rejects_a_non_positive_ridge() -> None:
    with pytest.raises(ValueError):
        fit_token_vectors(np.zeros((2, 2), np.float32), [[0]], np.zeros((1, 2)), ridge=0.0)


def test_adapt_model_writes_a_loadable_model_folder(tmp_path: Path) -> None:
    base = write_tiny_model(tmp_path / "base")
    queries = ["refund flight", "Refund flight?", "cancelled flight money back", "dog plane", "bag", "zzz"]
    stages: list[str] = []
    result = adapt_model(
        base,
        queries,
        fake_teacher,
        tmp_path / "out",
        ridge=0.05,
        progress=lambda stage, done, total: stages.append(stage),
    )
    assert result.queries == 4  # "Refund flight?" normalizes to a duplicate; "zzz" has no known token
    assert result.tokens_changed == len({"refund", "flight", "cancel", "##led", "money", "back", "dog", "plane"}) + 1
    assert result.projection == "fitted" and result.seconds >= 0 and "teacher" in stages and "fit" in stages
    out = tmp_path / "out"
    assert (out / "LICENSE").read_text() == "test licence\n"
    assert Projection.load(out) is not None
    adapted, original = load_embedder(str(out)), load_embedder(str(base))
    assert adapted.dim == original.dim and adapted.fingerprint != original.fingerprint
    assert not np.allclose(adapted.encode(["dog plane"]), original.encode(["dog plane"]))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_adapt_model_refuses_a_non_empty_folder_unless_asked(tmp_path: Path) -> None:
    base = write_tiny_model(tmp_path / "base")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        adapt_model(base, ["refund flight"], fake_teacher, tmp_path / "out")
    adapt_model(base, ["refund flight"], fake_teacher, tmp_path / "out", overwrite=True)
    assert not (tmp_path / "out" / "keep.txt").exists() and (tmp_path / "out" / "model.safetensors").is_file()


def test_adapt_model_needs_known_tokens(tmp_path: Path) -> None:
    base = write_tiny_model(tmp_path / "base")
    with pytest.raises(UsageError, match="nothing to adapt"):
        adapt_model(base, ["zzz", ""], fake_teacher, tmp_path / "out")


def test_adapting_the_bundled_model_uses_its_stored_projection(tmp_path: Path) -> None:
    bundled = load_embedder("bundled")
    projection = Projection.load(bundled.folder)
    assert projection is not None and projection.components.shape[0] == bundled.dim

    def teacher(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), projection.components.shape[1]), np.float32)
        out[:, 0] = 1.0
        return out

    result = adapt_model(bundled, ["how do i reset my password"], teacher, tmp_path / "out")
    assert result.projection == "stored" and result.tokens_changed > 0
    # never the base model's settings: with nothing to choose them on, exact matches only
    adapted = load_embedder(str(tmp_path / "out"))
    assert adapted.defaults != bundled.defaults and adapted.defaults is not None
    assert adapted.defaults.threshold == 1.0 and result.defaults["certified"] is False


@pytest.mark.skipif(HAS_TEACHER, reason="sentence-transformers is installed")
def test_load_teacher_names_the_extra_when_missing() -> None:
    with pytest.raises(RemedyError, match=r"pip install 'remedy-sme\[adapt\]'"):
        load_teacher(None)


@pytest.mark.skipif(not HAS_TEACHER, reason="needs remedy-sme[adapt] (sentence-transformers)")
def test_default_teacher_embeds_offline() -> None:
    teacher = load_teacher(None)
    vectors = teacher(["refund for a cancelled flight", "money back for my cancelled flight", "weather in lima"])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def bag_of_words_teacher(dim: int = 384) -> Callable[[Sequence[str]], np.ndarray]:
    """A 'transformer' whose similarity is word overlap: enough to make guidance decisions predictable."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), dim), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace("?", "").split():
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
                out[row] += np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out

    return encode


def entry(id: str, question: str, *also: str, kind: str = "answer", status: str = "active") -> MatchEntry:
    return MatchEntry(id=id, kind=kind, status=status, question=question, also_matches=also)


def test_guidance_pulls_confident_queries_toward_their_remediation_only() -> None:
    teacher = bag_of_words_teacher(64)
    entries = [
        entry("refund", "can i get a refund for my cancelled flight", "money back for a cancelled flight"),
        entry("pets", "can i bring my dog on the plane"),
        entry("old", "can i get a refund for my cancelled flight today", status="paused"),
    ]
    texts = ["can i get a refund for my cancelled flight please",  # near "refund" only
             "what is the weather in lima",  # near nothing
             "my dog",  # nearest "pets", but below the 0.70 floor
             *entry_texts(entries)]
    vectors = teacher(texts)
    targets = np.zeros_like(vectors)
    guidance = guide_targets(texts, vectors, targets, entries, lambda v: v)
    refund_centroid = vectors[[texts.index("can i get a refund for my cancelled flight"),
                               texts.index("money back for a cancelled flight")]].mean(axis=0)
    assert np.allclose(guidance.targets[0], GUIDE_PULL * refund_centroid, atol=1e-6)
    assert not guidance.targets[1].any()
    assert float(vectors[2] @ vectors[texts.index("can i bring my dog on the plane")]) < GUIDE_THRESHOLD
    assert not guidance.targets[2].any()
    # 1 log query + the 3 texts of the two guiding entries (they match themselves exactly); paused: ignored.
    assert guidance.queries == 4 and guidance.entries == 2
    assert "can i get a refund for my cancelled flight today" not in entry_texts(entries)
    assert not targets.any()  # the input is not modified


def test_guidance_averages_the_remediations_of_several_kinds() -> None:
    teacher = bag_of_words_teacher(64)
    entries = [entry("a", "lost my bag at the airport"), entry("g", "lost my bag at the airport", kind="guidance")]
    texts = ["lost my bag at the airport", "i lost my bag at the airport"]
    vectors = teacher(texts)
    guidance = guide_targets(texts, vectors, np.zeros_like(vectors), entries, lambda v: v)
    assert np.allclose(guidance.targets[1], GUIDE_PULL * vectors[0], atol=1e-6)
    assert guidance.queries == 2 and guidance.entries == 2


def test_guidance_without_entries_changes_nothing() -> None:
    vectors = np.eye(3, dtype=np.float32)
    guidance = guide_targets(["a", "b", "c"], vectors, vectors, [], lambda v: v)
    assert guidance.queries == 0 and guidance.targets is vectors


def test_adapt_model_with_a_guiding_folder_fits_its_texts_and_reports_the_pull(tmp_path: Path) -> None:
    base = write_tiny_model(tmp_path / "base")
    teacher = bag_of_words_teacher(10)
    guide = [entry("refund", "refund flight", "cancelled flight money back")]
    logs = ["refund flight money", "dog plane"]
    # The same texts unguided: the only difference left is where the targets point.
    plain = adapt_model(base, [*logs, *entry_texts(guide)], teacher, tmp_path / "plain")
    guided = adapt_model(base, logs, teacher, tmp_path / "guided", guide=guide)
    assert plain.guided_queries == 0 and plain.queries == 4
    assert guided.queries == 4  # the folder's two texts joined the two log queries
    assert guided.guided_queries >= 2 and guided.guided_entries == 1
    config = json.loads((tmp_path / "guided" / "config.json").read_text())
    assert config["remedy_adapted"]["guided_queries"] == guided.guided_queries
    guided_vectors = load_embedder(str(tmp_path / "guided")).encode(logs)
    assert not np.allclose(guided_vectors, load_embedder(str(tmp_path / "plain")).encode(logs))


def test_held_out_texts_stay_out_of_the_probe_fit(tmp_path: Path) -> None:
    base = write_tiny_model(tmp_path / "base")
    guide = [entry("refund", "refund flight", "bag money back")]
    result = adapt_model(base, ["refund flight money", "dog plane"], bag_of_words_teacher(10), tmp_path / "out",
                         guide=guide, held_out=["Bag money back?"])
    assert result.probe_vectors is not None
    bag = VOCAB.index("bag")  # occurs only in the held-out example: the main fit moves it, the probe does not
    written = np.asarray(load_embedder(str(tmp_path / "out"))._model.embedding, dtype=np.float32)
    base_table = np.asarray(load_embedder(str(base))._model.embedding, dtype=np.float32)
    assert not np.allclose(written[bag], base_table[bag], atol=1e-3)
    assert np.allclose(result.probe_vectors[bag], base_table[bag])
    assert adapt_model(base, ["dog plane"], bag_of_words_teacher(10), tmp_path / "plain").probe_vectors is None
