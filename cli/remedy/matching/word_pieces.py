"""Mean-pooled static embeddings from a memo of word tokenizations: model2vec's vectors, faster.

model2vec tokenizes every text with the Hugging Face tokenizer (about 25 µs a short query here, most
of `coverage`'s embedding time). For a BERT-style WordPiece or WordLevel tokenizer the tokens of a
normalized text are the tokens of its space-separated words, one after another: the normalizer works
character by character and the pre-tokenizer splits at spaces first. Log queries reuse a small
vocabulary of words (16,000 words in 1.3M occurrences at 1M rows), so each word is tokenized once and
a text's ids are assembled from its words with NumPy.

The pooling repeats model2vec's own arithmetic (tokens summed in order in float32, divided by their
count, rounded to the model's dtype), so the vectors are bit-identical to `StaticModel.encode`:
checked on construction against model2vec for a sample of texts, and by the tests. Anything this
path cannot reproduce exactly goes to model2vec: tokenizers and models of other kinds (byte-level
BPE keeps the space in its tokens, a vocabulary mapping or token weights change the sum), and texts
model2vec would truncate (longer than its character cut or `max_tokens` tokens).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Character-wise normalizers and splits at white space: tokens(a + " " + b) == tokens(a) + tokens(b).
_NORMALIZERS = {"BertNormalizer", "Lowercase", "NFD", "NFC", "NFKD", "NFKC", "StripAccents"}
_PRE_TOKENIZERS = {"BertPreTokenizer", "Whitespace", "WhitespaceSplit"}
_MODELS = {"WordPiece", "WordLevel"}
# Texts with spaces, punctuation, accents, CJK and unknown words: a tokenizer that passed the
# configuration check but splits differently is caught before any vector is made this way.
_SELF_CHECK = (
    "how do i reset my password", "refund?? for order #12345, please", "café naïve résumé",
    "退款 政策 怎么 办", "xqzvbn unknownword", "don't-stop e-mail a.b.c", "", "1,000.50 $ 20%",
)
# A float16 table up to this many values (128 MB as float32) is copied to float32 once.
_FLOAT32_COPY_VALUES = 32_000_000
# Distinct words remembered between calls; past this the memo starts again (memory stays bounded).
_MEMO_WORDS = 500_000


class WordPieceEncoder:
    """`encode(texts)` for one model2vec model, or `None` from `WordPieceEncoder.of` when it cannot be exact."""

    def __init__(self, model: Any, max_tokens: int) -> None:
        self._tokenizer = model.tokenizer
        self._unk = model.unk_token_id
        self._max_tokens = max_tokens
        self._max_chars = max_tokens * model.median_token_length  # model2vec cuts texts here before tokenizing
        self._table = np.asarray(model.embedding)
        # model2vec's mean adds float16 vectors in float32: a float32 copy of a small table saves the casts
        small = self._table.dtype == np.float16 and self._table.size <= _FLOAT32_COPY_VALUES
        self._sum_table = self._table.astype(np.float32) if small else self._table
        self._memo: dict[str, int] = {}
        self._word_ids: list[np.ndarray] = []
        self._word_raw: list[int] = []  # tokens before unknowns are dropped: what truncation counts
        self._arrays: _WordArrays | None = None  # the three lists as arrays, rebuilt when words are added
        self._lock = threading.Lock()  # `remedy serve` may encode from two threads: the memo grows under it

    @classmethod
    def of(cls, model: Any, max_tokens: int, reference: Callable[[list[str]], np.ndarray]) -> WordPieceEncoder | None:
        """The encoder for `model`, checked against `reference` (model2vec's own encode with the same
        settings) on `_SELF_CHECK`; None when it cannot give the same bits."""
        table = np.asarray(model.embedding)
        if (model.token_mapping is not None or model.weights is not None or table.ndim != 2
                or table.dtype not in (np.float16, np.float32) or not _word_separable(model.tokenizer)):
            return None
        encoder = cls(model, max_tokens)
        vectors, fallback = encoder.encode(_SELF_CHECK)
        expected = reference(list(_SELF_CHECK))
        same = not fallback.any() and vectors.dtype == expected.dtype and np.array_equal(vectors, expected)
        return encoder if same else None

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unnormalized mean vectors of `texts` (already normalized questions), and a mask of the texts
        this path leaves to model2vec (their rows are zero here)."""
        with self._lock:
            flat, lengths, raw = self._token_ids(texts)
        exact = raw <= self._max_tokens
        exact &= np.fromiter((len(text) <= self._max_chars for text in texts), dtype=bool, count=len(texts))
        out = np.zeros((len(texts), self._table.shape[1]), dtype=self._table.dtype)
        starts = np.cumsum(lengths) - lengths
        for length in np.unique(lengths[exact]):
            if length == 0:
                continue
            rows = np.flatnonzero(exact & (lengths == length))
            ids = flat[starts[rows, None] + np.arange(length)]
            # the same sum as model2vec's `embedding[ids].mean(axis=1)`: token by token, in float32
            total = self._sum_table[ids[:, 0]].astype(np.float32, copy=False)
            for column in range(1, int(length)):
                total += self._sum_table[ids[:, column]]
            out[rows] = total / np.float32(length)
        return out, ~exact

    def _token_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All texts' ids end to end, each text's count of ids, and its count before unknowns are dropped."""
        if not texts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if len(self._memo) > _MEMO_WORDS:
            self._memo, self._word_ids, self._word_raw, self._arrays = {}, [], [], None
        words = " ".join(texts).split(" ")  # a text of n spaces is n + 1 words ("" is one empty word)
        new = [word for word in dict.fromkeys(words) if word not in self._memo]
        encodings = self._tokenizer.encode_batch_fast(new, add_special_tokens=False)
        for word, encoding in zip(new, encodings, strict=True):
            self._memo[word] = len(self._word_ids)
            self._word_ids.append(np.array([i for i in encoding.ids if i != self._unk], dtype=np.int64))
            self._word_raw.append(len(encoding.ids))
        if new or self._arrays is None:
            self._arrays = _WordArrays.of(self._word_ids, self._word_raw)
        word_flat, word_lengths, word_raw = self._arrays.flat, self._arrays.lengths, self._arrays.raw
        codes = np.fromiter(map(self._memo.__getitem__, words), dtype=np.int64, count=len(words))
        lengths = word_lengths[codes]  # per word of the texts, in order
        ends = np.cumsum(lengths)
        # output position p holds id number (p - where its word starts in the output) of its word
        shift = np.repeat((np.cumsum(word_lengths) - word_lengths)[codes] - (ends - lengths), lengths)
        flat = word_flat[shift + np.arange(int(ends[-1]))]
        per_text = np.fromiter((text.count(" ") + 1 for text in texts), dtype=np.int64, count=len(texts))
        first = np.cumsum(per_text) - per_text
        return flat, np.add.reduceat(lengths, first), np.add.reduceat(word_raw[codes], first)


@dataclass(frozen=True)
class _WordArrays:
    flat: np.ndarray  # every word's ids, end to end
    lengths: np.ndarray  # ids per word
    raw: np.ndarray  # tokens per word before unknowns are dropped

    @classmethod
    def of(cls, word_ids: list[np.ndarray], word_raw: list[int]) -> _WordArrays:
        flat = np.concatenate(word_ids) if word_ids else np.zeros(0, dtype=np.int64)
        lengths = np.fromiter(map(len, word_ids), dtype=np.int64, count=len(word_ids))
        return cls(flat, lengths, np.asarray(word_raw, dtype=np.int64))


def _word_separable(tokenizer: Any) -> bool:
    """True when the tokenizer's configuration tokenizes space-separated words independently."""
    try:
        config = json.loads(tokenizer.to_str())
    except (AttributeError, ValueError):
        return False
    normalizer = config.get("normalizer")
    normalizers = normalizer.get("normalizers", []) if normalizer and normalizer.get("type") == "Sequence" \
        else [normalizer] if normalizer else []
    pre = config.get("pre_tokenizer") or {}
    pre_tokenizers = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    padding = config.get("padding")
    return (
        all(step.get("type") in _NORMALIZERS for step in normalizers)
        and bool(pre_tokenizers) and all(step.get("type") in _PRE_TOKENIZERS for step in pre_tokenizers)
        and (config.get("model") or {}).get("type") in _MODELS
        and (padding is None or padding.get("strategy") == {"Fixed": 0})
        # an added token is matched in the whole text before splitting: one with a space spans two words
        and not any(" " in str(token.get("content", "")) for token in config.get("added_tokens") or [])
    )
