from hypothesis import given
from hypothesis import strategies as st

from remedy.normalize import normalize_question


def test_normalization_folds_case_width_space_and_trailing_punctuation() -> None:
    assert normalize_question("  Can I get a REFUND?!  ") == "can i get a refund"
    assert normalize_question("Ｃａｎ\tI\n get a refund？") == "can i get a refund"
    assert normalize_question("Straße") == normalize_question("STRASSE")
    assert normalize_question("what's the fee?") == "what's the fee"  # inner punctuation stays


@given(st.text())
def test_normalization_is_idempotent(text: str) -> None:
    once = normalize_question(text)
    assert normalize_question(once) == once


@given(st.text(), st.sampled_from(["?", "!", ".", " ", "？", "…", "?!"]))
def test_trailing_punctuation_never_changes_identity(text: str, tail: str) -> None:
    assert normalize_question(text + tail) == normalize_question(text)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_shortcut_equals_the_unicode_path(text: str) -> None:
    """ASCII text takes a shortcut; appending a non-ASCII space (stripped again) forces the full path."""
    assert normalize_question(text) == normalize_question(text + "\u3000")


def test_ascii_white_space_of_every_kind_collapses() -> None:
    for space in ["  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", " \t "]:
        assert normalize_question(f"Refund{space}Policy?") == "refund policy"
